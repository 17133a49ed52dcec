// Admin credentials: a durable record of every admin certificate the coordinator signs, grouped
// in lineages (a credential: the first certificate and every renewal of it, under one id), and
// revocation of a lineage as a whole. Every admin call is checked here (coordinator/server/auth.ts)
// against committed state, in memory: no store read per call.
//
// Three kinds of lineage:
// - "issued": `muster admin issue --name LABEL`, one per operator; revocable.
// - "data-dir" (id `data-dir`): the coordinator's own DATA/admin.yaml, signed and renewed by the
//   coordinator itself. Never revocable (the remedy for a compromised data dir is a new one), and
//   never renewed over the wire: a RenewAdmin made with it comes from a copy, which is refused.
// - "legacy" (id `legacy`): credentials an older muster signed, before anything was recorded.
//   On the first start of this version on an existing data dir, this lineage is created with
//   `createdAtMs` = that moment: an unrecorded serial whose certificate starts before it is legacy
//   and keeps working (with its renewals, which are recorded under `legacy`), until an operator
//   runs `muster admin revoke legacy`. The data dir's own pre-existing certificate counts as
//   legacy too (it may have been copied to laptops, the only way to administer remotely before):
//   the coordinator replaces it at that start with a recorded data-dir one.
//   Any other unrecorded serial -- one that starts after recording began, or on a data dir that
//   never had legacy credentials -- is refused: the coordinator did not sign it through this
//   code, so it cannot be revoked, so it is not accepted.
//
// Records are kept after expiry and revocation: they are the audit trail (a few hundred bytes per
// certificate; an operator renewing yearly adds one a year).
import { randomBytes } from 'node:crypto';
import type { StateWriter, Table } from './writer.ts';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../../shared/errors/index.ts';

/** Key prefixes of this aggregate's tables (records.ts lists the others). */
export const ADMIN_CREDENTIALS_PREFIX = 'admin-credentials/';
export const ADMIN_CERTS_PREFIX = 'admin-certs/';

export const DATA_DIR_CREDENTIAL = 'data-dir';
export const LEGACY_CREDENTIAL = 'legacy';
export const DATA_DIR_LABEL = 'coordinator data dir';

export const MAX_ADMIN_LABEL = 128;
/** Shortest lifetime `muster admin issue --ttl` takes: below it, clock skew alone makes it useless. */
export const MIN_ADMIN_TTL_MS = 60_000;
export const MAX_ADMIN_TTL_MS = 365 * 86_400_000;

export type AdminCredentialKind = 'issued' | 'data-dir' | 'legacy';

/** One lineage. */
export interface AdminCredentialRecord {
  id: string;
  label: string;
  kind: AdminCredentialKind;
  /** For legacy: when recording began; unrecorded certificates older than this are legacy. */
  createdAtMs: number;
  /** "admin ID (label, serial S)", or "coordinator". */
  issuedBy: string;
  /** Lifetime of its certificates, renewals included; 0: the coordinator's default. */
  ttlMs: number;
  /** 0: not revoked. */
  revokedAtMs: number;
  revokedBy: string;
}

/** One signed certificate. */
export interface AdminCertRecord {
  serial: string;
  credentialId: string;
  notBeforeMs: number;
  notAfterMs: number;
  /** The serial this one renewed; "" for the first of a lineage. */
  renewedFrom: string;
  atMs: number;
}

/** What the signer knows of a certificate it made. */
export interface SignedAdminCert {
  serial: string;
  notBeforeMs: number;
  notAfterMs: number;
}

/** The calling credential, as auth.ts found it. */
export interface AdminCaller {
  credential: AdminCredentialRecord;
  serial: string;
}

export function describeCaller(c: AdminCaller): string {
  return `admin ${c.credential.id} (${c.credential.label}, serial ${c.serial})`;
}

/** Why a certificate of `credential` (undefined: of no known lineage) is refused; null: it is not. */
function refusal(credential: AdminCredentialRecord | undefined, serial: string): PermissionDeniedError | null {
  if (!credential) {
    return new PermissionDeniedError(
      'admin-credential-unknown',
      `admin credential serial ${serial} is not known to this coordinator: it has no record of signing it (was its state restored from a backup older than the credential?), so it could not be revoked and is refused; ` +
        'ask an operator for a new one (`muster admin issue --name NAME -o FILE`), or on the coordinator host use --data-dir DIR',
    );
  }
  if (credential.revokedAtMs) {
    return new PermissionDeniedError(
      'admin-credential-revoked',
      `admin credential ${credential.id} (${credential.label}) was revoked at ${new Date(credential.revokedAtMs).toISOString()} by ${credential.revokedBy}: ` +
        'this config can no longer call the coordinator or renew itself; ask an operator for a new one (`muster admin issue --name NAME -o FILE`)',
    );
  }
  return null;
}

