// Runs every plan-change check. A check that throws refuses the change in its own name rather
// than letting a bug wave a plan through.
import type { ChangeCheck, ChangeContext, ChangeRefusal } from './check.ts';
import { errorMessage } from '../../../shared/errors/index.ts';

export function runChangeChecks(ctx: ChangeContext, checks: readonly ChangeCheck[]): ChangeRefusal[] {
  const out: ChangeRefusal[] = [];
  for (const c of checks) {
    try {
      out.push(...c.check(ctx));
    } catch (err) {
      out.push({ check: c.name, field: '', nodes: [], message: `check "${c.name}" failed: ${errorMessage(err)}; report this as a muster bug (--force applies the plan unchecked)` });
    }
  }
  return out;
}

/** One refusal as `plan apply` prints it. */
export function formatRefusal(r: ChangeRefusal): string {
  return `${r.message} [${r.check}]`;
}
