// The coordinator's own admin credential (DATA/admin.yaml), recorded like every admin credential
// (coordinator/state/admins.ts): each certificate is committed before it is written to the data
// dir, at start and at each self-renewal. At start, a data dir whose credential is not a recorded
// data-dir one (first start of this version: it predates the records and may have been copied;
// or a crash between signing and recording) gets a fresh one; the old one is then legacy or
// unknown, never the data dir's.
import { certInfo, type CertAndKey } from '../../shared/pki/x509.ts';
import { issueAdminCert, writeAdminConfigFor, writePair, type CoordinatorIdentity } from './identity.ts';
import type { AdminCredentials, SignedAdminCert } from '../state/admins.ts';

export interface DataDirAdminOptions {
  dataDir: string;
  advertise: string;
  identity: Pick<CoordinatorIdentity, 'adminCa' | 'serverCa' | 'caPin'>;
  ttlMs: number;
  admins: AdminCredentials;
}

export function signedAdminCert(certPem: string): SignedAdminCert {
  const i = certInfo(certPem);
  return { serial: i.serial, notBeforeMs: i.notBefore.getTime(), notAfterMs: i.notAfter.getTime() };
}

/** Signs, records, then writes a new data dir credential; returns it. */
export async function renewDataDirAdmin(o: DataDirAdminOptions): Promise<CertAndKey> {
  const next = await issueAdminCert(o.identity.adminCa, o.ttlMs);
  await o.admins.recordDataDir(signedAdminCert(next.certPem));
  await writePair(o.dataDir, 'admin', next);
  await writeAdminConfigFor(o.dataDir, o.advertise, o.identity.caPin, o.identity.serverCa, next);
  return next;
}

/** The data dir's credential as a recorded data-dir one: `current` when it is, else a fresh one. */
export async function ensureRecordedDataDirAdmin(o: DataDirAdminOptions, current: CertAndKey): Promise<CertAndKey> {
  if (o.admins.isDataDirSerial(certInfo(current.certPem).serial)) return current;
  return renewDataDirAdmin(o);
}
