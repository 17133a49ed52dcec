// A copied admin config renews itself: when its certificate is past 70% of its lifetime, the
// next admin command asks the coordinator for a new one (RenewAdmin, authenticated by the
// current certificate, for a key made here) and rewrites the file: same credential, new serial
// (a revocation covers it). The coordinator renews the admin.yaml in its own data dir by itself
// and refuses to renew it over the wire (a copy of it lives only until it expires); issued
// configs stay valid as long as they are used and not revoked.
import { X509Certificate } from 'node:crypto';
import { createCsr } from '../../shared/pki/x509.ts';
import { ADMIN_CN, RENEW_WINDOW } from '../../shared/constants.ts';
import { writeAdminConfig, type AdminConfig } from './config.ts';
import type { Admin } from './client.ts';

/** Whether the config's certificate is inside its renewal window. */
export function adminCertDue(cfg: AdminConfig, now = Date.now()): boolean {
  const c = new X509Certificate(cfg.client_cert);
  const from = Date.parse(c.validFrom);
  const to = Date.parse(c.validTo);
  return now >= from + (to - from) * RENEW_WINDOW[0];
}

/** Renews and rewrites the config when due; returns the config to use from now on. */
export async function renewAdminIfDue(admin: Admin, cfg: AdminConfig & { path: string }, now = Date.now()): Promise<AdminConfig & { path: string } | null> {
  if (!adminCertDue(cfg, now)) return null;
  const { keyPem, csrPem } = await createCsr(ADMIN_CN);
  const res = await admin.call('RenewAdmin', { csr_pem: csrPem });
  const next = { ...cfg, client_cert: res.cert_pem, client_key: keyPem };
  const { path, ...fields } = next;
  await writeAdminConfig(path, fields);
  return next;
}
