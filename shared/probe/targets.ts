// Which peers a node probes. Probing every pair is quadratic (10,000 nodes: 10^8 probes), so each
// node probes a bounded set: every etcd and master member (few, and the latency that matters),
// plus `workerSample` of the other nodes. Those are picked on a hash ring: nodes sit at the hash
// of their name and each node takes the next k non-control-plane nodes after its own position.
// The choice is deterministic (same membership, same targets: results compare across runs),
// spreads evenly, and every such node is probed by at least min(k, count - 1) others (the k
// before it on the ring). Total probes grow linearly: nodes * (etcd + masters + k).
//
// Pure functions: the coordinator builds one ProbeRing per membership and each node's ProbePlan
// with buildProbePlan(node, ring, ...). Shared code, not the agent's: only the coordinator plans.
import { createHash } from 'node:crypto';
import { DEFAULT_PROBE_PORT, type Role } from '../constants.ts';
import type { NetworkType } from '../plan/types.ts';
import { portsForRoles } from '../preflight/role-ports.ts';
import type { ProbePlan__Output } from '../../proto/gen/types/muster/v1/ProbePlan.ts';
import type { ProbeTarget__Output } from '../../proto/gen/types/muster/v1/ProbeTarget.ts';

export interface ProbeMember {
  name: string;
  /** The address peers use for this node (its internal/cluster address). */
  address: string;
  /** Assigned roles; empty for a registered node without one yet. */
  roles: readonly Role[];
  /** The port of this node's probe listener, as it reported; 0: not listening (no latency target). @default the plan's probePort */
  probePort?: number;
  /**
   * Whether this node has its role ports open for peers (its temporary listeners, during its own
   * preflight). Peers probe its role ports only then. @default true
   */
  listening?: boolean;
}

export interface ProbeSelectionOptions {
  /** Non-control-plane peers each node probes. @default 3 */
  workerSample?: number;
}

export const DEFAULT_WORKER_SAMPLE = 3;

const isControlPlane = (m: ProbeMember) => m.roles.includes('etcd') || m.roles.includes('master');

/** Position on the ring: a hash prefix, the name after it breaks ties. Compares as a string. */
function ringKey(name: string): string {
  return `${createHash('sha256').update(name).digest('hex').slice(0, 16)}:${name}`;
}

/**
 * The fleet prepared for selection: built once per membership (O(n log n)), then each node's
 * targets cost O(log n + etcd + masters + k). The coordinator builds one ring per plan revision
 * rather than re-hashing the fleet for every node.
 */
export interface ProbeRing {
  readonly kind: 'probe-ring';
  /** etcd and master members, by name. */
  readonly control: readonly ProbeMember[];
  /** The other members, by ring key. */
  readonly ring: ReadonlyArray<{ member: ProbeMember; key: string }>;
  readonly byName: ReadonlyMap<string, ProbeMember>;
}

export function buildProbeRing(members: readonly ProbeMember[]): ProbeRing {
  const control = members.filter(isControlPlane).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const ring = members.filter((m) => !isControlPlane(m)).map((member) => ({ member, key: ringKey(member.name) })).sort((a, b) => (a.key < b.key ? -1 : 1));
  return { kind: 'probe-ring', control, ring, byName: new Map(members.map((m) => [m.name, m])) };
}

function asRing(members: readonly ProbeMember[] | ProbeRing): ProbeRing {
  return 'kind' in members ? members : buildProbeRing(members);
}

/** First index whose key is greater than `key` (binary search); ring.length when none. */
function upperBound(ring: ProbeRing['ring'], key: string): number {
  let lo = 0;
  let hi = ring.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ring[mid]!.key <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The peers `self` probes: all etcd/master members (by name), then up to `workerSample` others
 * in ring order after self's position. Pass a ProbeRing when selecting for many nodes.
 */
export function selectProbeTargets(self: string, members: readonly ProbeMember[] | ProbeRing, options: ProbeSelectionOptions = {}): ProbeMember[] {
  const k = Math.max(0, Math.floor(options.workerSample ?? DEFAULT_WORKER_SAMPLE));
  const r = asRing(members);
  const control = r.control.filter((m) => m.name !== self);
  const n = r.ring.length;
  const sampled: ProbeMember[] = [];
  const start = upperBound(r.ring, ringKey(self));
  for (let i = 0; i < n && sampled.length < k; i++) {
    const m = r.ring[(start + i) % n]!.member;
    if (m.name !== self) sampled.push(m);
  }
  return [...control, ...sampled];
}

export interface ProbePlanOptions extends ProbeSelectionOptions {
  /** Plan id; results name it. */
  id: number;
  /** @default "overlay" (routed adds BGP port 179) */
  networking?: NetworkType;
  /** @default DEFAULT_PROBE_PORT */
  probePort?: number;
  /** Per connection. @default 1000 */
  timeoutMs?: number;
}

/**
 * The ProbePlan for `self`: latency to each selected peer's probe port, this node's role ports
 * that peers reach (to open temporarily), and the selected peers' role ports this node's roles
 * must reach (REFERENCE section 3, "who must reach it").
 */
export function buildProbePlan(self: string, members: readonly ProbeMember[] | ProbeRing, options: ProbePlanOptions): ProbePlan__Output {
  const networking = options.networking ?? 'overlay';
  const probePort = options.probePort ?? DEFAULT_PROBE_PORT;
  const r = asRing(members);
  const myRoles = r.byName.get(self)?.roles ?? [];
  const peers = selectProbeTargets(self, r, options);
  const reach: ProbeTarget__Output[] = [];
  for (const p of peers) {
    if (p.listening === false) continue;
    for (const rp of portsForRoles(p.roles, networking)) {
      if (rp.reachedBy.some((r) => myRoles.includes(r))) reach.push({ node_name: p.name, address: p.address, port: rp.port, sample: !isControlPlane(p) });
    }
  }
  return {
    id: options.id,
    latency_targets: peers.filter((p) => p.probePort !== 0).map((p) => ({ node_name: p.name, address: p.address, port: p.probePort ?? probePort, sample: !isControlPlane(p) })),
    listen_ports: portsForRoles(myRoles, networking).filter((rp) => rp.reachedBy.length > 0).map((rp) => rp.port),
    reach_targets: reach,
    timeout_ms: options.timeoutMs ?? 1000,
  };
}
