// The coordinator's TLS listener. It is ours, not grpc-js's `bindAsync`, because every limit
// that must act before authentication needs the socket, and grpc-js keeps its sockets private:
//
// - The handshake timeout is node's `tls.Server` `handshakeTimeout` (grpc-js builds its server
//   from ServerCredentials `_get*Options()`, underscore methods we would have to subclass).
// - The connection caps are counted here, on the TCP socket, before TLS costs anything: all
//   connections (`maxConnections`, node closes the excess at accept), and connections without a
//   verified client certificate -- in handshake, or done without one -- closed at once over
//   their cap. Connections mid-handshake count as unverified because nothing is known of them
//   yet: a flood of slow handshakes is bounded by this cap and the handshake timeout.
// - After the handshake the connection is classified by its verified client certificate
//   (PeerClass) and handed, already decrypted, to the grpc.Server for its class through
//   grpc-js's public `createConnectionInjector` (with insecure credentials: TLS is done). Each
//   class's server has its own `grpc.max_receive_message_length`, which grpc-js checks against a
//   message's 5-byte length prefix before it buffers the message, so an oversized call is refused
//   with RESOURCE_EXHAUSTED having cost a few KB. A per-method limit inside one grpc.Server
//   would mean patching its per-call decoder (private); a per-connection class is the same
//   thing here, since the client certificate -- what decides which methods may succeed -- is a
//   property of the connection.
//
// Handlers still see the peer certificate: grpc-js's `getAuthContext()` reads it from the
// session's socket (`instanceof TLSSocket`, `authorized`, `getPeerCertificate()`), which is this
// TLSSocket, exactly as when grpc-js made it (test/server/admission.test.ts checks).
import type * as grpc from '@grpc/grpc-js';
import { createServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { ADMIN_ORG } from '../../../shared/constants.ts';
import type { Logger } from '../../../shared/log/logger.ts';
import type { LogLimiter } from './log-limiter.ts';

/** Who is at the other end of a connection, as far as TLS says. */
export type PeerClass = 'anonymous' | 'node' | 'admin';
export const PEER_CLASSES: readonly PeerClass[] = ['anonymous', 'node', 'admin'];

export interface ListenerLimits {
  handshakeTimeoutMs: number;
  maxConnections: number;
  maxUnverifiedConnections: number;
  maxUnverifiedPerSource: number;
}

/** The serving identity: grpc-js's CertificateProvider shape, so credentials.ts's ServingIdentity fits and its `replace()` renews here too. */
export type IdentitySource = Pick<grpc.experimental.CertificateProvider, 'addIdentityCertificateListener' | 'removeIdentityCertificateListener'>;

export interface ListenerTls {
  identity: IdentitySource;
  /** CAs whose certificates are verified clients (the node CA and the admin CA). */
  clientCaPems: string[];
}

type IdentityUpdate = { certificate: Buffer; privateKey: Buffer } | null;

/**
 * After the handshake a connection's peer certificate is fixed -- renegotiation, the one way a
 * TLS 1.2 client could present another, is refused here -- but grpc-js reads it again for every
 * call (`getAuthContext()` -> `getPeerCertificate()`), and parsing it each time was a tenth of
 * the coordinator's CPU when a plan change reached 10,000 nodes. Parsed once per connection; the
 * class below and every handler see that one certificate.
 */
export function memoisePeerCertificate(socket: TLSSocket): void {
  socket.disableRenegotiation();
  const read = socket.getPeerCertificate.bind(socket);
  const peer = read(false);
  socket.getPeerCertificate = ((detailed?: boolean) => (detailed ? read(true) : peer)) as TLSSocket['getPeerCertificate'];
}

/** The class of a finished handshake: a verified certificate in O=ADMIN_ORG is an admin, any other verified one a node. */
export function classifySocket(socket: TLSSocket): PeerClass {
  if (!socket.authorized) return 'anonymous';
  const o = socket.getPeerCertificate()?.subject?.O;
  const orgs = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return orgs.includes(ADMIN_ORG) ? 'admin' : 'node';
}

export class AdmissionListener {
  readonly #limits: ListenerLimits;
  readonly #injectors: Record<PeerClass, grpc.ConnectionInjector>;
  readonly #log: Logger;
  readonly #refusals: LogLimiter;
  readonly #tls: ListenerTls;
  #server: TlsServer | null = null;
  #onIdentity: ((u: IdentityUpdate) => void) | null = null;
  readonly #sockets = new Set<Socket>();
  /** Unverified connections by source address, and the source of each such socket. */
  readonly #unverifiedBySource = new Map<string, number>();
  readonly #unverifiedSource = new Map<Socket, string>();
  #verified = 0;
  #closing = false;
  /** Connections per class, for tests and metrics. */
  readonly counts: Record<PeerClass, number> = { anonymous: 0, node: 0, admin: 0 };
  /** Connections accepted since start (past the handshake), per class. */
  readonly accepted: Record<PeerClass, number> = { anonymous: 0, node: 0, admin: 0 };

  constructor(limits: ListenerLimits, injectors: Record<PeerClass, grpc.ConnectionInjector>, tls: ListenerTls, log: Logger, refusals: LogLimiter) {
    this.#limits = limits;
    this.#injectors = injectors;
    this.#tls = tls;
    this.#log = log;
    this.#refusals = refusals;
  }

  /** TCP connections open now, in handshake or not. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Connections without a verified client certificate (in handshake, or anonymous). */
  get unverified(): number {
    return this.#sockets.size - this.#verified;
  }

  /** Listens once the serving identity is known; resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    if (this.#server) throw new Error('admission listener: listen() called twice');
    const first = await new Promise<NonNullable<IdentityUpdate>>((resolve, reject) => {
      let seen = false;
      this.#onIdentity = (u) => {
        if (!seen) {
          seen = true;
          if (u) resolve(u);
          else reject(new Error('admission listener: the serving identity provider gave no certificate'));
          return;
        }
        if (u && this.#server) this.#server.setSecureContext(this.#context(u));
      };
      this.#tls.identity.addIdentityCertificateListener(this.#onIdentity);
    });
    const server = createServer({
      ...this.#context(first),
      // Requested, not required: Bootstrap calls come before a node has a certificate. Handlers
      // check the verified certificate themselves (auth.ts).
      requestCert: true,
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      minVersion: 'TLSv1.2',
      handshakeTimeout: this.#limits.handshakeTimeoutMs,
    });
    server.maxConnections = this.#limits.maxConnections;
    this.#server = server;
    server.on('drop', (d?: { remoteAddress?: string }) => this.#refuse('connection-cap', `refused a connection from ${d?.remoteAddress ?? 'unknown'}: ${this.#limits.maxConnections} connections open (maxConnections)`));
    // Before tls.Server's own listener: an excess connection never starts a handshake.
    server.prependListener('connection', (socket: Socket) => this.#accept(socket));
    server.on('secureConnection', (socket: TLSSocket) => this.#admit(socket));
    // Handshake timeouts, port scanners, clients that do not trust us: noise at debug.
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      this.#log.debug(`TLS handshake from ${socket.remoteAddress ?? 'unknown'} failed: ${err.message}`);
      socket.destroy();
    });
    server.on('error', (err) => this.#log.error(`coordinator listener: ${err.message}`));
    return new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  #context(u: NonNullable<IdentityUpdate>) {
    return { cert: u.certificate, key: u.privateKey, ca: this.#tls.clientCaPems };
  }

  #accept(socket: Socket): void {
    if (this.#closing || this.unverified >= this.#limits.maxUnverifiedConnections) {
      socket.destroy();
      if (!this.#closing) {
        this.#refuse('unverified-cap', `refused a connection from ${socket.remoteAddress ?? 'unknown'}: ${this.#limits.maxUnverifiedConnections} connections without a verified client certificate open (maxUnverifiedConnections)`);
      }
      return;
    }
    const source = socket.remoteAddress ?? 'unknown';
    const fromSource = this.#unverifiedBySource.get(source) ?? 0;
    if (fromSource >= this.#limits.maxUnverifiedPerSource) {
      socket.destroy();
      this.#refuse(`unverified-source ${source}`, `refused a connection from ${source}: it has ${fromSource} connections without a verified client certificate open (maxUnverifiedPerSource)`);
      return;
    }
    this.#unverifiedBySource.set(source, fromSource + 1);
    this.#unverifiedSource.set(socket, source);
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#verifiedNow(socket);
    });
  }

  /** The socket no longer counts against its source's unverified connections (verified, or closed). */
  #verifiedNow(socket: Socket): void {
    const source = this.#unverifiedSource.get(socket);
    if (source === undefined) return;
    this.#unverifiedSource.delete(socket);
    const n = (this.#unverifiedBySource.get(source) ?? 1) - 1;
    if (n > 0) this.#unverifiedBySource.set(source, n);
    else this.#unverifiedBySource.delete(source);
  }

  #admit(socket: TLSSocket): void {
    // Errors on an established TLS socket must have a listener (nodejs/node#35824); the http2
    // session that takes the socket over reports them as a closed connection.
    socket.on('error', (err) => this.#log.debug(`connection from ${socket.remoteAddress ?? 'unknown'}: ${err.message}`));
    if (this.#closing) {
      socket.destroy();
      return;
    }
    memoisePeerCertificate(socket);
    const cls = classifySocket(socket);
    this.counts[cls]++;
    this.accepted[cls]++;
    if (cls !== 'anonymous') {
      this.#verified++;
      // The raw TCP socket was counted at accept; the TLS socket wraps it.
      this.#verifiedNow((socket as TLSSocket & { _parent?: Socket })._parent ?? socket);
    }
    socket.once('close', () => {
      this.counts[cls]--;
      if (cls !== 'anonymous') this.#verified--;
    });
    this.#injectors[cls].injectConnection(socket);
  }

  #refuse(key: string, line: string): void {
    this.#refusals.log(key, line);
  }

  /** Whether it is bound and accepting connections now (readiness). */
  get accepting(): boolean {
    return !this.#closing && Boolean(this.#server?.listening);
  }

  /** Stops accepting; connections already open are left to the grpc.Servers' shutdown. */
  stopAccepting(): Promise<void> {
    this.#closing = true;
    if (this.#onIdentity) this.#tls.identity.removeIdentityCertificateListener(this.#onIdentity);
    const server = this.#server;
    if (!server?.listening) return Promise.resolve();
    // close() calls back once every connection has ended; the grpc.Servers end theirs, and
    // destroyAll() ends the rest, so do not wait here.
    return new Promise((resolve) => {
      server.close(() => resolve());
      setImmediate(resolve);
    });
  }

  /** Closes every socket still open: handshakes in progress and whatever shutdown left behind. */
  destroyAll(): void {
    for (const s of this.#sockets) s.destroy();
  }
}
