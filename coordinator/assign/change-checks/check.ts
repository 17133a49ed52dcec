// Plan changes a running cluster cannot take, in the style of the plan and preflight checks:
// each rule is a small object with a stable name and a check() that returns refusals; one runner
// (runner.ts) collects them. A check sees the plan in force, the new plan, and every node: the
// roles it holds now, the roles the engine gives it under the new plan, and the roles it has
// installed (applied). `muster plan apply` refuses when any check refuses, unless --force.
import type { Plan } from '../../../shared/plan/types.ts';
import type { Role } from '../../../shared/constants.ts';

export interface ChangeNode {
  name: string;
  /** Roles the node holds now (the engine's last computation). */
  before: readonly Role[];
  /** Roles under the new plan; null when not computed (the plan-only rules still run). */
  after: readonly Role[] | null;
  /** Roles of the last assignment the node applied: what runs on it. */
  installed: readonly Role[];
  /** "" when the node holds no pod block. */
  podCidr: string;
}

export interface ChangeContext {
  old: Plan;
  next: Plan;
  /** In name order. */
  nodes: readonly ChangeNode[];
}

export interface ChangeRefusal {
  /** The check's stable name. */
  check: string;
  /** The plan field (or "roles") the refusal is about. */
  field: string;
  /** The nodes that would break (may be empty: a cluster-wide change). */
  nodes: string[];
  /** What changes, what breaks, what to do instead; starts with the field. */
  message: string;
}

export interface ChangeCheck {
  readonly name: string;
  check(ctx: ChangeContext): ChangeRefusal[];
}

export type Refuse = (field: string, nodes: readonly string[], message: string) => void;

export function defineChangeCheck(name: string, run: (ctx: ChangeContext, refuse: Refuse) => void): ChangeCheck {
  return {
    name,
    check(ctx) {
      const out: ChangeRefusal[] = [];
      run(ctx, (field, nodes, message) => out.push({ check: name, field, nodes: [...nodes], message }));
      return out;
    },
  };
}

/** Nodes that hold `role` now. */
export const holding = (ctx: ChangeContext, role: Role): string[] => ctx.nodes.filter((n) => n.before.includes(role)).map((n) => n.name);

/** Nodes that hold or run any role: a cluster exists and a change reaches it. */
export const running = (ctx: ChangeContext): string[] => ctx.nodes.filter((n) => n.before.length > 0 || n.installed.length > 0).map((n) => n.name);

/** "1 node" / "3 nodes". */
export const count = (n: number, what = 'node'): string => `${n} ${what}${n === 1 ? '' : 's'}`;
