// Whether a certificate the node holds is still the right one, as pure functions: a reason to
// ask for it again, or null. The reasons end up in the log line that says what was requested,
// so they say what is wrong in words an operator recognises.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { certInfo, issuedBy, publicKeyId } from '../../shared/pki/x509.ts';
import type { CertKind } from '../../shared/pki/catalogue.ts';

/** The names and addresses certificates with SANs must carry for this node. */
export interface NodeNames {
  nodeName: string;
  addresses: readonly string[];
}

/** A private key the coordinator will sign for (ECDSA P-256, like every key in muster). */
export function usableKey(pem: string | null): boolean {
  if (!pem) return false;
  try {
    const k = createPrivateKey(pem);
    return k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  } catch {
    return false;
  }
}

/** The certificates in a PEM bundle (during a CA rotation a bundle holds the old and the new CA). */
export function splitBundle(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function signedByBundle(certPem: string, bundlePem: string): boolean {
  return splitBundle(bundlePem).some((ca) => {
    try {
      return issuedBy(certPem, ca);
    } catch {
      return false;
    }
  });
}

/** A service-account pair whose public key is that of its private key. */
export function usableServiceAccount(privatePem: string | null, publicPem: string | null): boolean {
  if (!privatePem || !publicPem) return false;
  try {
    return publicKeyId(createPrivateKey(privatePem)) === publicKeyId(createPublicKey(publicPem));
  } catch {
    return false;
  }
}

export interface CheckInput {
  kind: CertKind;
  keyPem: string;
  certPem: string | null;
  /** The bundle of the kind's CA on the node; null when it is missing. */
  caBundlePem: string | null;
  names: NodeNames;
  now: number;
  /** When this certificate is due for renewal (its point in the renewal window). */
  renewAt: (certPem: string) => number;
}

/**
 * Why `certPem` must be requested again, or null when it is good: missing or unreadable; not for
 * `keyPem`; not signed by the CA bundle on the node; a subject other than the catalogue's; SANs
 * without this node's name or addresses; expired or due for renewal.
 */
export function certificateProblem(c: CheckInput): string | null {
  if (!c.certPem) return 'missing';
  let info, x509;
  try {
    info = certInfo(c.certPem);
    x509 = new X509Certificate(c.certPem);
  } catch {
    return 'unreadable';
  }
  if (info.keyId !== publicKeyId(c.keyPem)) return 'does not match its key';
  if (!c.caBundlePem) return `the ${c.kind.ca} CA bundle is missing`;
  if (!signedByBundle(c.certPem, c.caBundlePem)) return `not signed by the ${c.kind.ca} CA bundle on the node`;
  const cn = c.kind.cn(c.names.nodeName);
  if (info.subjectCN !== cn || [...info.orgs].sort().join(',') !== [...c.kind.orgs].sort().join(',')) return `subject is CN=${info.subjectCN}, not CN=${cn}`;
  if (c.kind.sans !== 'none') {
    // checkHost/checkIP match against the SAN extension only (subject: 'never').
    if (!x509.checkHost(c.names.nodeName, { subject: 'never', wildcards: false })) return `SANs lack the node name ${c.names.nodeName}`;
    for (const ip of c.names.addresses) if (!x509.checkIP(ip)) return `SANs lack the node address ${ip}`;
  }
  if (c.now >= info.notAfter.getTime()) return `expired at ${info.notAfter.toISOString()}`;
  const due = c.renewAt(c.certPem);
  if (c.now >= due) return `due for renewal since ${new Date(due).toISOString()} (expires ${info.notAfter.toISOString()})`;
  return null;
}
