// Admin credential records as the wire shows them (ListAdmins, IssueAdmin, RevokeAdmin).
import type { AdminCredential } from '../../proto/gen/types/muster/v1/AdminCredential.ts';
import type { AdminCredentialKind } from '../../proto/gen/types/muster/v1/AdminCredentialKind.ts';
import type { AdminCaller, AdminCredentialKind as Kind, AdminCredentialRecord, AdminCredentials } from '../state/admins.ts';

const KINDS: Record<Kind, AdminCredentialKind> = {
  issued: 'ADMIN_CREDENTIAL_KIND_ISSUED',
  'data-dir': 'ADMIN_CREDENTIAL_KIND_DATA_DIR',
  legacy: 'ADMIN_CREDENTIAL_KIND_LEGACY',
};

export function adminCredentialInfo(admins: AdminCredentials, r: AdminCredentialRecord, caller: AdminCaller): AdminCredential {
  return {
    id: r.id,
    label: r.label,
    kind: KINDS[r.kind],
    created_at_ms: r.createdAtMs,
    issued_by: r.issuedBy,
    revoked: r.revokedAtMs > 0,
    revoked_at_ms: r.revokedAtMs,
    revoked_by: r.revokedBy,
    last_used_ms: admins.lastUsed(r.id),
    caller: r.id === caller.credential.id,
    certificates: admins.certificates(r.id).map((c) => ({ serial: c.serial, not_before_ms: c.notBeforeMs, not_after_ms: c.notAfterMs, renewed_from: c.renewedFrom, issued_at_ms: c.atMs })),
  };
}
