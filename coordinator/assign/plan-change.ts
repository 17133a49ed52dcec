// Plan changes that would break a running cluster. `muster plan apply` refuses them unless forced;
// each reason names the field, what breaks, and what to do instead.
import type { Plan } from '../../shared/plan/types.ts';
import type { NodeAssignmentState } from './types.ts';
import { formatCidr, parseCidr } from '../../shared/plan/cidr.ts';
import { compareText, listNames } from './order.ts';

export function checkPlanChange(oldPlan: Plan, newPlan: Plan, state: ReadonlyMap<string, NodeAssignmentState>): string[] {
  const reasons: string[] = [];
  const entries = [...state].sort((a, b) => compareText(a[0], b[0]));
  const holding = (role: 'etcd' | 'master') => entries.filter(([, s]) => s.roles.includes(role)).map(([name]) => name);

  // etcd: losing a majority of the members at once loses quorum; an even count tolerates no more
  // failures than the odd count below it.
  const members = holding('etcd');
  const oldCount = oldPlan.etcd.expected_count;
  const newCount = newPlan.etcd.expected_count;
  if (members.length > 0 && newCount < oldCount) {
    const quorum = Math.floor(members.length / 2) + 1;
    if (newCount < quorum) {
      reasons.push(`etcd.expected_count: ${oldCount} -> ${newCount} is below the quorum (${quorum}) of the ${members.length} current members (${listNames(members)}); etcd would stop: shrink by one member at a time (muster node assign NAME --role ...), or use --force`);
    }
    if (newCount > 0 && newCount % 2 === 0) {
      reasons.push(`etcd.expected_count: ${oldCount} -> ${newCount} is an even count, which survives no more failures than ${newCount - 1}: use ${newCount - 1} or ${newCount + 1}, or use --force`);
    }
  }

  // Members that came from the pool keep their seats only while the group has a pool.
  if (members.length > 0 && oldPlan.etcd.pool && !newPlan.etcd.pool && newPlan.etcd.nodes.length < Math.floor(members.length / 2) + 1) {
    reasons.push(`etcd.pool: removing the pool leaves ${newPlan.etcd.nodes.length} named ${newPlan.etcd.nodes.length === 1 ? 'node' : 'nodes'} for ${members.length} current members (${listNames(members)}); members not named lose the role and etcd loses quorum: name the current members under etcd.nodes first, or keep the pool, or use --force`);
  }

  // Pod and service ranges are written into every node's routes, pods and certificates.
  const blocks = entries.filter(([, s]) => s.podCidr).map(([name]) => name);
  if (blocks.length > 0) {
    const net = (p: Plan) => p.cluster.networking;
    const sameCidr = (a: string, b: string) => {
      const x = parseCidr(a);
      const y = parseCidr(b);
      return x && y ? formatCidr(x) === formatCidr(y) : a.trim() === b.trim();
    };
    const held = `${blocks.length} ${blocks.length === 1 ? 'node holds a pod block' : 'nodes hold pod blocks'} (${listNames(blocks)})`;
    if (!sameCidr(net(oldPlan).pod_cidr_block, net(newPlan).pod_cidr_block)) {
      reasons.push(`cluster.networking.pod_cidr_block: ${net(oldPlan).pod_cidr_block} -> ${net(newPlan).pod_cidr_block} while ${held}; their pods and routes would be cut off: keep the old range, or remove those nodes first, or use --force (every node then gets a new block)`);
    }
    if (net(oldPlan).pod_block_size !== net(newPlan).pod_block_size) {
      reasons.push(`cluster.networking.pod_block_size: ${net(oldPlan).pod_block_size} -> ${net(newPlan).pod_block_size} while ${held}; every block would change under running pods: keep ${net(oldPlan).pod_block_size}, or use --force`);
    }
    if (!sameCidr(net(oldPlan).service_cidr_block, net(newPlan).service_cidr_block)) {
      reasons.push(`cluster.networking.service_cidr_block: ${net(oldPlan).service_cidr_block} -> ${net(newPlan).service_cidr_block} while ${held}; existing services, the API server certificate and cluster DNS keep the old addresses: keep the old range, or rebuild the cluster, or use --force`);
    }
  }

  // Masters: a group that can hold no master leaves the cluster without an API server.
  const masters = holding('master');
  const m = newPlan.master;
  const canHoldMaster = m.expected_count > 0 && (m.nodes.length > 0 || m.pool !== null);
  if (masters.length > 0 && !canHoldMaster) {
    const why = m.expected_count <= 0 ? `master.expected_count is ${m.expected_count}` : 'master names no nodes and has no pool';
    reasons.push(`master: ${why}, which takes the role from every current master (${listNames(masters)}) and leaves the cluster without an API server: keep at least one master, or use --force`);
  }
  return reasons;
}
