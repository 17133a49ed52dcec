// Preflight reports as text: one line per result for logs and the coordinator's status detail,
// and a table per node for `muster-agent inspect` and the admin CLI.
import type { CheckResult, PreflightReport } from './types.ts';

const LABEL: Record<CheckResult['severity'], string> = { error: 'ERROR', warning: 'WARNING', ignored: 'IGNORED' };

/** "node-a: ERROR hardware-memory: found 1 GiB of RAM; required at least 2 GiB (production master); fix: ..." */
export function formatResult(r: CheckResult): string {
  return `${r.node}: ${LABEL[r.severity]} ${r.check}: found ${r.found}; required ${r.required}; fix: ${r.fix}${r.fixableByAgent ? ' (the agent can fix this)' : ''}`;
}

/** Counts, e.g. "2 errors, 1 warning, 1 ignored". */
export function summarize(report: PreflightReport): string {
  const n = (s: CheckResult['severity']) => report.results.filter((r) => r.severity === s).length;
  const part = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  return `${part(n('error'), 'error', 'errors')}, ${part(n('warning'), 'warning', 'warnings')}, ${n('ignored')} ignored`;
}

/**
 * A table: every check that ran, with "ok" or each of its results and what to do.
 *
 *   CHECK              RESULT   DETAIL
 *   hardware-memory    ERROR    found 1 GiB of RAM
 *                               required at least 2 GiB (production master)
 *                               fix: give the machine 2 GiB of RAM or more
 */
export function formatReportTable(report: PreflightReport): string {
  const names = [...new Set([...report.checks, ...report.results.map((r) => r.check)])];
  const w = Math.max(5, ...names.map((n) => n.length)) + 2;
  const pad = (s: string, n: number) => s + ' '.repeat(Math.max(1, n - s.length));
  const indent = ' '.repeat(w + 9);
  const lines = [`${pad('CHECK', w)}${pad('RESULT', 9)}DETAIL`];
  for (const name of names) {
    const rs = report.results.filter((r) => r.check === name);
    if (rs.length === 0) lines.push(`${pad(name, w)}ok`);
    for (const r of rs) {
      lines.push(`${pad(name, w)}${pad(LABEL[r.severity], 9)}found ${r.found}`);
      lines.push(`${indent}required ${r.required}`);
      lines.push(`${indent}fix: ${r.fix}${r.fixableByAgent ? ' (the agent can fix this)' : ''}`);
    }
  }
  lines.push(`${report.node}: ${report.ok ? 'preflight passed' : 'preflight FAILED'} (${summarize(report)})`);
  return `${lines.join('\n')}\n`;
}