export class AdminCredentials {
  readonly #w: StateWriter;
  readonly #creds: Table<AdminCredentialRecord>;
  readonly #certs: Table<AdminCertRecord>;
  readonly #clock: () => number;
  /** Last call per lineage since this process started: kept in memory, a call writes nothing. */
  readonly #lastUsed = new Map<string, number>();

  constructor(w: StateWriter, clock: () => number) {
    this.#w = w;
    this.#creds = w.table<AdminCredentialRecord>(ADMIN_CREDENTIALS_PREFIX);
    this.#certs = w.table<AdminCertRecord>(ADMIN_CERTS_PREFIX);
    this.#clock = clock;
  }

  // ---------------------------------------------------------------- checks (committed, in memory)

  /**
   * The lineage a verified admin certificate belongs to, or why it is refused. `notBeforeMs` is
   * the certificate's own, which places an unrecorded one before or after recording began.
   */
  authorize(serial: string, notBeforeMs: number): AdminCaller {
    const cert = this.#certs.get(serial);
    const legacy = this.#creds.get(LEGACY_CREDENTIAL);
    const credential = cert ? this.#creds.get(cert.credentialId) : legacy && notBeforeMs < legacy.createdAtMs ? legacy : undefined;
    const refused = refusal(credential, serial);
    if (refused) throw refused;
    this.#lastUsed.set(credential!.id, this.#clock());
    return { credential: credential!, serial };
  }

  /** Whether `serial` is one the coordinator signed for its own data dir (committed). */
  isDataDirSerial(serial: string): boolean {
    return this.#certs.get(serial)?.credentialId === DATA_DIR_CREDENTIAL;
  }

