// Plan changes that would break a running cluster (the checks are in ./change-checks). This is
// the entry the state layer calls: it builds each node's before / after / installed view.
import type { Plan } from '../../shared/plan/types.ts';
import type { Role } from '../../shared/constants.ts';
import type { NodeAssignmentState } from './types.ts';
import { compareText } from './order.ts';
import { PLAN_CHANGE_CHECKS, runChangeChecks, type ChangeNode, type ChangeRefusal } from './change-checks/index.ts';

export interface PlanChangeInputs {
  /** The engine's state per node before the change (roles held, pod block). */
  before: ReadonlyMap<string, NodeAssignmentState>;
  /** The engine's state per node under the new plan; absent: only the plan-only rules run fully. */
  after?: ReadonlyMap<string, NodeAssignmentState>;
  /** Roles each node has installed (applied). */
  installed?: (name: string) => readonly Role[];
}

export function reviewPlanChange(oldPlan: Plan, newPlan: Plan, i: PlanChangeInputs): ChangeRefusal[] {
  const names = new Set([...i.before.keys(), ...(i.after?.keys() ?? [])]);
  const nodes: ChangeNode[] = [...names].sort(compareText).map((name) => ({
    name,
    before: i.before.get(name)?.roles ?? [],
    after: i.after ? (i.after.get(name)?.roles ?? []) : null,
    installed: i.installed?.(name) ?? [],
    podCidr: i.before.get(name)?.podCidr ?? '',
  }));
  return runChangeChecks({ old: oldPlan, next: newPlan, nodes }, PLAN_CHANGE_CHECKS);
}

/** The refusals' messages from the engine state alone (no new assignments, nothing installed). */
export function checkPlanChange(oldPlan: Plan, newPlan: Plan, state: ReadonlyMap<string, NodeAssignmentState>): string[] {
  return reviewPlanChange(oldPlan, newPlan, { before: state }).map((r) => r.message);
}
