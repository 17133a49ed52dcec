// Admin commands: each talks to the running coordinator over gRPC with the admin certificate.
import { parseArgs } from 'node:util';
import type { CliIO } from '../../shared/cli/io.ts';
import { formatTable, ago, truncate, wrap } from '../../shared/cli/table.ts';
import { paint, type Colour } from '../../shared/cli/colour.ts';
import { escapeControl } from '../../shared/text/escape.ts';
import { join } from 'node:path';
import { loadAdminConfig, type AdminConfig } from '../admin/config.ts';
import { connectAdmin, type Admin } from '../admin/client.ts';
import { renewAdminIfDue } from '../admin/renew.ts';
import { parseDurationMs } from '../trust/tokens.ts';
import { UsageError, type MusterError } from '../../shared/errors/index.ts';
import type { NodeStatusOut, StatusResponseOut } from '../../shared/wire/types.ts';
import { COORDINATOR_DATA, ROLES } from '../../shared/constants.ts';
import { nodeListCommand, nodeDescribeCommand } from './node-commands.ts';
import { statusWatch } from './status-watch.ts';

import { ADMIN_FLAGS } from './admin-flags.ts';
export { ADMIN_FLAGS };

export async function withAdmin<T>(values: { 'data-dir'?: string; config?: string; coordinator?: string }, io: CliIO, fn: (a: Admin, caHash: string, cfg: AdminConfig) => Promise<T>): Promise<T> {
  let cfg: AdminConfig & { path: string } = await loadAdminConfig({ config: values.config, dataDir: values['data-dir'], coordinator: values.coordinator, env: io.env });
  let admin = connectAdmin(cfg);
  // The data dir's own admin.yaml is renewed by the coordinator itself (and refused over the wire).
  const dataDirOwn = values['data-dir'] !== undefined && cfg.path === join(values['data-dir'], COORDINATOR_DATA.adminConfig);
  try {
    const renewed = dataDirOwn
      ? null
      : await renewAdminIfDue(admin, cfg).catch((e: MusterError) => {
          // A revoked or unknown credential is refused outright: say that, not "keeps working".
          if (e.kind === 'permission-denied') throw e;
          io.err(`muster: cannot renew the admin credential in ${cfg.path} (${e.message}); it keeps working until it expires`);
          return null;
        });
    if (renewed) {
      admin.close();
      admin = connectAdmin(renewed);
      cfg = renewed;
    }
    return await fn(admin, cfg.ca_hash, cfg);
  } finally {
    admin.close();
  }
}

// Each command's flags, as parseArgs options; coordinator/cli/commands.ts adds their help.
const JSON_FLAG = { json: { type: 'boolean', default: false } } as const;
export const TOKEN_CREATE_OPTIONS = {
  ...ADMIN_FLAGS,
  ttl: { type: 'string', default: '24h' },
  uses: { type: 'string', default: '0' },
  description: { type: 'string', default: '' },
  node: { type: 'string', default: '' },
  'print-join-command': { type: 'boolean', default: false },
  ...JSON_FLAG,
} as const;
export const TOKEN_LIST_OPTIONS = { ...ADMIN_FLAGS, ...JSON_FLAG } as const;
export const TOKEN_REVOKE_OPTIONS = { ...ADMIN_FLAGS, ...JSON_FLAG } as const;
export const STATUS_OPTIONS = { ...ADMIN_FLAGS, ...JSON_FLAG, watch: { type: 'boolean', default: false }, timeout: { type: 'string' } } as const;
export const NODE_REMOVE_OPTIONS = { ...ADMIN_FLAGS, ...JSON_FLAG } as const;
export const NODE_ASSIGN_OPTIONS = { ...ADMIN_FLAGS, role: { type: 'string' }, clear: { type: 'boolean', default: false }, ...JSON_FLAG } as const;
export const PLAN_APPLY_OPTIONS = {
  ...ADMIN_FLAGS,
  force: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  ...JSON_FLAG,
} as const;
export const PLAN_HISTORY_OPTIONS = { ...ADMIN_FLAGS, ...JSON_FLAG } as const;
export const PLAN_SHOW_OPTIONS = { ...ADMIN_FLAGS, ...JSON_FLAG } as const;

