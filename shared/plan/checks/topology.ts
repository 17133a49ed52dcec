// Role counts and group sizes: etcd quorum sizes, master count and its load balancer, and
// expected_count against named nodes and pools (REFERENCE.md section 1; Kismatic's rules).
import { defineCheck } from './check.ts';
import { GROUP_NAMES } from '../groups.ts';
import { parseIp } from '../cidr.ts';
import { hostnameErrors } from '../k8s-names.ts';
import { formatPath } from '../source.ts';
import { wholeSecondsOf } from '../duration.ts';
import { APISERVER_SHUTDOWN_DELAY_MAX_S } from '../../constants.ts';

export const etcdCountCheck = defineCheck('etcd-count', (ctx, r) => {
  const n = ctx.plan.etcd.expected_count;
  const path = 'etcd.expected_count';
  if (n === 0) r.error(path, 'the cluster has no etcd nodes', 'set etcd.expected_count to 3, or 1 for development, and name the nodes or add a pool');
  else if (n % 2 === 0) r.error(path, `${n} etcd nodes is not an odd number: it survives no more failures than ${n - 1} and slows every write`, `use ${n - 1} or ${n + 1}; muster supports 1, 3, 5 or 7`);
  else if (n > 7) r.error(path, `${n} etcd nodes is more than 7: more members slow every write`, 'use 3, 5 or 7');
  else if (n === 1) r.warning(path, '1 etcd node is unsafe, development only: losing it loses all cluster data', 'use 3 etcd nodes to survive one failure');
});

export const masterCountCheck = defineCheck('master-count', (ctx, r) => {
  const n = ctx.plan.master.expected_count;
  const path = 'master.expected_count';
  if (n === 0) r.error(path, 'the cluster has no master node', 'set master.expected_count to 2, or 1 for development, and name the nodes or add a pool');
  else if (n === 1) r.warning(path, '1 master is unsafe, development only: the cluster cannot be managed while it is down', 'use 2 masters and a load balancer');
});

export const loadBalancerCheck = defineCheck('load-balancer', (ctx, r) => {
  const m = ctx.plan.master;
  if (m.load_balancer) {
    const problem = hostPortProblem(m.load_balancer);
    if (problem) r.error('master.load_balancer', `"${m.load_balancer}" ${problem}`, 'write host:port of the load balancer or virtual IP, e.g. k8s.example.com:6443 or 10.0.0.10:6443');
  }
  if (m.load_balanced_fqdn && hostnameErrors(m.load_balanced_fqdn.toLowerCase()).length) {
    r.error('master.load_balanced_fqdn', `"${m.load_balanced_fqdn}" is not a DNS name`, 'write a fully qualified name such as k8s.example.com');
  }
  if (m.load_balanced_short_name && hostnameErrors(m.load_balanced_short_name.toLowerCase()).length) {
    r.error('master.load_balanced_short_name', `"${m.load_balanced_short_name}" is not a DNS name`, 'write a short host name such as k8s');
  }
  if (m.expected_count >= 2 && !m.load_balancer && !m.load_balanced_fqdn) {
    r.error(
      'master.load_balancer',
      `${m.expected_count} masters need a load-balanced address for the API server`,
      'set master.load_balancer to host:port of a load balancer or virtual IP, or master.load_balanced_fqdn to a DNS name that resolves to all masters',
    );
  }
});

/** The API servers' shutdown delay: whole seconds, at most 10 minutes; 0 behind a load balancer drops requests on every restart. */
export const shutdownDelayCheck = defineCheck('apiserver-shutdown-delay', (ctx, r) => {
  const path = 'master.apiserver_shutdown_delay';
  const m = ctx.plan.master;
  const text = m.apiserver_shutdown_delay;
  const s = wholeSecondsOf(text);
  const fix = "set it a little above the load balancer's health-check interval times the failures that mark a server down, e.g. 15s (HAProxy's defaults) or 35s (AWS NLB: 10s x 3)";
  if (s === null) r.error(path, `"${text}" is not a duration in whole seconds`, /^\d+$/.test(text.trim()) ? `give the unit: ${text.trim()}s` : 'write seconds or minutes such as 15s, 30s or 2m');
  else if (s < 0) r.error(path, `"${text}" is negative`, 'write 0s for no delay, or a delay such as 30s');
  else if (s > APISERVER_SHUTDOWN_DELAY_MAX_S) {
    r.error(path, `"${text}" is longer than ${APISERVER_SHUTDOWN_DELAY_MAX_S / 60} minutes: every API server restart (upgrade, certificate renewal, CA rotation) would keep that master out of rotation this long`, fix);
  } else if (s === 0 && (m.load_balancer || m.load_balanced_fqdn)) {
    r.warning(path, 'no shutdown delay behind a load balancer: a restarting API server stops listening while the balancer still sends it requests, and they fail', fix);
  }
});

function hostPortProblem(text: string): string | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(text.trim());
  if (!m) return 'is not host:port';
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `has port ${m[3]}, outside 1-65535`;
  if (m[1] !== undefined && parseIp(host)?.family !== 6) return 'has an invalid IPv6 address in brackets';
  if (!parseIp(host) && hostnameErrors(host.toLowerCase()).length) return `has host "${host}", which is neither an IP address nor a DNS name`;
  return null;
}

export const expectedCountCheck = defineCheck('expected-count', (ctx, r) => {
  for (const g of GROUP_NAMES) {
    const group = ctx.plan[g];
    if (group.pool) continue; // pool-count covers groups with a pool
    const named = group.nodes.length;
    if (group.expected_count === named) continue;
    const diff = group.expected_count - named;
    r.error(
      `${g}.expected_count`,
      `expected_count is ${group.expected_count} but ${named} ${named === 1 ? 'node is' : 'nodes are'} listed in ${g}.nodes`,
      diff > 0
        ? `list ${diff} more ${diff === 1 ? 'node' : 'nodes'}, set expected_count to ${named}, or add a pool to fill the rest from registering nodes`
        : `remove ${-diff} ${diff === -1 ? 'node' : 'nodes'} or set expected_count to ${named}`,
    );
  }
});

export const poolCountCheck = defineCheck('pool-count', (ctx, r) => {
  for (const g of GROUP_NAMES) {
    const group = ctx.plan[g];
    if (!group.pool) continue;
    const named = group.nodes.length;
    if (ctx.typeIssues.some((t) => formatPath(t.path) === `${g}.expected_count`)) continue; // reported by the type check
    if (!ctx.source.has(`${g}.expected_count`)) {
      r.error(`${g}.pool`, `a pool needs ${g}.expected_count: how many nodes the group should have in all`, `set ${g}.expected_count`);
    } else if (group.expected_count < named) {
      r.error(`${g}.expected_count`, `expected_count is ${group.expected_count}, fewer than the ${named} nodes listed in ${g}.nodes`, `set expected_count to at least ${named}`);
    } else if (group.expected_count === named) {
      r.warning(`${g}.pool`, `the pool is never used: the ${named} listed nodes already make expected_count ${group.expected_count}`, `raise ${g}.expected_count above ${named} or remove the pool`);
    }
  }
});
