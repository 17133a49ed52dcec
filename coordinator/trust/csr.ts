// Identity CSRs the coordinator signs (a node's join and renewal, an admin's renewal): the CSR
// verified and checked against the name it is for, and a node identity signed from it. The
// subject and usages are ours, never the CSR's.
import { parseCsr, signCsr, signCsrLeaf, certInfo, type CertAndKey, type ParsedCsr } from '../../shared/pki/x509.ts';
import { InvalidArgumentError } from '../../shared/errors/index.ts';
import { ADMIN_CN, ADMIN_ORG, NODE_ORG } from '../../shared/constants.ts';

/** Signs a node identity for a verified CSR: CN = node name, O = muster:nodes, client auth only, no SANs. */
export function signNodeIdentity(nodeCa: CertAndKey, csr: ParsedCsr, name: string, ttlMs: number): { certPem: string; serial: string } {
  const { certPem, serial } = signCsrLeaf(nodeCa, csr, { cn: name, orgs: [NODE_ORG], usages: ['client'], days: 0, ttlMs });
  return { certPem, serial };
}

/** Signs an admin credential for a verified CSR: CN = muster-admin, O = muster:admins, client auth only. */
export function signAdminIdentity(adminCa: CertAndKey, csr: ParsedCsr, ttlMs: number): { certPem: string; serial: string; notBeforeMs: number; notAfterMs: number } {
  const certPem = signCsr(adminCa, csr, { cn: ADMIN_CN, orgs: [ADMIN_ORG], usages: ['client'], days: 0, ttlMs });
  const info = certInfo(certPem);
  return { certPem, serial: info.serial, notBeforeMs: info.notBefore.getTime(), notAfterMs: info.notAfter.getTime() };
}

/** A CSR is a few hundred bytes; anything much larger is not one of ours. */
const MAX_CSR_CHARS = 8192;

export async function verifiedCsr(pem: string, name: string, who: string): Promise<ParsedCsr> {
  if (pem.length > MAX_CSR_CHARS) throw new InvalidArgumentError(`the certificate signing request from ${who} is ${pem.length} characters; at most ${MAX_CSR_CHARS}`);
  let csr;
  try {
    csr = await parseCsr(pem);
  } catch (err) {
    throw new InvalidArgumentError(`the certificate signing request from ${who} is invalid: ${(err as Error).message}`);
  }
  if (csr.cn !== name) throw new InvalidArgumentError(`the CSR is for CN=${JSON.stringify(csr.cn)} but the node is ${name}; they must match`);
  return csr;
}