const json = (value: unknown) => JSON.stringify(value, null, 2);
const iso = (ms: number | string) => new Date(Number(ms)).toISOString();

/** Longest --ttl; the coordinator refuses longer too (coordinator/state/tokens.ts). */
const MAX_TOKEN_TTL_DAYS = 365;

/** `--ttl`: a duration up to 365d, or 0 for a token that never expires (kubeadm's --ttl 0). */
export function parseTokenTtl(text: string): number {
  if (/^0+(ms|s|m|h|d)?$/.test(text)) return 0;
  let ms: number;
  try {
    ms = parseDurationMs(text);
  } catch (e) {
    throw new UsageError(`--ttl: ${(e as Error).message}; 0 = never expires`);
  }
  if (ms < 1000) throw new UsageError(`--ttl ${text} is shorter than a second; give 1s or more (0 = never expires)`);
  if (ms > MAX_TOKEN_TTL_DAYS * 86_400_000) throw new UsageError(`--ttl ${text} is longer than ${MAX_TOKEN_TTL_DAYS}d, past which a bootstrap token is a standing credential; give at most ${MAX_TOKEN_TTL_DAYS}d, or 0 for a token that never expires`);
  return ms;
}

export async function tokenCommand(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'create') {
    const { values } = parseArgs({ args: rest, options: TOKEN_CREATE_OPTIONS, allowNegative: true, strict: true });
    const ttlMs = parseTokenTtl(values.ttl);
    if (!/^\d+$/.test(values.uses)) throw new UsageError(`--uses ${values.uses}: expected a whole number (0 = unlimited)`);
    const uses = Number(values.uses);
    return withAdmin(values, io, async (a, caHash) => {
      const res = await a.call('CreateToken', { ttl_ms: ttlMs, uses, description: values.description, node_name: values.node, never_expires: ttlMs === 0 });
      const joinCommand = `muster-agent run --coordinator ${a.target} --token ${res.token} --ca-hash ${caHash}`;
      if (values.json) io.out(json({ token: res.token, id: res.token.split('.')[0], expires_at: Number(res.info?.expires_at_ms) ? iso(res.info!.expires_at_ms) : null, uses_allowed: uses, node: values.node || null, join_command: joinCommand }));
      else if (values['print-join-command']) io.out(joinCommand);
      else io.out(res.token);
      return 0;
    });
  }
  if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: TOKEN_LIST_OPTIONS, allowNegative: true, strict: true });
    return withAdmin(values, io, async (a) => {
      const res = await a.call('ListTokens', {});
      if (values.json) {
        io.out(JSON.stringify(res.tokens, null, 2));
        return 0;
      }
      const now = Date.now();
      io.out(
        formatTable(
          ['ID', 'EXPIRES', 'USES', 'STATE', 'NODE', 'DESCRIPTION'],
          res.tokens.map((t) => [
            t.id,
            Number(t.expires_at_ms) ? iso(t.expires_at_ms) : 'never',
            `${t.uses}/${t.uses_allowed || '∞'}`,
            t.revoked ? 'revoked' : Number(t.expires_at_ms) && Number(t.expires_at_ms) <= now ? 'expired' : t.uses_allowed && t.uses >= t.uses_allowed ? 'used up' : 'valid',
            t.node_name || '-',
            t.description,
          ]),
        ),
      );
      return 0;
    });
  }
  if (sub === 'revoke') {
    const { values, positionals } = parseArgs({ args: rest, options: TOKEN_REVOKE_OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
    if (positionals.length !== 1) throw new UsageError(positionals.length ? 'token revoke takes one token ID' : 'which token? give its ID (muster token list shows them)');
    return withAdmin(values, io, async (a) => {
      await a.call('RevokeToken', { id: positionals[0]! });
      io.out(values.json ? json({ id: positionals[0], revoked: true }) : `token ${positionals[0]} revoked`);
      return 0;
    });
  }
  throw new UsageError('usage: muster token create|list|revoke (see muster token --help)');
}

export function describeState(n: NodeStatusOut): string {
  switch (n.state) {
    case 'applied':
      return `applied rev ${n.applied_revision}`;
    case 'applying':
      return `applying rev ${n.assigned_revision}`;
    case 'failed':
      return `failed: ${n.detail}`;
    case 'waiting':
      return `reporting (${n.detail})`;
    case 'blocked':
      return 'blocked by preflight';
    case 'offline':
      // "offline for 4m": the detail's last-seen time is in the LAST SEEN column.
      return n.detail.replace(/ \(last seen [^)]*\)/, '') || 'offline';
    default:
      return n.state;
  }
}

