// `muster certs ...` and `muster kubeconfig admin`: the cluster PKI from the operator's side.
// import-ca / import-sa are local to the coordinator's host (a CA key never crosses the wire);
// check-expiration and kubeconfig admin talk to the running coordinator like every admin command.
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIO } from '../../shared/cli/io.ts';
import { formatTable } from '../../shared/cli/table.ts';
import { ADMIN_FLAGS, withAdmin } from './admin-commands.ts';
import { renewCommand, rotateCaCommand } from './rotation-commands.ts';
import { importCa, importServiceAccount, FORCE_MEANS } from '../pki/import.ts';
import { CLUSTER_CA_KINDS } from '../pki/cluster-cas.ts';
import { renderKubeconfig } from '../../shared/render/kubeconfig.ts';
import { durationFlag } from './flag-values.ts';
import { certKind, type ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { createCsr } from '../../shared/pki/x509.ts';
import { writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import { ConfigError, UsageError } from '../../shared/errors/index.ts';
import { DEFAULT_COORDINATOR_DATA_DIR } from '../../shared/constants.ts';
import type { CertificateExpiration__Output } from '../../proto/gen/types/muster/v1/CertificateExpiration.ts';

export const CERTS_USAGE =
  'usage: muster certs import-ca --kind kubernetes|etcd|front-proxy --cert F --key F [--force] [--data-dir DIR] | import-sa --key F [--pub F] [--force] [--data-dir DIR] | check-expiration [--json] [--warn-days N] | renew --node NAME | --all | rotate-ca --kind K [--wait] | --status';

async function readInput(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

const DAY_MS = 86_400_000;

/** "364d 23h", "5h 3m", "expired". */
export function residual(ms: number): string {
  if (ms <= 0) return 'expired';
  const d = Math.floor(ms / DAY_MS);
  const h = Math.floor((ms % DAY_MS) / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  return d > 0 ? `${d}d ${h}h` : `${h}h ${m}m`;
}

export function formatExpirations(rows: readonly CertificateExpiration__Output[], warnDays: number, now = Date.now()): string {
  const table = rows.map((r) => {
    const left = Number(r.not_after_ms) - now;
    return [r.node || (r.kind.startsWith('ca:') ? '-' : '(operator)'), r.kind, new Date(Number(r.not_after_ms)).toISOString(), residual(left), left < warnDays * DAY_MS ? `WARNING: less than ${warnDays} days left` : ''];
  });
  const low = table.filter((r) => r[4]).length;
  const summary = `${rows.length} certificate(s); ${low ? `${low} expire within ${warnDays} days` : `none expires within ${warnDays} days`}`;
  return `${formatTable(['NODE', 'KIND', 'EXPIRES', 'RESIDUAL', ''], table)}\n${summary}`;
}

// Each command's flags; coordinator/cli/commands.ts adds their help.
export const IMPORT_CA_OPTIONS = { 'data-dir': { type: 'string' }, kind: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, force: { type: 'boolean', default: false } } as const;
export const IMPORT_SA_OPTIONS = { 'data-dir': { type: 'string' }, key: { type: 'string' }, pub: { type: 'string' }, force: { type: 'boolean', default: false } } as const;
export const CHECK_EXPIRATION_OPTIONS = { ...ADMIN_FLAGS, json: { type: 'boolean', default: false }, 'warn-days': { type: 'string', default: '30' } } as const;
export const KUBECONFIG_ADMIN_OPTIONS = { ...ADMIN_FLAGS, output: { type: 'string', short: 'o' }, ttl: { type: 'string', default: '' } } as const;

export async function certsCommand(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  const dataDirOf = (v: string | undefined) => v ?? io.env.MUSTER_DATA_DIR ?? DEFAULT_COORDINATOR_DATA_DIR;
  if (sub === 'import-ca') {
    const { values: given } = parseArgs({ args: rest, options: IMPORT_CA_OPTIONS, allowNegative: true, strict: true });
    const values = { ...given, 'data-dir': dataDirOf(given['data-dir']) };
    if (!values.kind || !values.cert || !values.key) throw new UsageError(CERTS_USAGE);
    if (!CLUSTER_CA_KINDS.includes(values.kind as ClusterCaKind)) throw new UsageError(`--kind ${values.kind}: expected one of ${CLUSTER_CA_KINDS.join(', ')}`);
    const kind = values.kind as ClusterCaKind;
    const res = await importCa({ dataDir: resolve(io.cwd, values['data-dir']), kind, certPem: await readInput(resolve(io.cwd, values.cert), 'certificate'), keyPem: await readInput(resolve(io.cwd, values.key), 'key'), force: values.force });
    io.out(res.written.length ? `${kind} CA imported${res.replaced ? ' (replacing the one there)' : ''}: ${res.written.join(', ')}` : `${kind} CA: the data dir holds this CA already; nothing written`);
    if (res.replaced) io.err(`muster: warning: the ${kind} CA was replaced; --force ${FORCE_MEANS}`);
    return 0;
  }
  if (sub === 'import-sa') {
    const { values: given } = parseArgs({ args: rest, options: IMPORT_SA_OPTIONS, allowNegative: true, strict: true });
    const values = { ...given, 'data-dir': dataDirOf(given['data-dir']) };
    if (!values.key) throw new UsageError(CERTS_USAGE);
    const res = await importServiceAccount({
      dataDir: resolve(io.cwd, values['data-dir']),
      keyPem: await readInput(resolve(io.cwd, values.key), 'key'),
      pubPem: values.pub ? await readInput(resolve(io.cwd, values.pub), 'public key') : undefined,
      force: values.force,
    });
    io.out(res.written.length ? `service-account key pair imported${res.replaced ? ' (replacing the one there)' : ''}: ${res.written.join(', ')}` : 'service-account key: the data dir holds this key already; nothing written');
    return 0;
  }
  if (sub === 'renew') return renewCommand(rest, io);
  if (sub === 'rotate-ca') return rotateCaCommand(rest, io);
  if (sub === 'check-expiration') {
    const { values } = parseArgs({ args: rest, options: CHECK_EXPIRATION_OPTIONS, allowNegative: true, strict: true });
    const warnDays = Number(values['warn-days']);
    if (!Number.isFinite(warnDays) || warnDays < 0) throw new UsageError(`--warn-days ${values['warn-days']}: expected a number of days, 0 or more`);
    return withAdmin(values, io, async (a) => {
      const res = await a.call('CertificateExpirations', {});
      const now = Date.now();
      if (values.json) {
        io.out(
          JSON.stringify(
            res.certificates.map((r) => ({
              node: r.node,
              kind: r.kind,
              serial: r.serial,
              not_after: new Date(Number(r.not_after_ms)).toISOString(),
              residual_ms: Number(r.not_after_ms) - now,
              warning: Number(r.not_after_ms) - now < warnDays * DAY_MS,
              sans: r.sans,
            })),
            null,
            2,
          ),
        );
      } else io.out(formatExpirations(res.certificates, warnDays, now));
      return 0;
    });
  }
  throw new UsageError(CERTS_USAGE);
}

export async function kubeconfigCommand(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'admin') throw new UsageError('usage: muster kubeconfig admin -o FILE [--ttl DURATION]');
  const { values } = parseArgs({ args: rest, options: KUBECONFIG_ADMIN_OPTIONS, allowNegative: true, strict: true });
  if (!values.output) throw new UsageError('where to? give -o FILE for the kubeconfig');
  const ttlMs = durationFlag('--ttl', values.ttl, 0);
  const admin = certKind('admin')!;
  // The key is made here and written only into the kubeconfig: it never reaches the coordinator.
  const { keyPem, csrPem } = await createCsr(admin.cn(''), undefined, { orgs: admin.orgs });
  return withAdmin(values, io, async (a) => {
    const res = await a.call('AdminKubeconfig', { csr_pem: csrPem, ttl_ms: ttlMs });
    const file = resolve(io.cwd, values.output!);
    await writeFileAtomic(file, renderKubeconfig({ clusterName: res.cluster_name, server: res.server, caPem: res.ca_pem, userName: 'kubernetes-admin', certPem: res.cert_pem, keyPem }, `# Written by muster kubeconfig admin: cluster-admin credentials, keep it private.`), { mode: 0o600 });
    io.out(`wrote the admin kubeconfig for cluster ${res.cluster_name} (server ${res.server}) to ${file}; keep it private: it holds cluster-admin credentials`);
    return 0;
  });
}
