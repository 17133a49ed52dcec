// Runs every plan check and returns all findings in file order. A check that throws is reported
// as an error of that check rather than hiding the findings of the others.
import type { PlanProblem } from '../problem.ts';
import type { CheckContext, PlanCheck } from './check.ts';
import { errorMessage } from '../../errors/index.ts';

export function runChecks(ctx: CheckContext, checks: readonly PlanCheck[]): PlanProblem[] {
  const problems: PlanProblem[] = [];
  for (const c of checks) {
    try {
      problems.push(...c.check(ctx));
    } catch (err) {
      problems.push({
        severity: 'error', rule: c.name, file: ctx.source.file, line: 0, column: 0, path: '',
        message: `check "${c.name}" failed: ${errorMessage(err)}`, fix: 'report this as a muster bug',
      });
    }
  }
  return sortProblems(problems);
}

/** File order; problems without a position (line 0) last. Stable for equal positions. */
export function sortProblems(problems: PlanProblem[]): PlanProblem[] {
  const key = (p: PlanProblem) => (p.line === 0 ? Number.MAX_SAFE_INTEGER : p.line * 1e6 + p.column);
  return problems.map((p, i) => [p, i] as const).sort((a, b) => key(a[0]) - key(b[0]) || a[1] - b[1]).map(([p]) => p);
}
