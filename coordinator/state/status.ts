// `muster status`: one row per node, derived purely from committed records. No IO, no clock
// beyond what is passed in.
import type { ApplyRecord, CommittedAssignment, NodeRecord } from './records.ts';
import type { NodePreflight } from '../preflight/tracker.ts';
import type { Role } from '../../shared/constants.ts';

export type NodeState = 'joined' | 'reporting' | 'applied' | 'applying' | 'failed' | 'waiting' | 'blocked' | 'removed';

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
}

export interface StatusInputs {
  nodes: readonly NodeRecord[];
  assignment(name: string): CommittedAssignment | undefined;
  apply(name: string): ApplyRecord | undefined;
  hasFacts(name: string): boolean;
  preflight(name: string): NodePreflight | null;
  lastSeen(name: string): number;
  waitingReason(name: string): string;
}

export function deriveStatus(i: StatusInputs): NodeStatusRow[] {
  const rows: NodeStatusRow[] = [];
  for (const n of [...i.nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    const a = n.removedAtMs ? undefined : i.assignment(n.name);
    const ap = i.apply(n.name);
    const pf = n.removedAtMs ? null : i.preflight(n.name);
    let state: NodeState;
    let detail = '';
    if (n.removedAtMs) {
      state = 'removed';
      detail = `removed at ${new Date(n.removedAtMs).toISOString()}`;
    } else if (a && ap && ap.revision === a.revision && ap.ok) state = 'applied';
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
      lastSeenMs: i.lastSeen(n.name),
      agentVersion: n.agentVersion,
      joinedAtMs: n.joinedAtMs,
      preflight: pf?.state ?? '',
      preflightDetail: pf?.detail ?? '',
    });
  }
  return rows;
}