/** "passed", "passed (1 warning)", "blocked: 2 errors: hardware-memory, swap", "pending", "-". */
export function describePreflight(n: NodeStatusOut): string {
  if (!n.preflight) return '-';
  if (n.preflight === 'pending') return 'pending';
  return n.preflight_detail ? `${n.preflight}${n.preflight === 'passed' ? ` (${n.preflight_detail})` : `: ${n.preflight_detail}`}` : n.preflight;
}

/** "yes", "no", or "-" for a node with nothing to apply. */
export function upToDate(n: NodeStatusOut): string {
  return n.up_to_date ? 'yes' : n.assigned_revision && n.state !== 'removed' ? 'no' : '-';
}

const STATE_COLOUR: Record<string, Colour> = { applied: 'green', failed: 'red', blocked: 'yellow', offline: 'yellow', removed: 'dim' };
/** Shortest a STATE or PREFLIGHT cell is cut to when the table must fit a terminal. */
const MIN_CELL = 16;

/**
 * The status table. With `width` (a terminal's) it stays within it: long STATE and PREFLIGHT
 * texts (an apply error, a list of failing checks) are cut in the table and printed whole on a
 * detail line per node below it. With `colour`, states are coloured.
 */
export function formatStatus(s: StatusResponseOut, now = Date.now(), o: { width?: number; colour?: boolean } = {}): string {
  const current = s.nodes.filter((n) => n.up_to_date).length;
  const assigned = s.nodes.filter((n) => n.assigned_revision && n.state !== 'removed').length;
  const head = `cluster ${s.cluster_name || '(no plan)'}, plan revision ${s.plan_revision}, ${s.nodes.length} node(s), ${current}/${assigned} up to date`;
  const headers = ['NAME', 'ADDRESS', 'ROLES', 'STATE', 'PREFLIGHT', 'LAST SEEN', 'UP TO DATE'];
  const full = s.nodes.map((n) => [n.name, n.address || '-', n.roles.join(',') || '-', describeState(n), describePreflight(n), ago(Number(n.last_seen_ms), now), upToDate(n)]);
  const fits = (rows: string[][]) => formatTable(headers, rows).split('\n').every((l) => l.length <= o.width!);
  let rows = full;
  if (o.width && !fits(full)) {
    // Cut STATE and PREFLIGHT to the longest width that fits (not below MIN_CELL).
    const longest = Math.max(...full.flatMap((r) => [r[3]!.length, r[4]!.length]));
    let max = longest;
    const cut = (m: number) => full.map((r) => r.map((c, i) => (i === 3 || i === 4 ? truncate(c, m) : c)));
    while (max > MIN_CELL && !fits(cut(max))) max--;
    rows = cut(max);
  }
  const paint_ = o.colour ? (row: number, col: number, cell: string) => (col === 3 && STATE_COLOUR[s.nodes[row]!.state] ? paint(true, STATE_COLOUR[s.nodes[row]!.state]!, cell) : cell) : undefined;
  const details = full.flatMap((r, i) => [3, 4].filter((c) => rows[i]![c] !== r[c]).map((c) => `  ${r[0]}: ${c === 3 ? 'state' : 'preflight'}: ${r[c]}`));
  const detailText = details.map((d) => (o.width ? wrap(escapeControl(d), o.width) : escapeControl(d)));
  return `${head}\n${formatTable(headers, rows, paint_)}${details.length ? `\n\n${detailText.join('\n')}` : ''}`;
}

/** Status as JSON: the wire's fields, plus what the table shows, so scripts need not derive it. */
export function statusJson(s: StatusResponseOut) {
  return {
    ...s,
    nodes: s.nodes.map((n) => ({ ...n, state_text: describeState(n), preflight_text: describePreflight(n), last_seen: Number(n.last_seen_ms) ? iso(n.last_seen_ms) : null })),
  };
}

