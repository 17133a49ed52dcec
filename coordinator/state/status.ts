// `muster status`: one row per node, derived purely from committed records. No IO, no clock
// beyond what is passed in.
import type { ApplyRecord, CommittedAssignment, NodeRecord } from './records.ts';
import type { NodePreflight } from '../preflight/tracker.ts';
import type { Role } from '../../shared/constants.ts';

export type NodeState = 'joined' | 'reporting' | 'applied' | 'applying' | 'failed' | 'waiting' | 'blocked' | 'offline' | 'removed';

export interface NodeStatusRow {
  name: string;
  address: string;
  roles: Role[];
  state: NodeState;
  assignedRevision: number;
  appliedRevision: number;
  detail: string;
  lastSeenMs: number;
  agentVersion: string;
  joinedAtMs: number;
  /** Preflight state ("passed", "blocked", "pending", "failing", "" when not checked). */
  preflight: string;
  preflightDetail: string;
  /** It applied its assigned revision and no rollout holds back a newer one (false with no assignment). */
  upToDate: boolean;
}

export interface StatusInputs {
  nodes: readonly NodeRecord[];
  assignment(name: string): CommittedAssignment | undefined;
  apply(name: string): ApplyRecord | undefined;
  hasFacts(name: string): boolean;
  preflight(name: string): NodePreflight | null;
  lastSeen(name: string): number;
  waitingReason(name: string): string;
  /** Why a rollout holds back the node's next assignment (coordinator/assign/rollout.ts); undefined when none. */
  held?(name: string): string | undefined;
  /** The time now, for how long a node has been silent. */
  now: number;
  /** A node silent for longer than this is offline (OFFLINE_AFTER_MS). */
  offlineAfterMs: number;
}

/** "45s", "12m", "3h", "2d". */
export function formatSilence(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export function deriveStatus(i: StatusInputs): NodeStatusRow[] {
  const rows: NodeStatusRow[] = [];
  for (const n of [...i.nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    const a = n.removedAtMs ? undefined : i.assignment(n.name);
    const ap = i.apply(n.name);
    const pf = n.removedAtMs ? null : i.preflight(n.name);
    let state: NodeState;
    let detail = '';
    const seen = i.lastSeen(n.name);
    const silentMs = i.now - seen;
    // A node a rollout holds has applied what it holds, but not what the plan gives it.
    const held = a ? i.held?.(n.name) : undefined;
    const upToDate = Boolean(a && ap && ap.ok && ap.revision === a.revision && !held);
    if (n.removedAtMs) {
      state = 'removed';
      detail = `removed at ${new Date(n.removedAtMs).toISOString()}`;
    } else if (seen > 0 && silentMs > i.offlineAfterMs) {
      // Whatever it was doing, it has stopped telling us: never "applying rev N" for a node that went.
      state = 'offline';
      detail = `offline for ${formatSilence(silentMs)} (last seen ${new Date(seen).toISOString()})${a && !(ap && ap.ok && ap.revision === a.revision) ? `; revision ${a.revision} not applied` : ''}`;
    } else if (a && ap && ap.revision === a.revision && ap.ok) {
      state = 'applied';
      if (held) detail = `next: ${held}`;
      else if (ap.drift) detail = `drift repaired ${new Date(ap.drift.atMs).toISOString()}: ${ap.drift.paths.slice(0, 3).join(', ')}${ap.drift.paths.length > 3 ? ` and ${ap.drift.paths.length - 3} more` : ''}`;
    }
    else if (a && pf?.gated) {
      state = pf.state === 'blocked' ? 'blocked' : 'waiting';
      detail = `preflight ${pf.state}: ${pf.detail}`;
    } else if (a && ap && ap.revision === a.revision && !ap.ok) {
      state = 'failed';
      detail = ap.error;
    } else if (a) {
      state = 'applying';
      detail = `revision ${a.revision} not yet applied`;
    } else if (i.hasFacts(n.name)) {
      state = 'waiting';
      detail = i.waitingReason(n.name);
    } else state = 'joined';
    rows.push({
      name: n.name,
      address: n.address,
      roles: (a?.body.roles ?? []) as Role[],
      state,
      assignedRevision: a?.revision ?? 0,
      appliedRevision: ap?.ok ? ap.revision : 0,
      detail,
      lastSeenMs: seen,
      agentVersion: n.agentVersion,
      joinedAtMs: n.joinedAtMs,
      preflight: pf?.state ?? '',
      preflightDetail: pf?.detail ?? '',
      upToDate,
    });
  }
  return rows;
}
