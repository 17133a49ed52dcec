// `muster node list` / `describe` and `muster status`: a status row on the wire, and one node
// in detail with what happened to it, from the committed records (no event log is kept: the
// events are the times those records carry).
import type { ClusterState, NodeStatusRow } from '../state/cluster-state.ts';
import { NotFoundError } from '../../shared/errors/index.ts';

export function statusRowOut(r: NodeStatusRow) {
  return {
    name: r.name,
    address: r.address,
    roles: r.roles,
    state: r.state,
    assigned_revision: r.assignedRevision,
    applied_revision: r.appliedRevision,
    detail: r.detail,
    last_seen_ms: r.lastSeenMs,
    agent_version: r.agentVersion,
    joined_at_ms: r.joinedAtMs,
    preflight: r.preflight,
    preflight_detail: r.preflightDetail,
    up_to_date: r.upToDate,
  };
}

export function describeNode(s: ClusterState, name: string) {
  const row = s.status().find((r) => r.name === name);
  const rec = s.nodes.table.get(name);
  if (!row || !rec) throw new NotFoundError(`node ${name} is not registered; see \`muster node list\``);
  const a = s.assignments.get(name);
  const ap = s.reports.applies.get(name);
  const override = s.assignments.overrides.get(name);
  const events: { at_ms: number; what: string }[] = [{ at_ms: rec.joinedAtMs, what: `joined from ${rec.address || 'an unknown address'} (agent ${rec.agentVersion || 'unknown'})` }];
  if (override) events.push({ at_ms: override.atMs, what: `roles pinned by an operator: ${override.roles.join(',') || 'none'}` });
  const plan = a ? s.plans.history().find((p) => p.revision === a.planRevision) : undefined;
  // Assignments carry no time of their own: the earliest they can have been computed is when
  // both the plan and the node existed.
  if (a && plan) events.push({ at_ms: Math.max(plan.appliedAtMs, rec.joinedAtMs), what: `plan revision ${a.planRevision} gave assignment revision ${a.revision}: ${a.body.roles.join(',') || 'no role'}` });
  if (ap) events.push({ at_ms: ap.atMs, what: ap.ok ? `applied revision ${ap.revision} in ${ap.durationMs} ms (${ap.files.filter((f) => f.changed).length} file(s) changed)` : `failed to apply revision ${ap.revision}: ${ap.error}` });
  if (rec.removedAtMs) events.push({ at_ms: rec.removedAtMs, what: 'removed by an operator' });
  if (row.lastSeenMs) events.push({ at_ms: row.lastSeenMs, what: row.state === 'offline' ? `last seen; ${row.detail}` : 'last seen' });
  events.sort((x, y) => x.at_ms - y.at_ms);
  return {
    status: statusRowOut(row),
    facts: s.reports.facts.get(name)?.facts ?? null,
    assignment_plan_revision: a?.planRevision ?? 0,
    override_roles: override?.roles ?? [],
    installed_roles: ap?.roles ?? [],
    waiting_reason: a || rec.removedAtMs ? '' : s.waitingReason(name),
    events,
  };
}
