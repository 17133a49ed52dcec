// One finding of plan validation. Every problem names where (file:line:column and the field
// path), what is wrong and what to do, so it can be printed as one line a user can act on.
export type Severity = 'error' | 'warning';

export interface PlanProblem {
  severity: Severity;
  /** Stable rule name, e.g. "cidr-overlap". */
  rule: string;
  file: string;
  /** 1-based; 0 when the problem has no single position (e.g. a missing top-level field). */
  line: number;
  column: number;
  /** Field path, e.g. "cluster.networking.pod_cidr_block" or "worker.nodes[2].ip". */
  path: string;
  message: string;
  /** What to do about it. */
  fix: string;
}

export function formatProblem(p: PlanProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${where}: ${p.severity}: ${p.path ? `${p.path}: ` : ''}${p.message}${p.fix ? ` (${p.fix})` : ''} [${p.rule}]`;
}
