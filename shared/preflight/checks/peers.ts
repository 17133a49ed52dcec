// Latency and reachability towards peers, from the node's probe results. Kismatic's preflight
// at 24+ nodes failed without naming the failing IP (#1262); every finding here names the source
// node and address and the destination node, address and port. Latency is judged over the last
// few probe rounds the coordinator kept (../latency-rounds.ts), so one noisy round cannot block.
import type { Check, Finding, PeerLatency } from '../types.ts';
import type { ProbeTarget } from '../../../proto/gen/types/muster/v1/ProbeTarget.ts';
import { judgeLatency, LATENCY_ROUNDS, type LatencyVerdict } from '../latency-rounds.ts';
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

/** "(median of 5)" for one bare round; with history "(median of 3 probe rounds of 5 tries: 24.1 ms, failed, 26.3 ms)". */
function over(v: LatencyVerdict, r: PeerLatency): string {
  if (!r.rounds?.length) return `median of ${r.tries ?? 0}`;
  const n = v.rounds.length;
  const each = v.rounds.map((x) => (x.median_ms < 0 ? 'failed' : ms(x.median_ms))).join(', ');
  return `median of ${n} probe ${n === 1 ? 'round' : 'rounds'} of ${v.rounds.at(-1)!.tries} tries: ${each}`;
}

const SLOW_FIX = 'put the cluster\'s nodes in one site or zone (etcd and the API server slow down with latency), or raise cluster.preflight.max_peer_latency_ms';

export const peerLatencyCheck: Check = {
  name: 'peer-latency',
  scope: 'cluster',
  roles: 'all',
  description: `round trip to each etcd/master peer at most cluster.preflight.max_peer_latency_ms (default 10 ms), judged over the last ${LATENCY_ROUNDS} probe rounds; to sampled worker peers it warns`,
  run(ctx) {
    const max = ctx.plan.cluster.preflight.max_peer_latency_ms;
    const out: Finding[] = [];
    for (const r of ctx.peers?.latency ?? []) {
      const v = judgeLatency(r, max);
      if (!v.slow) continue;
      // Control-plane latency gates installation; a sampled worker peer's only warns. A slow
      // verdict on fewer rounds than it needs only warns too: the coordinator measures again.
      const severity = r.target?.sample || !v.settled ? 'warning' : 'error';
      const pending = v.settled ? '' : `; ${v.rounds.length} of ${LATENCY_ROUNDS} probe rounds so far, measuring again before deciding`;
      if (v.medianMs < 0) {
        const rounds = r.rounds?.length ? ` in ${v.failedRounds} of ${v.rounds.length} probe rounds` : '';
        out.push({
          severity,
          found: `no latency measurement from ${ctx.node} to ${describeTarget(r.target)}${rounds}: ${v.error || r.error || 'every try failed'}${pending}`,
          required: `${r.target?.node_name || 'the peer'} answering on its probe port`,
          fix: `check that muster-agent runs on ${r.target?.node_name || 'the peer'} and that TCP port ${r.target?.port ?? DEFAULT_PROBE_PORT} is open to ${r.target?.address || 'it'}`,
        });
      } else {
        out.push({
          severity,
          found: `round trip of ${ms(v.medianMs)} from ${ctx.node} to ${describeTarget(r.target)} (${over(v, r)})${pending}`,
          required: `at most ${max} ms (cluster.preflight.max_peer_latency_ms)`,
          fix: SLOW_FIX,
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
