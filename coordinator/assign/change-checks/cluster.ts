// Cluster-wide settings baked into what every node runs: the name (in certificates, kubeconfigs,
// etcd), the network type (routes or tunnels on every node), and the pod and service ranges (in
// routes, pods, the API server certificate and cluster DNS).
import type { Plan } from '../../../shared/plan/types.ts';
import { defineChangeCheck, running, count } from './check.ts';
import { formatCidr, parseCidr } from '../../../shared/plan/cidr.ts';
import { listNames } from '../order.ts';

export const clusterNameCheck = defineChangeCheck('cluster-name', (ctx, refuse) => {
  const nodes = running(ctx);
  const [from, to] = [ctx.old.cluster.name, ctx.next.cluster.name];
  if (!nodes.length || from === to) return;
  refuse('cluster.name', nodes, `cluster.name: ${from} -> ${to} renames a running cluster (${count(nodes.length)}: ${listNames(nodes)}); certificates, kubeconfigs and etcd carry the name: keep ${from}, or build a new cluster, or use --force`);
});

export const networkTypeCheck = defineChangeCheck('network-type', (ctx, refuse) => {
  const nodes = running(ctx);
  const [from, to] = [ctx.old.cluster.networking.type, ctx.next.cluster.networking.type];
  if (!nodes.length || from === to) return;
  refuse('cluster.networking.type', nodes, `cluster.networking.type: ${from} -> ${to} on a running cluster (${count(nodes.length)}: ${listNames(nodes)}); pods would lose the network between nodes while each switches: keep ${from}, or rebuild the cluster, or use --force`);
});

const sameCidr = (a: string, b: string) => {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x && y ? formatCidr(x) === formatCidr(y) : a.trim() === b.trim();
};

export const networkRangesCheck = defineChangeCheck('network-ranges', (ctx, refuse) => {
  const blocks = ctx.nodes.filter((n) => n.podCidr).map((n) => n.name);
  if (!blocks.length) return;
  const net = (p: Plan) => p.cluster.networking;
  const [o, n] = [net(ctx.old), net(ctx.next)];
  const held = `${blocks.length} ${blocks.length === 1 ? 'node holds a pod block' : 'nodes hold pod blocks'} (${listNames(blocks)})`;
  if (!sameCidr(o.pod_cidr_block, n.pod_cidr_block)) {
    refuse('cluster.networking.pod_cidr_block', blocks, `cluster.networking.pod_cidr_block: ${o.pod_cidr_block} -> ${n.pod_cidr_block} while ${held}; their pods and routes would be cut off: keep the old range, or remove those nodes first, or use --force (every node then gets a new block)`);
  }
  if (o.pod_block_size !== n.pod_block_size) {
    refuse('cluster.networking.pod_block_size', blocks, `cluster.networking.pod_block_size: ${o.pod_block_size} -> ${n.pod_block_size} while ${held}; every block would change under running pods: keep ${o.pod_block_size}, or use --force`);
  }
  if (!sameCidr(o.service_cidr_block, n.service_cidr_block)) {
    refuse('cluster.networking.service_cidr_block', blocks, `cluster.networking.service_cidr_block: ${o.service_cidr_block} -> ${n.service_cidr_block} while ${held}; existing services, the API server certificate and cluster DNS keep the old addresses: keep the old range, or rebuild the cluster, or use --force`);
  }
});
