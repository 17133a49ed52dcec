// Plan validation in kubeadm's preflight style: each rule is a small object with a stable name
// and a check() that returns its findings; one runner (runner.ts) collects them all. A check
// reads the compiled plan (defaults filled) and asks the source where a field sits.
import type { Plan } from '../types.ts';
import type { PlanProblem, Severity } from '../problem.ts';
import type { PlanSource } from '../source.ts';
import type { TypeIssue } from '../compile.ts';

export type PlanFormat = 'muster' | 'kismatic';

export interface CheckContext {
  format: PlanFormat;
  source: PlanSource;
  plan: Plan;
  /** Wrong-type values met while compiling (reported by the `type` check). */
  typeIssues: readonly TypeIssue[];
  /** Known field names per level for the unknown-field check (Kismatic's for a Kismatic file). */
  knownKeys: KeyTree;
}

/** Known keys below a mapping; ANY_KEYS accepts every key and does not look further. */
export type KeyTree = { readonly [key: string]: KeyTree | typeof ANY_KEYS | null } | typeof ANY_KEYS;
export const ANY_KEYS = '*' as const;

export interface PlanCheck {
  /** Stable rule name, printed with every problem. */
  readonly name: string;
  check(ctx: CheckContext): PlanProblem[];
}

export interface Reporter {
  error(path: string, message: string, fix: string): void;
  warning(path: string, message: string, fix: string): void;
}

/** Builds a check whose findings carry its name and the position of the field they name. */
export function defineCheck(name: string, run: (ctx: CheckContext, report: Reporter) => void): PlanCheck {
  return {
    name,
    check(ctx) {
      const out: PlanProblem[] = [];
      const add = (severity: Severity) => (path: string, message: string, fix: string) => {
        out.push(problemAt(ctx.source, name, severity, path, message, fix));
      };
      run(ctx, { error: add('error'), warning: add('warning') });
      return out;
    },
  };
}

export function problemAt(source: PlanSource, rule: string, severity: Severity, path: string, message: string, fix: string): PlanProblem {
  const { line, column } = source.locate(path);
  return { severity, rule, file: source.file, line, column, path: source.display(path), message, fix };
}
