// PEM trust bundles: several CA certificates in one file (during a CA rotation a node's bundle
// holds the old and the new CA). The agent compares its bundles with its assignment's PkiTarget
// by fingerprint, the coordinator builds them from the fingerprints it names.
import { X509Certificate } from 'node:crypto';

/** The certificates of a PEM bundle, each from BEGIN to END (no trailing newline). */
export function splitBundle(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** SHA-256 fingerprints of a bundle's certificates, in order; null when one does not parse. */
export function bundleFingerprints(pem: string): string[] | null {
  try {
    return splitBundle(pem).map((c) => new X509Certificate(c).fingerprint256);
  } catch {
    return null;
  }
}
