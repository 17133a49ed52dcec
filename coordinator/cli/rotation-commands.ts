// `muster certs renew` and `muster certs rotate-ca`: forcing renewals and rotating a cluster CA,
// both through the pull path (the coordinator changes assignments; agents do the work and report).
import { parseArgs } from 'node:util';
import type { CliIO } from '../../shared/cli/io.ts';
import { formatTable, ago } from '../../shared/cli/table.ts';
import { ADMIN_FLAGS, withAdmin } from './admin-commands.ts';
import { CLUSTER_CA_KINDS } from '../pki/cluster-cas.ts';
import { durationFlag } from './flag-values.ts';
import { UsageError, MusterError } from '../../shared/errors/index.ts';
import type { CaRotation__Output } from '../../proto/gen/types/muster/v1/CaRotation.ts';
import type { Admin } from '../admin/client.ts';

export const RENEW_USAGE = 'usage: muster certs renew --node NAME [--node NAME...] | --all';
export const ROTATE_USAGE = 'usage: muster certs rotate-ca --kind kubernetes|etcd|front-proxy [--wait [--timeout DURATION]] | --status [--json]';

export const RENEW_OPTIONS = { ...ADMIN_FLAGS, node: { type: 'string', multiple: true, default: [] as string[] }, all: { type: 'boolean', default: false } } as const;
export const ROTATE_CA_OPTIONS = { ...ADMIN_FLAGS, kind: { type: 'string' }, status: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, wait: { type: 'boolean', default: false }, timeout: { type: 'string', default: '30m' } } as const;

export async function renewCommand(rest: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args: rest, options: RENEW_OPTIONS, allowNegative: true, strict: true });
  if (values.all === values.node.length > 0) throw new UsageError(RENEW_USAGE);
  return withAdmin(values, io, async (a) => {
    const res = await a.call('RenewCertificates', { nodes: values.node, all: values.all });
    const n = res.nodes.length;
    io.out(
      n
        ? `renewal requested: ${n} node(s) renew every cluster certificate issued before ${new Date(Number(res.renew_before_ms)).toISOString()} when they next pull their assignment${n <= 10 ? ` (${res.nodes.join(', ')})` : ''}; nodes running etcd or a control plane take it one at a time, each after the one before applied, the others a batch at a time after them (muster status shows who waits); follow with muster certs check-expiration`
        : 'renewal requested, but no assignment changed (no node holds cluster certificates)',
    );
    return 0;
  });
}

export function formatRotations(rows: readonly CaRotation__Output[], now = Date.now()): string {
  if (!rows.length) return 'no CA has been rotated; start with muster certs rotate-ca --kind kubernetes|etcd|front-proxy';
  return rows
    .map((r) => {
      const done = r.nodes.filter((n) => n.state === 'done').length;
      const head =
        r.stage === 'complete'
          ? `${r.kind} CA rotation ${r.id}: complete ${ago(now - Number(r.finished_at_ms))} ago (CA serial ${r.old_serial} -> ${r.new_serial})`
          : `${r.kind} CA rotation ${r.id}: stage ${r.stage_number}/3 ${r.stage} for ${ago(now - Number(r.stage_started_at_ms))}; ${done}/${r.nodes.length} node(s) done (CA serial ${r.old_serial} -> ${r.new_serial})`;
      if (r.stage === 'complete' || !r.nodes.length) return head;
      return `${head}\n${formatTable(['NODE', 'STAGE', 'DETAIL'], r.nodes.map((n) => [n.name, n.state, n.detail]))}`;
    })
    .join('\n\n');
}

async function waitForRotation(a: Admin, kind: string, timeoutMs: number, io: CliIO): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let said = '';
  for (;;) {
    const res = await a.call('CaRotationStatus', {});
    const r = res.rotations.find((x) => x.kind === kind);
    if (!r) throw new MusterError('internal', 'rotation-missing', `the coordinator shows no ${kind} CA rotation`);
    const line = r.stage === 'complete' ? 'complete' : `stage ${r.stage_number}/3 ${r.stage}: ${r.nodes.filter((n) => n.state === 'done').length}/${r.nodes.length} node(s) done`;
    if (line !== said) io.out(`${kind} CA rotation ${r.id}: ${line}`);
    said = line;
    if (r.stage === 'complete') return 0;
    if (Date.now() >= deadline) {
      io.err(`muster: the ${kind} CA rotation did not finish within ${Math.round(timeoutMs / 1000)}s; it goes on by itself. Waiting on:\n${formatRotations([r])}`);
      return 1;
    }
    await new Promise((res) => setTimeout(res, Math.min(1_000, Math.max(0, deadline - Date.now()))));
  }
}

export async function rotateCaCommand(rest: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args: rest, options: ROTATE_CA_OPTIONS, allowNegative: true, strict: true });
  if (values.status === Boolean(values.kind)) throw new UsageError(ROTATE_USAGE);
  if (values.kind && !(CLUSTER_CA_KINDS as readonly string[]).includes(values.kind)) throw new UsageError(`--kind ${values.kind}: expected one of ${CLUSTER_CA_KINDS.join(', ')}`);
  const timeoutMs = durationFlag('--timeout', values.timeout, 30 * 60_000);
  return withAdmin(values, io, async (a) => {
    if (values.status) {
      const res = await a.call('CaRotationStatus', {});
      io.out(values.json ? JSON.stringify(res.rotations, null, 2) : formatRotations(res.rotations));
      return 0;
    }
    const res = await a.call('RotateCa', { kind: values.kind! });
    const r = res.rotations.find((x) => x.kind === values.kind)!;
    io.out(
      `${values.kind} CA rotation ${r.id} started: new CA serial ${r.new_serial}. Stage 1/3 (trust-both) goes to etcd and control-plane nodes one at a time and to workers a tenth at a time; then every certificate is reissued (2/3), then the old CA is dropped (3/3). Nodes that are offline hold it up. Follow with muster certs rotate-ca --status`,
    );
    return values.wait ? waitForRotation(a, values.kind!, timeoutMs, io) : 0;
  });
}
