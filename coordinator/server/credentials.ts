// Server TLS: the coordinator's serving certificate (which can be replaced while the server runs:
// renewal needs no restart), and the node and admin CAs for client certificates. Client
// certificates are requested but not required, because Bootstrap calls come before a node has
// one; Agent and Admin methods check the verified certificate themselves (auth.ts). The server
// CA is not among the client CAs: nothing it signs is a client.
import * as grpc from '@grpc/grpc-js';
import type { CertAndKey } from '../../shared/pki/x509.ts';

type Provider = grpc.experimental.CertificateProvider;
type IdentityUpdate = { certificate: Buffer; privateKey: Buffer };
type CaUpdate = { caCertificate: Buffer };

/** A CertificateProvider whose identity can be swapped; grpc-js applies it to new connections. */
export class ServingIdentity implements Provider {
  #identity: IdentityUpdate;
  readonly #ca: CaUpdate | null;
  readonly #idListeners = new Set<(u: IdentityUpdate | null) => void>();

  constructor(serving: { cert: CertAndKey; chainPem: string } | null, clientCaPems: string[] | null) {
    this.#identity = serving ? toUpdate(serving.cert, serving.chainPem) : { certificate: Buffer.alloc(0), privateKey: Buffer.alloc(0) };
    this.#ca = clientCaPems ? { caCertificate: Buffer.from(clientCaPems.join('')) } : null;
  }

  /** Serve `cert` from now on (existing connections keep theirs until they close). */
  replace(cert: CertAndKey, chainPem: string): void {
    this.#identity = toUpdate(cert, chainPem);
    for (const l of this.#idListeners) l(this.#identity);
  }

  addCaCertificateListener(l: (u: CaUpdate | null) => void): void {
    queueMicrotask(() => l(this.#ca));
  }
  removeCaCertificateListener(): void {}
  addIdentityCertificateListener(l: (u: IdentityUpdate | null) => void): void {
    this.#idListeners.add(l);
    queueMicrotask(() => l(this.#identity));
  }
  removeIdentityCertificateListener(l: (u: IdentityUpdate | null) => void): void {
    this.#idListeners.delete(l);
  }
}

function toUpdate(cert: CertAndKey, chainPem: string): IdentityUpdate {
  return { certificate: Buffer.from(cert.certPem + chainPem), privateKey: Buffer.from(cert.keyPem) };
}

export interface ServerCredentialsInput {
  server: CertAndKey;
  serverCaPem: string;
  /** CAs whose certificates count as clients: the node CA and the admin CA. */
  clientCaPems: string[];
}

export function serverCredentials(i: ServerCredentialsInput): { credentials: grpc.ServerCredentials; serving: ServingIdentity } {
  const serving = new ServingIdentity({ cert: i.server, chainPem: i.serverCaPem }, null);
  const clientCas = new ServingIdentity(null, i.clientCaPems);
  // grpc-js names these parameters the other way round; the first is the identity provider.
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(serving, clientCas, false);
  return { credentials, serving };
}
