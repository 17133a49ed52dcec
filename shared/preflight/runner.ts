// The one preflight runner: runs the checks that apply to the node's roles, stamps each finding
// with the check and node, and turns errors of ignored checks into "ignored" results (kubeadm's
// --ignore-preflight-errors). A check that throws is reported as an error of that check, so one
// bug cannot hide the other results.
import type { Check, CheckResult, PreflightContext, PreflightReport } from './types.ts';
import { DEFAULT_CHECKS } from './checks/index.ts';
import { errorMessage } from '../errors/index.ts';

/** The ignore-list entry that ignores every check, as in kubeadm. */
export const IGNORE_ALL = 'all';
/** Name under which the runner reports problems of the ignore list itself. */
export const IGNORE_LIST_CHECK = 'ignore-list';

function applies(check: Check, ctx: PreflightContext): boolean {
  return check.roles === 'all' || check.roles.some((r) => ctx.roles.includes(r));
}

/**
 * Runs `checks` for one node. `ignore` adds to cluster.preflight.ignore (e.g. a command-line
 * flag). The report is ok when no result is an unignored error.
 */
export function runPreflight(ctx: PreflightContext, checks: readonly Check[] = DEFAULT_CHECKS, ignore: readonly string[] = []): PreflightReport {
  const ignored = new Set([...ctx.plan.cluster.preflight.ignore, ...ignore].map((n) => n.trim().toLowerCase()).filter(Boolean));
  const ignoreAll = ignored.has(IGNORE_ALL);
  const results: CheckResult[] = [];
  const ran: string[] = [];

  // Names of the default checks stay valid when a caller runs a subset (inspect skips some).
  const known = new Set([...DEFAULT_CHECKS, ...checks].map((c) => c.name));
  for (const name of ignored) {
    if (name === IGNORE_ALL || known.has(name)) continue;
    results.push({
      check: IGNORE_LIST_CHECK, node: ctx.node, severity: 'warning', fixableByAgent: false,
      found: `unknown check name "${name}" in the ignore list`,
      required: `one of: ${[...known].join(', ')}, or "${IGNORE_ALL}"`,
      fix: 'correct the name in cluster.preflight.ignore (or --ignore); as written it ignores nothing',
    });
  }

  for (const check of checks) {
    if (!applies(check, ctx)) continue;
    ran.push(check.name);
    let findings;
    try {
      findings = check.run(ctx);
    } catch (err) {
      findings = [{ severity: 'error' as const, found: `the check failed: ${errorMessage(err)}`, required: 'a check that completes', fix: 'report this as a muster bug; ignore the check to proceed' }];
    }
    const isIgnored = ignoreAll || ignored.has(check.name);
    for (const f of findings) {
      results.push({
        check: check.name,
        node: ctx.node,
        severity: f.severity === 'error' && isIgnored ? 'ignored' : f.severity,
        found: f.found,
        required: f.required,
        fix: f.fix,
        fixableByAgent: f.fixableByAgent ?? false,
      });
    }
  }
  return { node: ctx.node, ok: !results.some((r) => r.severity === 'error'), checks: ran, results };
}