export async function statusCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args: argv, options: STATUS_OPTIONS, allowNegative: true, strict: true });
  if (values.timeout !== undefined && !values.watch) throw new UsageError('--timeout goes with --watch');
  if (values.watch) return statusWatch(values, io);
  return withAdmin(values, io, async (a) => {
    const res = await a.call('Status', {});
    io.out(values.json ? json(statusJson(res)) : formatStatus(res, Date.now(), { width: io.columns, colour: io.colour }));
    return 0;
  });
}

export async function nodeCommand(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list') return nodeListCommand(rest, io);
  if (sub === 'describe') return nodeDescribeCommand(rest, io);
  if (sub === 'remove') {
    const { values, positionals } = parseArgs({ args: rest, options: NODE_REMOVE_OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
    if (positionals.length !== 1) throw new UsageError(positionals.length ? 'node remove takes one node name' : 'which node? give its name (muster status lists them)');
    return withAdmin(values, io, async (a) => {
      await a.call('RemoveNode', { name: positionals[0]! });
      io.out(values.json ? json({ node: positionals[0], removed: true }) : `node ${positionals[0]} removed; its agent is refused from now on`);
      return 0;
    });
  }
  if (sub === 'assign') {
    const { values, positionals } = parseArgs({ args: rest, options: NODE_ASSIGN_OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
    if (positionals.length !== 1 || (!values.role && !values.clear)) throw new UsageError(`usage: muster node assign NAME --role ${ROLES.join(',')} | --clear`);
    const roles = values.clear ? [] : values.role!.split(',').map((r) => r.trim()).filter(Boolean);
    return withAdmin(values, io, async (a) => {
      const res = await a.call('AssignNode', { name: positionals[0]!, roles });
      if (res.unchanged_reason) {
        io.err(`muster: ${res.unchanged_reason}`);
        return 1;
      }
      if (values.json) {
        io.out(json({ node: positionals[0], roles, changed_nodes: res.changed_nodes }));
        return 0;
      }
      io.out(`node ${positionals[0]}: roles ${roles.length ? roles.join(',') : 'back to the plan'}; ${res.changed_nodes.length} assignment(s) changed${res.changed_nodes.length ? `: ${res.changed_nodes.join(', ')}` : ''}`);
      return 0;
    });
  }
  throw new UsageError('usage: muster node list | describe NAME | remove NAME | assign NAME --role ROLES');
}

export { planApplyCommand } from './plan-apply-command.ts';

export async function planHistoryCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args: argv, options: PLAN_HISTORY_OPTIONS, allowNegative: true, strict: true });
  return withAdmin(values, io, async (a) => {
    const res = await a.call('PlanHistory', {});
    if (values.json) {
      // History carries diffs only (one message stays small); the texts are fetched one by one.
      const texts = new Map<number, string>();
      for (const p of res.plans) texts.set(Number(p.revision), (await a.call('GetPlan', { revision: p.revision })).plan_yaml);
      io.out(json(res.plans.map((p) => ({ revision: Number(p.revision), applied_at: iso(p.applied_at_ms), file_name: p.file_name, forced: p.forced, diff: p.diff, plan_yaml: texts.get(Number(p.revision)) ?? '' }))));
      return 0;
    }
    for (const p of res.plans) {
      io.out(`revision ${p.revision}  ${new Date(Number(p.applied_at_ms)).toISOString()}  ${p.file_name}${p.forced ? '  (forced)' : ''}`);
      if (p.diff) io.out(p.diff.replace(/^/gm, '    '));
    }
    return 0;
  });
}

export async function planShowCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: PLAN_SHOW_OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
  if (positionals.length > 1 || (positionals[0] !== undefined && !/^\d+$/.test(positionals[0]))) throw new UsageError(`plan show takes one revision number (muster plan history lists them), got ${positionals.join(' ')}`);
  const rev = positionals[0] ? Number(positionals[0]) : 0;
  return withAdmin(values, io, async (a) => {
    const p = await a.call('GetPlan', { revision: rev });
    if (values.json) {
      io.out(json({ revision: Number(p.revision), applied_at: iso(p.applied_at_ms), file_name: p.file_name, forced: p.forced, plan_yaml: p.plan_yaml }));
      return 0;
    }
    io.out(`# plan revision ${p.revision}, applied ${new Date(Number(p.applied_at_ms)).toISOString()} from ${p.file_name}\n${p.plan_yaml}`);
    return 0;
  });
}
