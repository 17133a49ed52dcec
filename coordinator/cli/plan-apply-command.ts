// `muster plan apply FILE [--force] [--dry-run] [--wait [--timeout D]] [--json]`: send a plan to
// the coordinator; refused changes (coordinator/assign/change-checks) need --force; --dry-run
// shows what each node would get and what would be refused; --wait follows the rollout.
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import type { CliIO } from '../../shared/cli/io.ts';
import { UsageError } from '../../shared/errors/index.ts';
import type { Admin } from '../admin/client.ts';
import { PLAN_APPLY_OPTIONS, withAdmin, describeState } from './admin-commands.ts';
import { interruptSignal, parseTimeout, sleep } from './status-watch.ts';

export const PLAN_APPLY_USAGE = 'muster plan apply FILE [--force] [--dry-run] [--wait [--timeout 10m]] [--json]';
const DEFAULT_WAIT_MS = 10 * 60_000;
const POLL_MS = 500;

export async function planApplyCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: PLAN_APPLY_OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'plan apply takes one plan file' : `which plan? usage: ${PLAN_APPLY_USAGE}`);
  if (values['dry-run'] && values.wait) throw new UsageError('--dry-run stores nothing, so there is nothing to --wait for');
  if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout goes with --wait');
  const waitMs = parseTimeout('--timeout', values.timeout, DEFAULT_WAIT_MS);
  const file = positionals[0]!;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    io.err(`cannot read plan file ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    return 2;
  }
  return withAdmin(values, io, async (a) => {
    const res = await a.call('ApplyPlan', { plan_yaml: text, file_name: file, force: values.force, dry_run: values['dry-run'] });
    for (const w of res.warnings) io.err(w);
    if (values.json && !values.wait) {
      io.out(JSON.stringify(res, null, 2));
      return res.dry_run && res.refusals.length && !values.force ? 1 : 0;
    }
    if (res.dry_run) return printDryRun(res, file, values.force, io);
    if (res.unchanged) {
      io.out(`plan revision ${res.plan_revision} is this plan already; nothing changed`);
      return 0;
    }
    if (res.refusals.length) io.err(`forced past ${res.refusals.length} refusal(s): ${res.refusals.map((r) => `${r.check}${r.nodes.length ? ` (${r.nodes.join(', ')})` : ''}`).join('; ')}`);
    io.out(`plan revision ${res.plan_revision}: ${res.changed_nodes.length} node(s) get a new assignment${res.changed_nodes.length ? `: ${res.changed_nodes.join(', ')}` : ''}`);
    if (!values.wait) return 0;
    return waitForRollout(a, res.plan_revision, res.changed_nodes, waitMs, io, values.json);
  });
}

function printDryRun(res: { plan_revision: number | string; node_changes: { name: string; roles_before: string[]; roles_after: string[]; fields: string[] }[]; refusals: { check: string; message: string }[]; unchanged: boolean }, file: string, force: boolean, io: CliIO): number {
  if (res.unchanged) {
    io.out(`dry run: ${file} is plan revision ${res.plan_revision} already; nothing would change`);
    return 0;
  }
  io.out(`dry run: ${file} would be plan revision ${res.plan_revision}; ${res.node_changes.length} node(s) would get a new assignment${res.node_changes.length ? ':' : ''}`);
  const roles = (r: string[]) => r.join(',') || 'none';
  for (const c of res.node_changes) {
    const same = roles(c.roles_before) === roles(c.roles_after);
    io.out(`  ${c.name}: roles ${same ? roles(c.roles_after) : `${roles(c.roles_before)} -> ${roles(c.roles_after)}`}`);
    for (const f of c.fields) io.out(`      ${f}`);
  }
  if (!res.refusals.length) {
    io.out('no refusals: muster plan apply would accept it');
    return 0;
  }
  io.out(`${force ? 'refusals --force would override' : 'would be refused'} (${res.refusals.length}):`);
  for (const r of res.refusals) io.out(`  - ${r.message} [${r.check}]`);
  return force ? 0 : 1;
}

interface Progress {
  done: string[];
  failed: string[];
  pending: string[];
  lines: Map<string, string>;
}

async function waitForRollout(a: Admin, planRevision: number | string, nodes: string[], limitMs: number, io: CliIO, json: boolean): Promise<number> {
  if (!nodes.length) {
    io.out('no node gets a new assignment: nothing to wait for');
    return 0;
  }
  const { signal, release } = interruptSignal(io);
  const deadline = Date.now() + limitMs;
  let shown = '';
  let p: Progress = { done: [], failed: [], pending: nodes, lines: new Map() };
  try {
    for (let i = 0; i < limitMs / POLL_MS + 1 && !signal.aborted; i++) {
      const st = await a.call('Status', {});
      p = { done: [], failed: [], pending: [], lines: new Map() };
      for (const name of nodes) {
        const n = st.nodes.find((x) => x.name === name);
        // Gone, removed, or left with no assignment: nothing more to apply.
        if (!n || n.state === 'removed' || !Number(n.assigned_revision) || n.up_to_date) p.done.push(name);
        else if (n.state === 'failed' || n.state === 'offline') p.failed.push(name);
        else p.pending.push(name);
        if (n) p.lines.set(name, describeState(n));
      }
      const line = `${p.done.length}/${nodes.length} applied${p.pending.length ? `; waiting for ${p.pending.map((x) => `${x} (${p.lines.get(x)})`).join(', ')}` : ''}${p.failed.length ? `; not applying: ${p.failed.map((x) => `${x} (${p.lines.get(x)})`).join(', ')}` : ''}`;
      if (line !== shown && !json) io.err((shown = line));
      if (!p.pending.length || Date.now() >= deadline) break;
      await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), signal);
    }
  } finally {
    release();
  }
  const ok = !p.pending.length && !p.failed.length;
  if (json) io.out(JSON.stringify({ plan_revision: Number(planRevision), applied: p.done, failed: p.failed, pending: p.pending, ok }, null, 2));
  if (ok) {
    if (!json) io.out(`plan revision ${planRevision}: all ${nodes.length} node(s) applied their assignment`);
    return 0;
  }
  if (!json) {
    for (const x of p.failed) io.err(`muster: ${x}: ${p.lines.get(x)}`);
    if (p.pending.length) io.err(`muster: ${signal.aborted ? 'stopped waiting' : `timed out after ${Math.round(limitMs / 1000)}s`}; not applied yet: ${p.pending.map((x) => `${x} (${p.lines.get(x) ?? 'unknown'})`).join(', ')}; see muster status`);
  }
  return 1;
}
