// The certificate expiry horizon the metrics report: the earliest notAfter among the
// coordinator's own CAs and serving certificate ("identity"), and among the cluster CAs and the
// leaves it issued ("cluster", from the issuer's expiration list). PEMs are parsed once each
// (a renewed serving certificate is a new PEM, parsed once when first seen).
import { X509Certificate } from 'node:crypto';
import type { CoordinatorIdentity } from '../trust/identity.ts';
import type { ClusterIssuer } from '../pki/issuer.ts';

const parsed = new Map<string, number>();

function notAfterMs(pem: string): number {
  let at = parsed.get(pem);
  if (at === undefined) {
    at = Date.parse(new X509Certificate(pem).validTo);
    if (parsed.size > 16) parsed.clear(); // a few PEMs in use at once; renewals replace them
    parsed.set(pem, at);
  }
  return at;
}

export function earliestExpiryMs(s: { identity: CoordinatorIdentity; serverCertPem(): string; issuer: Pick<ClusterIssuer, 'expirations'> }): { identity: number; cluster: number } {
  const own = [s.identity.serverCa.certPem, s.identity.nodeCa.certPem, s.identity.adminCa.certPem, s.serverCertPem()];
  const identity = Math.min(...own.map(notAfterMs));
  let cluster = Infinity;
  for (const e of s.issuer.expirations()) cluster = Math.min(cluster, Number(e.not_after_ms));
  return { identity, cluster };
}
