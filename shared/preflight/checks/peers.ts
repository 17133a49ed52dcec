// Latency and reachability towards peers, from the node's probe results. Kismatic's preflight
// at 24+ nodes failed without naming the failing IP (#1262); every finding here names the source
// node and address and the destination node, address and port.
import type { Check, Finding } from '../types.ts';
import type { ProbeTarget } from '../../../proto/gen/types/muster/v1/ProbeTarget.ts';
import { num } from '../read.ts';
import { ms } from '../units.ts';
import { DEFAULT_PROBE_PORT } from '../../constants.ts';
import { ROLE_PORTS } from '../role-ports.ts';

export function describeTarget(t: ProbeTarget | null | undefined): string {
  if (!t) return 'an unnamed peer';
  return `${t.node_name || '?'} at ${t.address || '?'}:${t.port ?? '?'}`;
}

function portName(port: number): string {
  if (port === DEFAULT_PROBE_PORT) return 'muster-agent probe port';
  return ROLE_PORTS.find((p) => p.port === port)?.component ?? `port ${port}`;
}

export const peerLatencyCheck: Check = {
  name: 'peer-latency',
  scope: 'cluster',
  roles: 'all',
  description: 'round trip to each etcd/master peer at most cluster.preflight.max_peer_latency_ms (default 10 ms); to sampled worker peers it warns',
  run(ctx) {
    const max = ctx.plan.cluster.preflight.max_peer_latency_ms;
    const out: Finding[] = [];
    for (const r of ctx.peers?.latency ?? []) {
      const median = num(r.median_ms);
      const tries = r.tries ?? 0;
      // Control-plane latency gates installation; a sampled worker peer's only warns.
      const severity = r.target?.sample ? 'warning' : 'error';
      if (median < 0) {
        out.push({
          severity,
          found: `no latency measurement from ${ctx.node} to ${describeTarget(r.target)}: ${r.error || 'every try failed'}`,
          required: `${r.target?.node_name || 'the peer'} answering on its probe port`,
          fix: `check that muster-agent runs on ${r.target?.node_name || 'the peer'} and that TCP port ${r.target?.port ?? DEFAULT_PROBE_PORT} is open to ${r.target?.address || 'it'}`,
        });
      } else if (median > max) {
        out.push({
          severity,
          found: `round trip of ${ms(median)} from ${ctx.node} to ${describeTarget(r.target)} (median of ${tries})`,
          required: `at most ${max} ms (cluster.preflight.max_peer_latency_ms)`,
          fix: 'put the cluster\'s nodes in one site or zone (etcd and the API server slow down with latency), or raise cluster.preflight.max_peer_latency_ms',
        });
      }
    }
    return out;
  },
};

export const peerReachCheck: Check = {
  name: 'peer-reach',
  scope: 'cluster',
  roles: 'all',
  description: 'the ports this node must reach on its peers accept connections (names source and destination)',
  run(ctx) {
    const out: Finding[] = [];
    for (const r of ctx.peers?.reach ?? []) {
      if (r.ok) continue;
      const t = r.target;
      // Without a source address (the connect failed before binding) the node name stands in.
      const src = r.source_address || ctx.node;
      const port = t?.port ?? 0;
      out.push({
        severity: 'error',
        found: `${ctx.node}${r.source_address ? ` (from ${r.source_address})` : ''} unable to reach ${describeTarget(t)}: ${r.error || 'connection failed'}`,
        required: `TCP ${src} -> ${t?.address || '?'}:${port} open (${portName(port)})`,
        fix: `open TCP port ${port} from ${src} to ${t?.address || 'the peer'} in host firewalls and security groups, and check that muster-agent runs on ${t?.node_name || 'the peer'} (it listens on its role ports during preflight)`,
      });
    }
    return out;
  },
};
