// `muster node list` and `muster node describe NAME`: the fleet as the coordinator sees it.
import { parseArgs } from 'node:util';
import type { CliIO } from '../../shared/cli/io.ts';
import { formatTable, ago } from '../../shared/cli/table.ts';
import { UsageError } from '../../shared/errors/index.ts';
import { ADMIN_FLAGS } from './admin-flags.ts';
import { withAdmin, describeState, describePreflight, upToDate } from './admin-commands.ts';
import type { Admin } from '../admin/client.ts';

export const NODE_LIST_OPTIONS = { ...ADMIN_FLAGS, json: { type: 'boolean', default: false } } as const;
export const NODE_DESCRIBE_OPTIONS = NODE_LIST_OPTIONS;
export const NODE_LIST_USAGE = 'muster node list [--json]';
export const NODE_DESCRIBE_USAGE = 'muster node describe NAME [--json]';

export async function nodeListCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: NODE_LIST_OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
  if (positionals.length) throw new UsageError(`usage: ${NODE_LIST_USAGE}`);
  return withAdmin(values, io, async (a) => {
    const res = await a.call('Status', {});
    if (values.json) {
      io.out(JSON.stringify(res.nodes, null, 2));
      return 0;
    }
    const now = Date.now();
    io.out(
      formatTable(
        ['NAME', 'ADDRESS', 'ROLES', 'STATE', 'UP TO DATE', 'ASSIGNED', 'APPLIED', 'AGENT', 'LAST SEEN'],
        res.nodes.map((n) => [n.name, n.address || '-', n.roles.join(',') || '-', describeState(n), upToDate(n), String(n.assigned_revision || '-'), String(n.applied_revision || '-'), n.agent_version || '-', ago(Number(n.last_seen_ms), now)]),
      ),
    );
    return 0;
  });
}

async function gather(a: Admin, name: string) {
  const d = await a.call('DescribeNode', { name });
  // Preflight and certificates have their own calls; a node without them still describes.
  const pf = await a.call('Preflight', { node: name, ignore: [], unignore: [] }).then((r) => r.nodes.find((n) => n.node === name) ?? null);
  const certs = await a.call('CertificateExpirations', {}).then((r) => r.certificates.filter((c) => c.node === name));
  return { ...d, preflight: pf, certificates: certs };
}

export async function nodeDescribeCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: NODE_LIST_OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
  if (positionals.length !== 1) throw new UsageError(`usage: ${NODE_DESCRIBE_USAGE}`);
  const name = positionals[0]!;
  return withAdmin(values, io, async (a) => {
    const d = await gather(a, name);
    if (values.json) {
      io.out(JSON.stringify(d, null, 2));
      return 0;
    }
    io.out(formatDescribe(d));
    return 0;
  });
}

type Described = Awaited<ReturnType<typeof gather>>;

const GiB = 2 ** 30;
const iso = (ms: number | string) => new Date(Number(ms)).toISOString();

export function formatDescribe(d: Described, now = Date.now()): string {
  const s = d.status!;
  const f = d.facts;
  const lines: string[] = [];
  const kv = (k: string, v: string) => lines.push(`${`${k}:`.padEnd(14)}${v}`);
  kv('Name', s.name);
  kv('Address', s.address || '-');
  kv('State', describeState(s));
  if (s.detail && !describeState(s).includes(s.detail)) kv('Detail', s.detail);
  kv('Roles', s.roles.join(',') || `none${d.waiting_reason ? ` (${d.waiting_reason})` : ''}`);
  if (d.override_roles.length) kv('Pinned', `${d.override_roles.join(',')} (muster node assign; --clear gives the plan back the choice)`);
  kv('Installed', d.installed_roles.join(',') || 'none');
  kv('Assignment', s.assigned_revision ? `revision ${s.assigned_revision} from plan revision ${d.assignment_plan_revision}; applied ${s.applied_revision || 'none'}; ${s.up_to_date ? 'up to date' : 'not up to date'}` : 'none');
  kv('Agent', `${s.agent_version || '-'}, joined ${iso(s.joined_at_ms)}, last seen ${ago(Number(s.last_seen_ms), now)}`);
  lines.push('Facts:');
  if (!f) lines.push('  none reported yet');
  else {
    if (f.os) lines.push(`  os           ${f.os.pretty_name || `${f.os.id} ${f.os.version_id}`}, kernel ${f.os.kernel}, cgroup ${f.os.cgroup_version || '?'}`);
    if (f.cpu) lines.push(`  cpu          ${f.cpu.logical_cores} logical cores (${f.cpu.architecture || '?'}) ${f.cpu.model}`);
    if (f.memory) lines.push(`  memory       ${(Number(f.memory.total_bytes) / GiB).toFixed(1)} GiB, swap ${(Number(f.memory.swap_total_bytes) / GiB).toFixed(1)} GiB`);
    const varLib = f.disks?.filesystems.find((x) => x.mount === f.disks?.var_lib_mount);
    if (varLib) lines.push(`  /var/lib     ${varLib.mount} ${(Number(varLib.size_bytes) / 1e9).toFixed(0)} GB (${(Number(varLib.free_bytes) / 1e9).toFixed(0)} GB free)`);
    if (f.network) lines.push(`  network      ${f.network.hostname}, ${f.network.default_address || '-'} on ${f.network.default_interface || '-'}`);
  }
  lines.push(`Preflight:    ${describePreflight(s)}`);
  for (const r of d.preflight?.results ?? []) lines.push(`  ${r.severity.padEnd(8)} ${r.check}: ${r.found} (required: ${r.required}; fix: ${r.fix})`);
  lines.push(`Certificates:${d.certificates.length ? '' : ' none issued'}`);
  for (const c of [...d.certificates].sort((x, y) => Number(x.not_after_ms) - Number(y.not_after_ms))) {
    const left = Math.floor((Number(c.not_after_ms) - now) / 86_400_000);
    lines.push(`  ${c.kind.padEnd(28)} expires ${iso(c.not_after_ms)} (${left < 0 ? 'expired' : `${left}d left`}), serial ${c.serial}`);
  }
  lines.push('Events:');
  for (const e of d.events) lines.push(`  ${iso(e.at_ms)}  ${e.what}`);
  return lines.join('\n');
}