  /** Inside a mutation: the caller's lineage as it stands now (a revocation queued before counts). */
  #assertUsable(caller: AdminCaller): AdminCredentialRecord {
    const now = this.#creds.latest(caller.credential.id);
    const refused = refusal(now, caller.serial);
    if (refused) throw refused;
    return now!;
  }

  // ---------------------------------------------------------------- reads (committed)

  list(): AdminCredentialRecord[] {
    const order = (r: AdminCredentialRecord) => (r.kind === 'data-dir' ? 0 : r.kind === 'legacy' ? 1 : 2);
    return this.#creds.values().sort((a, b) => order(a) - order(b) || a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  get(id: string): AdminCredentialRecord | undefined {
    return this.#creds.get(id);
  }

  /** A lineage's certificates, oldest first. */
  certificates(id: string): AdminCertRecord[] {
    return this.#certs
      .values()
      .filter((c) => c.credentialId === id)
      .sort((a, b) => a.atMs - b.atMs || a.notAfterMs - b.notAfterMs);
  }

  lastUsed(id: string): number {
    return this.#lastUsed.get(id) ?? 0;
  }

  // ---------------------------------------------------------------- mutations

  /**
   * At start, before the data dir's credential is looked at: on a data dir that existed before
   * credentials were recorded (it has CAs and no record), opens the legacy lineage.
   */
  beginRecords(o: { existingDataDir: boolean }): Promise<void> {
    return this.#w.run(async () => {
      if (!o.existingDataDir || this.#creds.latestNames().length) return;
      void this.#w.txn([this.#creds.put(LEGACY_CREDENTIAL, this.#lineage(LEGACY_CREDENTIAL, 'credentials signed before records began (older muster)', 'legacy', 'coordinator', 0))]);
    });
  }

  /** Records a certificate the coordinator signed for its own data dir, before it is written there. */
  recordDataDir(cert: SignedAdminCert): Promise<void> {
    return this.#w.run(async () => {
      const ops = [];
      if (!this.#creds.latest(DATA_DIR_CREDENTIAL)) ops.push(this.#creds.put(DATA_DIR_CREDENTIAL, this.#lineage(DATA_DIR_CREDENTIAL, DATA_DIR_LABEL, 'data-dir', 'coordinator', 0)));
      const previous = this.#newestSerial(DATA_DIR_CREDENTIAL);
      ops.push(this.#certs.put(cert.serial, this.#cert(cert, DATA_DIR_CREDENTIAL, previous)));
      void this.#w.txn(ops);
    });
  }

  static validateIssue(label: string, ttlMs: number): string {
    const l = label.trim();
    if (!l) throw new InvalidArgumentError('an admin credential needs a label saying who it is for (--name "alice laptop")');
    if (l.length > MAX_ADMIN_LABEL) throw new InvalidArgumentError(`admin credential label is longer than ${MAX_ADMIN_LABEL} characters`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(l)) throw new InvalidArgumentError('admin credential label contains control characters');
    if (!Number.isFinite(ttlMs) || ttlMs < 0 || (ttlMs > 0 && ttlMs < MIN_ADMIN_TTL_MS) || ttlMs > MAX_ADMIN_TTL_MS) {
      throw new InvalidArgumentError(`admin credential lifetime ${ttlMs} ms is out of range: give 1m to ${MAX_ADMIN_TTL_MS / 86_400_000}d (0 = the coordinator's default, 1 year)`);
    }
    return l;
  }

  /** A new lineage for one operator, with its first certificate; committed before it resolves. */
  issue(o: { label: string; ttlMs: number; cert: SignedAdminCert; caller: AdminCaller }): Promise<AdminCredentialRecord> {
    const label = AdminCredentials.validateIssue(o.label, o.ttlMs);
    return this.#w.run(async () => {
      this.#assertUsable(o.caller);
      let id = randomBytes(4).toString('hex');
      while (this.#creds.latest(id)) id = randomBytes(4).toString('hex');
      const rec = this.#lineage(id, label, 'issued', describeCaller(o.caller), o.ttlMs);
      void this.#w.txn([this.#creds.put(id, rec), this.#certs.put(o.cert.serial, this.#cert(o.cert, id, ''))]);
      return rec;
    });
  }

  /**
   * Before signing a renewal: refuses a revoked lineage, and the data dir's own credential (the
   * coordinator renews that itself; a RenewAdmin with it comes from a copy). Returns the
   * lifetime the renewal gets (0: the default).
   */
  renewalTtlMs(caller: AdminCaller): number {
    if (caller.credential.kind === 'data-dir') {
      throw new FailedPreconditionError(
        'admin-data-dir-copy',
        `this is the coordinator data dir's own admin credential (serial ${caller.serial}), which only the coordinator renews; a copy of it is not renewed and stops working when it expires: ` +
          'get a credential of your own with `muster admin issue --name NAME -o FILE`',
      );
    }
    return caller.credential.ttlMs;
  }

  /** Records a renewal in the caller's lineage; refused when that lineage was revoked meanwhile. */
  renew(caller: AdminCaller, cert: SignedAdminCert): Promise<void> {
    return this.#w.run(async () => {
      const lineage = this.#assertUsable(caller);
      void this.#w.txn([this.#certs.put(cert.serial, this.#cert(cert, lineage.id, caller.serial))]);
    });
  }

  /** Revokes a lineage: every certificate of it, past and future renewals included. */
  revoke(id: string, caller: AdminCaller, force: boolean): Promise<{ record: AdminCredentialRecord; alreadyRevoked: boolean }> {
    return this.#w.run(async () => {
      this.#assertUsable(caller);
      const r = this.#creds.latest(id);
      if (!r) throw new NotFoundError(`admin credential ${id} does not exist; see \`muster admin list\``);
      if (r.kind === 'data-dir') {
        throw new FailedPreconditionError(
          'admin-data-dir-not-revocable',
          `admin credential ${id} is the coordinator data dir's own (DATA/admin.yaml): it cannot be revoked, the coordinator and its host depend on it. ` +
            'If the data dir is compromised, its CA keys are too: the remedy is a new coordinator data dir, not a revocation',
        );
      }
      if (r.revokedAtMs) return { record: r, alreadyRevoked: true };
      if (r.id === caller.credential.id && !force) {
        throw new FailedPreconditionError(
          'admin-self-revoke',
          `admin credential ${id} (${r.label}) is the one this command is using: revoking it would lock you out. Revoke it from another admin config, or pass --force to do it anyway`,
        );
      }
      const next: AdminCredentialRecord = { ...r, revokedAtMs: this.#clock(), revokedBy: describeCaller(caller) };
      void this.#w.txn([this.#creds.put(id, next)]);
      return { record: next, alreadyRevoked: false };
    });
  }

  #lineage(id: string, label: string, kind: AdminCredentialKind, issuedBy: string, ttlMs: number): AdminCredentialRecord {
    return { id, label, kind, createdAtMs: this.#clock(), issuedBy, ttlMs, revokedAtMs: 0, revokedBy: '' };
  }

  #cert(c: SignedAdminCert, credentialId: string, renewedFrom: string): AdminCertRecord {
    return { serial: c.serial, credentialId, notBeforeMs: c.notBeforeMs, notAfterMs: c.notAfterMs, renewedFrom, atMs: this.#clock() };
  }

  /** Writer's view: the newest certificate of a lineage (cheap: a lineage has a handful). */
  #newestSerial(id: string): string {
    let best: AdminCertRecord | undefined;
    for (const name of this.#certs.latestNames()) {
      const c = this.#certs.latest(name);
      if (c?.credentialId === id && (!best || c.atMs > best.atMs || (c.atMs === best.atMs && c.notAfterMs > best.notAfterMs))) best = c;
    }
    return best?.serial ?? '';
  }
}
