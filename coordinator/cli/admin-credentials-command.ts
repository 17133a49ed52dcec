// `muster admin issue|list|revoke`: admin credentials per operator, and revocation of one that
// leaked. The key of an issued credential is made here and written only into its admin config.
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliIO } from '../../shared/cli/io.ts';
import { formatTable, ago } from '../../shared/cli/table.ts';
import { ADMIN_FLAGS, withAdmin } from './admin-commands.ts';
import { writeAdminConfig } from '../admin/config.ts';
import { durationFlag } from './flag-values.ts';
import { createCsr } from '../../shared/pki/x509.ts';
import { ConfigError, UsageError } from '../../shared/errors/index.ts';
import { ADMIN_CN } from '../../shared/constants.ts';
import type { AdminCredential__Output } from '../../proto/gen/types/muster/v1/AdminCredential.ts';

export const ADMIN_USAGE = 'usage: muster admin issue --name LABEL -o FILE [--ttl DURATION] [--force] | list [--json] | revoke ID [--force]';

const KIND_NAMES: Record<string, string> = {
  ADMIN_CREDENTIAL_KIND_ISSUED: 'issued',
  ADMIN_CREDENTIAL_KIND_DATA_DIR: 'data-dir',
  ADMIN_CREDENTIAL_KIND_LEGACY: 'legacy',
};

function newest(c: AdminCredential__Output) {
  return c.certificates.reduce<AdminCredential__Output['certificates'][number] | undefined>((best, x) => (!best || Number(x.not_after_ms) > Number(best.not_after_ms) ? x : best), undefined);
}

function state(c: AdminCredential__Output, now: number): string {
  if (c.revoked) return `revoked ${new Date(Number(c.revoked_at_ms)).toISOString()}`;
  const n = newest(c);
  if (n && Number(n.not_after_ms) <= now) return 'expired';
  return 'valid';
}

export function formatAdminList(rows: readonly AdminCredential__Output[], now = Date.now()): string {
  return formatTable(
    ['ID', 'KIND', 'LABEL', 'SERIAL', 'EXPIRES', 'STATE', 'LAST USED'],
    rows.map((c) => {
      const n = newest(c);
      return [
        `${c.id}${c.caller ? ' *' : ''}`,
        KIND_NAMES[c.kind] ?? c.kind,
        c.label,
        n?.serial ?? '-',
        n ? new Date(Number(n.not_after_ms)).toISOString() : '-',
        state(c, now),
        ago(Number(c.last_used_ms), now),
      ];
    }),
  );
}

export function jsonAdmin(c: AdminCredential__Output) {
  const n = newest(c);
  return {
    id: c.id,
    kind: KIND_NAMES[c.kind] ?? c.kind,
    label: c.label,
    serial: n?.serial ?? '',
    not_after: n ? new Date(Number(n.not_after_ms)).toISOString() : '',
    revoked: c.revoked,
    revoked_at: c.revoked ? new Date(Number(c.revoked_at_ms)).toISOString() : '',
    revoked_by: c.revoked_by,
    issued_by: c.issued_by,
    created_at: new Date(Number(c.created_at_ms)).toISOString(),
    last_used: Number(c.last_used_ms) ? new Date(Number(c.last_used_ms)).toISOString() : '',
    caller: c.caller,
    certificates: c.certificates.map((x) => ({
      serial: x.serial,
      not_before: new Date(Number(x.not_before_ms)).toISOString(),
      not_after: new Date(Number(x.not_after_ms)).toISOString(),
      renewed_from: x.renewed_from,
    })),
  };
}

export const ADMIN_ISSUE_OPTIONS = { ...ADMIN_FLAGS, name: { type: 'string' }, output: { type: 'string', short: 'o' }, ttl: { type: 'string', default: '' }, force: { type: 'boolean', default: false } } as const;
export const ADMIN_LIST_OPTIONS = { ...ADMIN_FLAGS, json: { type: 'boolean', default: false } } as const;
export const ADMIN_REVOKE_OPTIONS = { ...ADMIN_FLAGS, force: { type: 'boolean', default: false } } as const;

export async function adminCommand(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'issue') {
    const { values } = parseArgs({ args: rest, options: ADMIN_ISSUE_OPTIONS, allowNegative: true, strict: true });
    if (!values.name) throw new UsageError('--name LABEL is missing: say whom the credential is for');
    if (!values.output) throw new UsageError('-o FILE is missing: where to write the admin config');
    const ttlMs = durationFlag('--ttl', values.ttl, 0);
    const file = resolve(io.cwd, values.output);
    const refuseExisting = () => {
      if (!values.force && existsSync(file)) throw new ConfigError(`${file} exists; it may be someone's admin config: choose another -o FILE, or pass --force to replace it`);
    };
    refuseExisting();
    // The key is made here and written only into the new admin config: it never reaches the coordinator.
    const { keyPem, csrPem } = await createCsr(ADMIN_CN);
    return withAdmin(values, io, async (a, _caHash, cfg) => {
      const res = await a.call('IssueAdmin', { label: values.name!, csr_pem: csrPem, ttl_ms: ttlMs });
      refuseExisting();
      await writeAdminConfig(file, { coordinator: cfg.coordinator, ca_hash: cfg.ca_hash, ca_cert: cfg.ca_cert, client_cert: res.cert_pem, client_key: keyPem });
      const c = res.credential!;
      const n = newest(c);
      io.out(
        `wrote admin credential ${c.id} for ${JSON.stringify(c.label)} (serial ${n?.serial}, valid until ${n ? new Date(Number(n.not_after_ms)).toISOString() : '?'}, renews itself on use) to ${file}; ` +
          `keep it private: it grants full control of the coordinator. Revoke it with \`muster admin revoke ${c.id}\``,
      );
      return 0;
    });
  }
  if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: ADMIN_LIST_OPTIONS, allowNegative: true, strict: true });
    return withAdmin(values, io, async (a) => {
      const res = await a.call('ListAdmins', {});
      io.out(values.json ? JSON.stringify(res.credentials.map(jsonAdmin), null, 2) : `${formatAdminList(res.credentials)}\n(* = the credential this command used; last used: since the coordinator started)`);
      return 0;
    });
  }
  if (sub === 'revoke') {
    const { values, positionals } = parseArgs({ args: rest, options: ADMIN_REVOKE_OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
    if (positionals.length !== 1) throw new UsageError(positionals.length ? 'admin revoke takes one credential ID' : 'which credential? give its ID (muster admin list shows them)');
    return withAdmin(values, io, async (a) => {
      const res = await a.call('RevokeAdmin', { id: positionals[0]!, force: values.force });
      const c = res.credential!;
      io.out(res.already_revoked ? `admin credential ${c.id} (${c.label}) was revoked already` : `admin credential ${c.id} (${c.label}) revoked: every certificate of it, renewals included, is refused from now on`);
      return 0;
    });
  }
  throw new UsageError(ADMIN_USAGE);
}
