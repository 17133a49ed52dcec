// Server TLS: the coordinator's certificate, and the identity CA for client certificates.
// Client certificates are requested but not required, because Bootstrap calls come before a
// node has one; Agent and Admin methods check the verified certificate themselves (auth.ts).
import * as grpc from '@grpc/grpc-js';
import type { CertAndKey } from '../../shared/pki/x509.ts';

type Provider = grpc.experimental.CertificateProvider;

/** A CertificateProvider that always holds the same certificates. */
class StaticProvider implements Provider {
  readonly #ca: Buffer | null;
  readonly #identity: { certificate: Buffer; privateKey: Buffer } | null;
  constructor(ca: Buffer | null, identity: { certificate: Buffer; privateKey: Buffer } | null) {
    this.#ca = ca;
    this.#identity = identity;
  }
  addCaCertificateListener(l: (u: { caCertificate: Buffer } | null) => void): void {
    queueMicrotask(() => l(this.#ca ? { caCertificate: this.#ca } : null));
  }
  removeCaCertificateListener(): void {}
  addIdentityCertificateListener(l: (u: { certificate: Buffer; privateKey: Buffer } | null) => void): void {
    queueMicrotask(() => l(this.#identity));
  }
  removeIdentityCertificateListener(): void {}
}

export function serverCredentials(ca: CertAndKey, server: CertAndKey): grpc.ServerCredentials {
  const caProvider = new StaticProvider(Buffer.from(ca.certPem), null);
  const idProvider = new StaticProvider(null, { certificate: Buffer.from(server.certPem + ca.certPem), privateKey: Buffer.from(server.keyPem) });
  return grpc.experimental.createCertificateProviderServerCredentials(idProvider, caProvider, false);
}
