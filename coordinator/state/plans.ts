// Plans: validation, the refusal of changes that would break a running cluster, the plan in
// force and every accepted plan with its diff. Plans are numbered in their own sequence
// (1, 2, 3...), not by store revision.
import type { Op } from '../store/store.ts';
import type { StateWriter, Table } from './writer.ts';
import { META, PREFIX, planKey, type PlanRecord } from './records.ts';
import { diffText } from '../assign/index.ts';
import { parsePlan, formatProblem, type Plan } from '../../shared/plan/index.ts';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '../../shared/errors/index.ts';

export interface CurrentPlan {
  record: PlanRecord;
  plan: Plan;
}

export interface PlanChange {
  current: CurrentPlan;
  /** The plan in force before, null for the first plan. */
  previous: CurrentPlan | null;
  /** Queues the writes that store the plan (call once, only to commit: a dry run never does). */
  ops(): Op[];
  warnings: string[];
}

export class Plans {
  readonly #t: Table<PlanRecord>;
  readonly #meta: Table<unknown>;
  readonly #clock: () => number;
  /** Parsed plans by number: the committed one and the writer's newest (usually the same). */
  readonly #parsed = new Map<number, Plan>();

  constructor(w: StateWriter, meta: Table<unknown>, clock: () => number) {
    this.#t = w.table<PlanRecord>(PREFIX.plans);
    this.#meta = meta;
    this.#clock = clock;
  }

  /** The plan in force, as committed. */
  current(): CurrentPlan | null {
    return this.#resolve(this.#meta.get(META.currentPlan), (n) => this.#t.get(planKey(n)));
  }

  /** The plan in force in the writer's view (inside a mutation). */
  latest(): CurrentPlan | null {
    return this.#resolve(this.#meta.latest(META.currentPlan), (n) => this.#t.latest(planKey(n)));
  }

  #resolve(n: unknown, record: (n: number) => PlanRecord | undefined): CurrentPlan | null {
    if (typeof n !== 'number') return null;
    const rec = record(n);
    if (!rec) throw new FailedPreconditionError('state-corrupt', `stored state names plan ${n} as current (key ${PREFIX.meta}${META.currentPlan}) but key ${PREFIX.plans}${planKey(n)} is missing`);
    let plan = this.#parsed.get(n);
    if (!plan) {
      const parsed = parsePlan(rec.text, rec.file);
      if (!parsed.plan) throw new FailedPreconditionError('state-corrupt', `stored plan ${n} (key ${PREFIX.plans}${planKey(n)}) no longer parses: ${parsed.problems.map(formatProblem).join('; ')}`);
      plan = parsed.plan;
      // Keep the two newest parses only.
      for (const k of [...this.#parsed.keys()].sort((a, b) => a - b).slice(0, Math.max(0, this.#parsed.size - 1))) this.#parsed.delete(k);
      this.#parsed.set(n, plan);
    }
    return { record: rec, plan };
  }

  /**
   * Validates a plan and returns the ops that store it (with `previous`, the plan in force, for
   * the plan-change checks, which need the assignments under the new plan and so run in
   * ClusterState), or `unchanged` when it is the plan in force already. Throws INVALID_ARGUMENT
   * naming the problems. Nothing is queued or cached until `ops()` (a dry run stores nothing).
   */
  change(text: string, file: string, force: boolean): PlanChange | { unchanged: CurrentPlan; warnings: string[] } {
    const parsed = parsePlan(text, file);
    const warnings = parsed.problems.filter((p) => p.severity === 'warning').map(formatProblem);
    if (!parsed.plan) {
      throw new InvalidArgumentError(`plan ${file} is invalid:\n${parsed.problems.filter((p) => p.severity === 'error').map(formatProblem).join('\n')}`);
    }
    const prev = this.latest();
    if (prev && prev.record.text === text) return { unchanged: prev, warnings };
    const n = (prev?.record.revision ?? 0) + 1;
    const record: PlanRecord = {
      revision: n,
      file,
      text,
      appliedAtMs: this.#clock(),
      diff: prev ? diffText(prev.record.text, text, `plan@${prev.record.revision}`, `plan@${n}`) : '',
      forced: force,
    };
    const plan = parsed.plan;
    return {
      current: { record, plan },
      previous: prev,
      ops: () => {
        this.#parsed.set(n, plan);
        return [this.#t.put(planKey(n), record), this.#meta.put(META.currentPlan, n)];
      },
      warnings,
    };
  }

  history(): PlanRecord[] {
    return this.#t.values().sort((a, b) => a.revision - b.revision);
  }

  at(n: number): PlanRecord {
    const rec = this.#t.get(planKey(n));
    if (!rec) throw new NotFoundError(`plan revision ${n} does not exist; see \`muster plan history\``);
    return rec;
  }
}
