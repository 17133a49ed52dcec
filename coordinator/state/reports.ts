// What nodes report: their facts (merged section by section; agents send only what changed)
// and how applying each assignment went.
import type { Op } from '../store/store.ts';
import type { StateWriter, Table } from './writer.ts';
import { PREFIX, type ApplyRecord, type FactsRecord } from './records.ts';
import type { Facts, FactsOut } from '../../shared/wire/types.ts';
import { stableStringify } from '../../shared/json.ts';

const FACT_SECTIONS = ['cpu', 'memory', 'disks', 'os', 'network', 'ports', 'binaries', 'kernel', 'clock'] as const;

export class Reports {
  readonly facts: Table<FactsRecord>;
  readonly applies: Table<ApplyRecord>;
  readonly #clock: () => number;

  constructor(w: StateWriter, clock: () => number) {
    this.facts = w.table<FactsRecord>(PREFIX.facts);
    this.applies = w.table<ApplyRecord>(PREFIX.applies);
    this.#clock = clock;
  }

  /** Merges the sections present in `facts` (inside a mutation); op is null when nothing changed. */
  factsOp(name: string, facts: Facts | null, full: boolean): { op: Op | null; complete: boolean } {
    const prev = this.facts.latest(name);
    const merged = { ...(prev?.facts ?? {}) } as Record<string, unknown>;
    let changed = false;
    for (const s of FACT_SECTIONS) {
      const v = (facts as Record<string, unknown> | null)?.[s];
      if (v !== null && v !== undefined && stableStringify(v) !== stableStringify(merged[s])) {
        merged[s] = v;
        changed = true;
      }
    }
    const complete = (prev?.complete ?? false) || full;
    if (!changed && complete === prev?.complete) return { op: null, complete };
    return { op: this.facts.put(name, { facts: merged as unknown as FactsOut, complete, atMs: this.#clock() }), complete };
  }

  /**
   * An apply report. `installed`: the roles of the revision the node was handed, when it applied
   * it; a failed apply, or one of a revision it was not handed, installs nothing new, so the roles
   * installed before stay.
   */
  /** `driftPaths`: files the agent restored this time; the last non-empty drift is kept for status. */
  applyOp(name: string, r: Omit<ApplyRecord, 'atMs' | 'roles' | 'drift'>, installed: ApplyRecord['roles'] | undefined, driftPaths: readonly string[] = []): Op {
    const prev = this.applies.latest(name);
    const roles = (r.ok ? installed : undefined) ?? prev?.roles;
    const now = this.#clock();
    const drift = driftPaths.length ? { paths: [...driftPaths], atMs: now } : prev?.drift;
    return this.applies.put(name, { ...r, atMs: now, ...(roles ? { roles } : {}), ...(drift ? { drift } : {}) });
  }

  removeOps(name: string): Op[] {
    return [...(this.facts.latest(name) ? [this.facts.delete(name)] : []), ...(this.applies.latest(name) ? [this.applies.delete(name)] : [])];
  }
}
