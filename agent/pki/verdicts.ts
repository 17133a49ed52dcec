// The checks of checks.ts whose answer depends on the bytes of the node's PKI files alone
// (parsing a key, a certificate's signature by its bundle, its subject and SANs), remembered
// from one pass to the next by a hash of those bytes. The files are still read on every pass:
// a changed byte is a different hash, so the full check runs again, and what only time changes
// (expiry, the renewal point) is decided on every pass. Holds hashes and verdicts, never a PEM.
//
// Why: every drift pass checks every certificate, and a signature check and three parses per
// certificate were most of the pass's CPU on a master (bench/apply.ts).
import { hash } from 'node:crypto';
import { certInfo, type CertInfo } from '../../shared/pki/x509.ts';
import { bundleProblem, certificateProblem, usableKey, usableServiceAccount, type CheckInput } from './checks.ts';

const digest = (text: string) => hash('sha256', text, 'base64');

export class PkiVerdicts {
  /** Verdicts used by this pass, and those of the pass before (what neither uses is dropped). */
  #now = new Map<string, unknown>();
  #last = new Map<string, unknown>();

  /** Starts a pass: verdicts the previous pass did not use are forgotten, so this holds one pass's worth. */
  startPass(): void {
    this.#last = this.#now;
    this.#now = new Map();
  }

  #get<T>(key: string, compute: () => T): T {
    if (this.#now.has(key)) return this.#now.get(key) as T;
    const v = this.#last.has(key) ? (this.#last.get(key) as T) : compute();
    this.#now.set(key, v);
    return v;
  }

  usableKey(pem: string | null): boolean {
    return pem ? this.#get(`key\0${digest(pem)}`, () => usableKey(pem)) : false;
  }

  usableServiceAccount(privatePem: string | null, publicPem: string | null): boolean {
    if (!privatePem || !publicPem) return false;
    return this.#get(`sa\0${digest(privatePem)}\0${digest(publicPem)}`, () => usableServiceAccount(privatePem, publicPem));
  }

  bundleProblem(bundlePem: string | null, wanted: readonly string[] | undefined): string | null {
    if (!bundlePem || !wanted?.length) return bundleProblem(bundlePem, wanted);
    return this.#get(`bundle\0${digest(bundlePem)}\0${wanted.join(',')}`, () => bundleProblem(bundlePem, wanted));
  }

  /** certInfo of a certificate (throws as certInfo does for one that does not parse). */
  certInfo(certPem: string): CertInfo {
    return this.#get(`info\0${digest(certPem)}`, () => certInfo(certPem));
  }

  /**
   * certificateProblem, with the part that depends on bytes and the assignment's target only
   * (everything but `now` and `renewAt`) remembered. A certificate that passes it is good unless
   * it expired or reached its renewal point; then, and whenever that part found a problem, the
   * full check runs and says which.
   */
  certificateProblem(c: CheckInput): string | null {
    if (!c.certPem || !c.caBundlePem) return certificateProblem(c);
    const certPem = c.certPem;
    const key = ['cert', c.kind.kind, digest(c.keyPem), digest(certPem), digest(c.caBundlePem), c.names.nodeName, c.names.addresses.join(','), c.signerFingerprint ?? '', c.renewBeforeMs ?? 0].join('\0');
    // With `now` before any time and no renewal point, only the checks of bytes can fail.
    const good = this.#get(key, () => certificateProblem({ ...c, now: -Infinity, renewAt: () => Infinity }) === null);
    if (!good) return certificateProblem(c);
    if (c.now >= this.certInfo(certPem).notAfter.getTime() || c.now >= c.renewAt(certPem)) return certificateProblem(c);
    return null;
  }
}
