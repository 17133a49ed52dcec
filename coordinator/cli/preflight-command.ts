// `muster preflight`: each node's preflight as the coordinator sees it (facts, roles, probe
// results), failing checks with what to do, and a summary line. Exit 0 only when every node with
// a role passed; 1 when any is blocked, pending or failing (scripts can wait for 0).
import { parseArgs } from 'node:util';
import type { CliIO } from '../../shared/cli/io.ts';
import { formatTable } from '../../shared/cli/table.ts';
import { formatReportTable, type PreflightReport, type CheckSeverity } from '../../shared/preflight/index.ts';
import type { PreflightResponse__Output } from '../../proto/gen/types/muster/v1/PreflightResponse.ts';
import type { NodePreflight__Output } from '../../proto/gen/types/muster/v1/NodePreflight.ts';
import { ADMIN_FLAGS, withAdmin } from './admin-commands.ts';

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

function toReport(n: NodePreflight__Output, withPassing: boolean): PreflightReport {
  return {
    node: n.node,
    ok: !n.results.some((r) => r.severity === 'error'),
    checks: withPassing ? n.checks : [],
    results: n.results.map((r) => ({ check: r.check, node: n.node, severity: r.severity as CheckSeverity, found: r.found, required: r.required, fix: r.fix, fixableByAgent: r.fixable_by_agent })),
  };
}

function indent(text: string, by = '    '): string {
  return text.split('\n').filter((l) => l !== '').map((l) => by + l).join('\n');
}

/** "3 nodes ready, 1 blocked" plus pending, failing and role-less counts when there are any. */
export function preflightSummary(nodes: readonly NodePreflight__Output[]): string {
  const n = (s: string) => nodes.filter((x) => x.state === s).length;
  const parts = [`${n('passed')} ${n('passed') === 1 ? 'node' : 'nodes'} ready`, `${n('blocked')} blocked`];
  if (n('pending')) parts.push(`${n('pending')} pending`);
  if (n('failing')) parts.push(`${n('failing')} failing after install`);
  if (n('')) parts.push(`${n('')} without a role`);
  return parts.join(', ');
}

export function formatPreflight(res: PreflightResponse__Output, detailed: boolean): string {
  const out: string[] = [];
  if (res.ignored.length) {
    const op = new Set(res.operator_ignored);
    out.push(`ignored checks: ${res.ignored.map((c) => (op.has(c) ? `${c} (muster preflight --ignore)` : `${c} (plan)`)).join(', ')}`);
  }
  // Nodes with the same findings (a fleet of one image: often all of them) share one table,
  // printed under the last of them, instead of the same table once per node.
  const tableOf = (n: NodePreflight__Output): string => {
    const report = toReport(n, detailed);
    if (!report.results.length && !(detailed && report.checks.length)) return '';
    // The table without its own summary line (the header line above says it).
    return indent(formatReportTable(report).trimEnd().split('\n').slice(0, -1).join('\n'));
  };
  const tables = res.nodes.map(tableOf);
  const lastWith = new Map<string, number>();
  tables.forEach((t, i) => t && lastWith.set(t, i));
  for (const [i, n] of res.nodes.entries()) {
    const state = n.state || 'not checked';
    out.push(`${n.node} (${n.address || 'no address'}, ${n.roles.join(',') || 'no role'}): ${state}${n.detail ? ` - ${n.detail}` : ''}${n.gated ? '; assignment held back' : ''}`);
    const table = tables[i]!;
    if (table && lastWith.get(table) === i) {
      const same = res.nodes.filter((_, j) => tables[j] === table);
      if (same.length > 1) out.push(`    findings of ${same.length} nodes (${same.map((x) => x.node).join(', ')}), the same for each:`);
      out.push(table);
    }
    if (detailed && n.probes && (n.probes.latency.length || n.probes.reach.length)) {
      const c = n.probes.coordinator;
      const rows = [
        ...(c ? [['latency', `coordinator ${c.target?.address}:${c.target?.port}`, c.median_ms < 0 ? `failed: ${c.error}` : `${c.median_ms.toFixed(2)} ms (TCP handshake, median of ${c.tries})`]] : []),
        ...n.probes.latency.map((l) => ['latency', `${l.target?.node_name} ${l.target?.address}:${l.target?.port}`, l.median_ms < 0 ? `failed: ${l.error}` : `${l.median_ms.toFixed(2)} ms (median of ${l.tries})`]),
        ...n.probes.reach.map((r) => ['reach', `${r.target?.node_name} ${r.target?.address}:${r.target?.port}`, r.ok ? `ok from ${r.source_address || n.address}` : `FAILED from ${r.source_address || n.address}: ${r.error}`]),
      ];
      out.push(`    probe results (plan ${n.probes.plan_id}):`);
      out.push(indent(formatTable(['PROBE', 'TARGET', 'RESULT'], rows), '      '));
    }
  }
  out.push(preflightSummary(res.nodes));
  return out.join('\n');
}

/**
 * The reachability matrix over the fleet: one row per probed pair source -> destination
 * node:port, failures first, each naming both addresses (Kismatic's inspector did not).
 */
export function formatReachMatrix(res: PreflightResponse__Output): string {
  const rows: string[][] = [];
  for (const n of res.nodes) {
    for (const r of n.probes?.reach ?? []) {
      rows.push([
        `${n.node} ${r.source_address || n.address}`,
        `${r.target?.node_name} ${r.target?.address}:${r.target?.port}`,
        r.ok ? 'ok' : `FAILED: ${r.error}`,
      ]);
    }
  }
  rows.sort((a, b) => Number(a[2] === 'ok') - Number(b[2] === 'ok') || a[0]!.localeCompare(b[0]!) || a[1]!.localeCompare(b[1]!));
  const failed = rows.filter((r) => r[2] !== 'ok').length;
  if (rows.length === 0) return 'no reachability results yet (nodes probe role ports of peers that are in preflight with them)';
  return `${formatTable(['SOURCE', 'DESTINATION', 'RESULT'], rows)}\n${rows.length} pairs probed, ${failed} failed`;
}

export const PREFLIGHT_OPTIONS = { ...ADMIN_FLAGS, json: { type: 'boolean', default: false }, reach: { type: 'boolean', default: false }, node: { type: 'string' }, ignore: { type: 'string', multiple: true }, unignore: { type: 'string', multiple: true } } as const;

export async function preflightCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args: argv, options: PREFLIGHT_OPTIONS, allowNegative: true, strict: true });
  const ignore = (values.ignore ?? []).flatMap(list);
  const unignore = (values.unignore ?? []).flatMap(list);
  return withAdmin(values, io, async (a) => {
    const res = await a.call('Preflight', { node: values.node ?? '', ignore, unignore });
    if (ignore.length || unignore.length) io.err(`cluster ignore list now: ${res.operator_ignored.join(', ') || '(empty)'} (plus the plan's cluster.preflight.ignore)`);
    if (values.json) io.out(JSON.stringify(res, null, 2));
    else io.out(values.reach ? formatReachMatrix(res) : formatPreflight(res, values.node !== undefined));
    return res.nodes.every((n) => n.state === 'passed' || n.state === '') ? 0 : 1;
  });
}
