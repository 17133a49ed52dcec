// Whether a certificate the node holds is still the right one, as pure functions: a reason to
// ask for it again, or null. The reasons end up in the log line that says what was requested,
// so they say what is wrong in words an operator recognises.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { certInfo, issuedBy, publicKeyId } from '../../shared/pki/x509.ts';
import type { CertKind } from '../../shared/pki/catalogue.ts';
import { bundleFingerprints, splitBundle } from '../../shared/pki/bundle.ts';
import { issuedAtMs } from '../../shared/pki/lifetime.ts';

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
  /** The assignment's target for the kind's CA: the CA that must have signed it. */
  signerFingerprint?: string;
  /** Certificates issued before this instant are renewed (`muster certs renew`); 0: none. */
  renewBeforeMs?: number;
}

/**
 * Reading the issue time back from whole-second validity fields loses up to a second: a
 * certificate counts as issued before the request only when it is more than that older (the
 * coordinator sets the threshold so that this is exact, coordinator/state/cluster-state.ts).
 */
const ISSUED_AT_SLACK_MS = 1_000;

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
  if (c.signerFingerprint) {
    const signer = splitBundle(c.caBundlePem).find((ca) => fingerprintOf(ca) === c.signerFingerprint);
    // A bundle without the signer is stale itself; the call that fetches it decides again.
    if (signer && !issuedByQuiet(c.certPem, signer)) return `signed by a ${c.kind.ca} CA that is being rotated out`;
  }
  if (c.renewBeforeMs && issuedAtMs(info.notBefore, info.notAfter) + ISSUED_AT_SLACK_MS < c.renewBeforeMs) {
    return `renewal requested by an operator at ${new Date(c.renewBeforeMs).toISOString()}`;
  }
  const due = c.renewAt(c.certPem);
  if (c.now >= due) return `due for renewal since ${new Date(due).toISOString()} (expires ${info.notAfter.toISOString()})`;
  return null;
}

/**
 * Whether a certificate has entered its renewal window (RENEW_WINDOW's start of its lifetime,
 * 70%). One that has is renewed alongside any that is due (ClusterCertificates), so a node's
 * certificates renew in one call and each component restarts once, not once per certificate it
 * uses (an API server uses five).
 */
export function inRenewalWindow(notBefore: Date, notAfter: Date, now: number, windowStart: number): boolean {
  const nb = notBefore.getTime();
  return now >= nb + (notAfter.getTime() - nb) * windowStart;
}

function fingerprintOf(pem: string): string {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return '';
  }
}

function issuedByQuiet(certPem: string, caPem: string): boolean {
  try {
    return issuedBy(certPem, caPem);
  } catch {
    return false;
  }
}

/**
 * Why the node's bundle of a CA is not what its assignment names (other CAs, another order), or
 * null. The fix is one IssueCertificates call, which returns the bundles.
 */
export function bundleProblem(bundlePem: string | null, wanted: readonly string[] | undefined): string | null {
  if (!wanted?.length) return null;
  if (!bundlePem) return 'missing';
  const have = bundleFingerprints(bundlePem);
  if (!have) return 'unreadable';
  return have.join(',') === wanted.join(',') ? null : `holds ${have.length} CA(s), the assignment names ${wanted.length}${wanted.length > 1 ? ' (a CA rotation is trusting a new CA)' : have.length > 1 ? ' (a CA rotation dropped the old CA)' : ' (another CA)'}`;
}
