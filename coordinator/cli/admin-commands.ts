// Admin commands: each talks to the running coordinator over gRPC with the admin certificate.
import { parseArgs } from 'node:util';
import type { CliIO } from '../../shared/cli/io.ts';
import { formatTable, ago } from '../../shared/cli/table.ts';
import { join } from 'node:path';
import { loadAdminConfig, type AdminConfig } from '../admin/config.ts';
import { connectAdmin, type Admin } from '../admin/client.ts';
import { renewAdminIfDue } from '../admin/renew.ts';
import { parseDurationMs } from '../trust/tokens.ts';
import { ConfigError, type MusterError } from '../../shared/errors/index.ts';
import type { NodeStatusOut, StatusResponseOut } from '../../shared/wire/types.ts';
import { COORDINATOR_DATA, ROLES } from '../../shared/constants.ts';
import { nodeListCommand, nodeDescribeCommand } from './node-commands.ts';
import { statusWatch } from './status-watch.ts';

export const ADMIN_FLAGS = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  coordinator: { type: 'string' },
} as const;

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

export async function tokenCommand(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: {
        ...ADMIN_FLAGS,
        ttl: { type: 'string', default: '24h' },
        uses: { type: 'string', default: '0' },
        description: { type: 'string', default: '' },
        node: { type: 'string', default: '' },
        'print-join-command': { type: 'boolean', default: false },
      },
      strict: true,
    });
    let ttlMs: number;
    try {
      ttlMs = parseDurationMs(values.ttl);
    } catch (e) {
      throw new ConfigError(`--ttl: ${(e as Error).message}`);
    }
    const uses = Number(values.uses);
    if (!Number.isInteger(uses) || uses < 0) throw new ConfigError(`--uses ${values.uses}: expected a whole number (0 = unlimited)`);
    return withAdmin(values, io, async (a, caHash) => {
      const res = await a.call('CreateToken', { ttl_ms: ttlMs, uses, description: values.description, node_name: values.node });
      if (values['print-join-command']) io.out(`muster-agent run --coordinator ${a.target} --token ${res.token} --ca-hash ${caHash}`);
      else io.out(res.token);
      return 0;
    });
  }
  if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: { ...ADMIN_FLAGS, json: { type: 'boolean', default: false } }, strict: true });
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
            new Date(Number(t.expires_at_ms)).toISOString(),
            `${t.uses}/${t.uses_allowed || '∞'}`,
            t.revoked ? 'revoked' : Number(t.expires_at_ms) <= now ? 'expired' : t.uses_allowed && t.uses >= t.uses_allowed ? 'used up' : 'valid',
            t.node_name || '-',
            t.description,
          ]),
        ),
      );
      return 0;
    });
  }
  if (sub === 'revoke') {
    const { values, positionals } = parseArgs({ args: rest, options: ADMIN_FLAGS, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new ConfigError('usage: muster token revoke ID');
    return withAdmin(values, io, async (a) => {
      await a.call('RevokeToken', { id: positionals[0]! });
      io.out(`token ${positionals[0]} revoked`);
      return 0;
    });
  }
  throw new ConfigError('usage: muster token create|list|revoke (see muster --help)');
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

export function formatStatus(s: StatusResponseOut, now = Date.now()): string {
  const current = s.nodes.filter((n) => n.up_to_date).length;
  const assigned = s.nodes.filter((n) => n.assigned_revision && n.state !== 'removed').length;
  const head = `cluster ${s.cluster_name || '(no plan)'}, plan revision ${s.plan_revision}, ${s.nodes.length} node(s), ${current}/${assigned} up to date`;
  const rows = s.nodes.map((n) => [n.name, n.address || '-', n.roles.join(',') || '-', describeState(n), describePreflight(n), ago(Number(n.last_seen_ms), now), upToDate(n)]);
  return `${head}\n${formatTable(['NAME', 'ADDRESS', 'ROLES', 'STATE', 'PREFLIGHT', 'LAST SEEN', 'UP TO DATE'], rows)}`;
}

export async function statusCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...ADMIN_FLAGS, json: { type: 'boolean', default: false }, watch: { type: 'boolean', default: false }, timeout: { type: 'string' } }, strict: true });
  if (values.watch) return statusWatch(values, io);
  return withAdmin(values, io, async (a) => {
    const res = await a.call('Status', {});
    io.out(values.json ? JSON.stringify(res, null, 2) : formatStatus(res));
    return 0;
  });
}

export async function nodeCommand(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list') return nodeListCommand(rest, io);
  if (sub === 'describe') return nodeDescribeCommand(rest, io);
  if (sub === 'remove') {
    const { values, positionals } = parseArgs({ args: rest, options: ADMIN_FLAGS, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new ConfigError('usage: muster node remove NAME');
    return withAdmin(values, io, async (a) => {
      await a.call('RemoveNode', { name: positionals[0]! });
      io.out(`node ${positionals[0]} removed; its agent is refused from now on`);
      return 0;
    });
  }
  if (sub === 'assign') {
    const { values, positionals } = parseArgs({ args: rest, options: { ...ADMIN_FLAGS, role: { type: 'string' }, clear: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1 || (!values.role && !values.clear)) throw new ConfigError(`usage: muster node assign NAME --role ${ROLES.join(',')} | --clear`);
    const roles = values.clear ? [] : values.role!.split(',').map((r) => r.trim()).filter(Boolean);
    return withAdmin(values, io, async (a) => {
      const res = await a.call('AssignNode', { name: positionals[0]!, roles });
      if (res.unchanged_reason) {
        io.err(`muster: ${res.unchanged_reason}`);
        return 1;
      }
      io.out(`node ${positionals[0]}: roles ${roles.length ? roles.join(',') : 'back to the plan'}; ${res.changed_nodes.length} assignment(s) changed${res.changed_nodes.length ? `: ${res.changed_nodes.join(', ')}` : ''}`);
      return 0;
    });
  }
  throw new ConfigError('usage: muster node list | describe NAME | remove NAME | assign NAME --role ROLES');
}

export { planApplyCommand } from './plan-apply-command.ts';

export async function planHistoryCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...ADMIN_FLAGS, json: { type: 'boolean', default: false } }, strict: true });
  return withAdmin(values, io, async (a) => {
    const res = await a.call('PlanHistory', {});
    if (values.json) {
      io.out(JSON.stringify(res.plans, null, 2));
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
  const { values, positionals } = parseArgs({ args: argv, options: ADMIN_FLAGS, allowPositionals: true, strict: true });
  const rev = positionals[0] ? Number(positionals[0]) : 0;
  if (!Number.isInteger(rev) || rev < 0) throw new ConfigError('usage: muster plan show [REVISION]');
  return withAdmin(values, io, async (a) => {
    const p = await a.call('GetPlan', { revision: rev });
    io.out(`# plan revision ${p.revision}, applied ${new Date(Number(p.applied_at_ms)).toISOString()} from ${p.file_name}\n${p.plan_yaml}`);
    return 0;
  });
}
