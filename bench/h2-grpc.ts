// A minimal gRPC client for the fleet simulator (sim-agent.ts): unary calls on node:http2 over
// node:tls, with the protobuf (de)serializers of the real clients and grpc-js's request headers,
// so the coordinator gets the messages and headers grpc-js sends for the real agent. What it
// leaves out is grpc-js's per-channel machinery (resolver, load balancer, subchannel pool,
// interceptor and retry stacks, one secure context per credential): measured, that was a third
// of a simulated agent's CPU, and its subchannel pool is a linear scan over every subchannel of
// the target (all agents have the same one), so the cost grew with the fleet.
//
// One connection per channel, made by the first call and by the first call after it is lost; as
// grpc-js's, calls start when the server's SETTINGS have arrived, and keepalive pings are sent as
// the real agent's channel sends them (shared/wire/keepalive.ts CLIENT_KEEPALIVE). Unlike
// grpc-js, a failed connection is not retried in the background: the caller's retry does it.
// Failures reject with a grpc ServiceError-like {code, details, metadata}, so
// shared/wire/status.ts reads them as it reads grpc-js's.
import * as http2 from 'node:http2';
import * as tls from 'node:tls';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import { CLIENT_KEEPALIVE } from '../shared/wire/keepalive.ts';

/** The parts of a loaded method definition a unary call needs. */
export interface Method<Req, Res> {
  path: string;
  requestSerialize: (req: Req) => Buffer;
  responseDeserialize: (bytes: Buffer) => Res;
}

/** What the caller gets for a failed call: the shape of grpc-js's ServiceError. */
export interface CallError extends Error {
  code: grpc.status;
  details: string;
  metadata: grpc.Metadata;
}

const KEEPALIVE_TIME_MS = CLIENT_KEEPALIVE['grpc.keepalive_time_ms'];
const KEEPALIVE_TIMEOUT_MS = CLIENT_KEEPALIVE['grpc.keepalive_timeout_ms'];
/** grpc-js's user agent, as the coordinator sees it from the real agent. */
const USER_AGENT = `grpc-node-js/${(createRequire(import.meta.url)('@grpc/grpc-js/package.json') as { version: string }).version}`;
const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

function callError(code: grpc.status, details: string, metadata = new grpc.Metadata()): CallError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata });
}

/** grpc-timeout as grpc-js writes it (deadline.ts): the smallest unit whose amount fits 8 digits. */
function timeoutHeader(ms: number): string {
  return ms < 1e8 ? `${Math.ceil(ms)}m` : `${Math.ceil(ms / 1000)}S`;
}

export interface ChannelTls {
  /** Shared by channels that trust the same thing (a context holds no per-connection state). */
  secureContext: tls.SecureContext;
  checkServerIdentity: (host: string, cert: tls.PeerCertificate) => Error | undefined;
  rejectUnauthorized: boolean;
}

/** One HTTP/2 connection and its keepalive state (grpc-js's Http2Transport, reduced). */
class Connection {
  active = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The keepalive timer ran out between calls: ping when the next call starts (as grpc-js). */
  private pingDue = false;

  readonly session: http2.ClientHttp2Session;
  /** Settles when the server's SETTINGS arrive: calls start then, as grpc-js's do (its transport is ready then). */
  readonly ready: Promise<void>;

  constructor(session: http2.ClientHttp2Session, lastError: () => string) {
    this.session = session;
    this.ready = new Promise<void>((resolve, reject) => {
      session.once('remoteSettings', () => resolve());
      session.once('close', () => reject(new Error(lastError() || 'the connection closed')));
    });
    this.ready.catch(() => {}); // each waiting call handles it
  }

  callStarted(): void {
    this.active++;
    this.arm();
  }

  /** grpc-js's client keepalive: a ping KEEPALIVE_TIME_MS after the last answer, while calls are active. */
  private arm(): void {
    if (this.timer) return; // the interval or an unanswered ping is running
    if (this.pingDue) return this.ping();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.active > 0) this.ping();
      else this.pingDue = true;
    }, KEEPALIVE_TIME_MS);
  }

  private ping(): void {
    this.pingDue = false;
    this.timer = setTimeout(() => this.session.destroy(new Error(`keepalive ping unanswered for ${KEEPALIVE_TIMEOUT_MS} ms`)), KEEPALIVE_TIMEOUT_MS);
    const sent = this.session.ping((err) => {
      this.stop();
      if (err) this.session.destroy(err);
      else if (this.active > 0) this.arm();
    });
    if (!sent) this.session.destroy(new Error('keepalive ping not sent'));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export class H2Channel {
  private conn: Connection | null = null;
  /** Why the last connection failed or ended, for the next failed call's message. */
  private lastError = '';
  private readonly host: string;
  private readonly port: number;
  private readonly target: string;
  private readonly tlsOptions: ChannelTls;

  constructor(target: string, tlsOptions: ChannelTls) {
    [this.target, this.tlsOptions] = [target, tlsOptions];
    const i = target.lastIndexOf(':');
    [this.host, this.port] = [target.slice(0, i), Number(target.slice(i + 1))];
  }

  private connect(): Connection {
    const { secureContext, checkServerIdentity, rejectUnauthorized } = this.tlsOptions;
    // No servername: for an IP address Node sends no SNI, which is what grpc-js ends up sending.
    const socket = tls.connect({ host: this.host, port: this.port, secureContext, checkServerIdentity, rejectUnauthorized, ALPNProtocols: ['h2'] });
    socket.setNoDelay(true);
    const session = http2.connect(`https://${this.target}`, { createConnection: () => socket, maxSessionMemory: Number.MAX_SAFE_INTEGER, maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER });
    const conn = new Connection(session, () => this.lastError);
    const drop = () => {
      if (this.conn === conn) this.conn = null;
      conn.stop();
    };
    session.on('error', (e) => {
      this.lastError = e.message;
      drop();
    });
    session.on('goaway', () => {
      this.lastError = 'the coordinator closed the connection (GOAWAY)';
      drop(); // no new calls on it; those in flight finish
    });
    session.on('close', drop);
    this.conn = conn;
    return conn;
  }

  /**
   * One unary call. `onHeaders` gets the response headers as soon as they arrive (a held
   * WatchAssignment's come when the coordinator accepts the watch, long before its answer).
   */
  call<Req, Res>(method: Method<Req, Res>, req: Req, timeoutMs: number, signal: AbortSignal, onHeaders?: (h: grpc.Metadata) => void): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const conn = this.conn ?? this.connect();
      const deadlineAt = Date.now() + timeoutMs;
      let stream: http2.ClientHttp2Stream | null = null;
      let settled = false;
      const finish = (err: unknown, res?: Res) => {
        if (settled) return;
        settled = true;
        if (stream) conn.active--;
        clearTimeout(deadline);
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(res as Res);
      };
      // The deadline and a cancel cover the connecting too; both reset the stream, as grpc-js.
      const deadline = setTimeout(() => {
        stream?.close(NGHTTP2_CANCEL);
        finish(callError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
      }, timeoutMs);
      const onAbort = () => {
        stream?.close(NGHTTP2_CANCEL);
        finish(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      conn.ready.then(
        () => {
          if (settled) return;
          try {
            stream = this.send(conn, method, req, deadlineAt - Date.now(), onHeaders, finish);
          } catch (e) {
            conn.session.destroy();
            finish(callError(grpc.status.UNAVAILABLE, (e as Error).message));
          }
        },
        (e: Error) => finish(callError(grpc.status.UNAVAILABLE, `No connection established. Last error: ${e.message}`)),
      );
    });
  }

  /** Starts the call's stream on a ready connection: its headers, its one message, and the answer's handling. */
  private send<Req, Res>(conn: Connection, method: Method<Req, Res>, req: Req, timeoutMs: number, onHeaders: ((h: grpc.Metadata) => void) | undefined, finish: (err: unknown, res?: Res) => void): http2.ClientHttp2Stream {
    // The headers and their order of grpc-js's createCall, metadata first.
    const stream = conn.session.request({
      'grpc-accept-encoding': 'identity,deflate,gzip',
      'accept-encoding': 'identity',
      'grpc-timeout': timeoutHeader(Math.max(0, timeoutMs)),
      ':authority': this.target,
      'user-agent': USER_AGENT,
      'content-type': 'application/grpc',
      ':method': 'POST',
      ':path': method.path,
      te: 'trailers',
    });
    conn.callStarted();
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      headers = h;
      if (onHeaders && h['grpc-status'] === undefined) onHeaders(grpc.Metadata.fromHttp2Headers(h));
    });
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('trailers', (t) => (headers = { ...headers, ...t }));
    // Errors are also reported by 'close' (with the stream's RST code); the message is kept.
    stream.on('error', (e) => (this.lastError = e.message));
    stream.on('close', () => {
      const code = headers['grpc-status'];
      if (code === undefined) {
        // No status: the stream was reset or the connection lost (grpc-js's mapping of both).
        const exhausted = stream.rstCode === NGHTTP2_ENHANCE_YOUR_CALM;
        return finish(callError(exhausted ? grpc.status.RESOURCE_EXHAUSTED : grpc.status.UNAVAILABLE, `No status received: ${this.lastError || `stream reset (${stream.rstCode})`}`));
      }
      const status = Number(code);
      if (status !== grpc.status.OK) {
        const details = decodeURIComponent(String(headers['grpc-message'] ?? ''));
        return finish(callError(status, details, grpc.Metadata.fromHttp2Headers(headers)));
      }
      const body = Buffer.concat(chunks);
      // A unary answer is one message: 1 byte compressed flag, 4 bytes length, the protobuf.
      if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
        return finish(callError(grpc.status.INTERNAL, `malformed response (${body.length} bytes, flag ${body[0]})`));
      }
      try {
        finish(null, method.responseDeserialize(body.subarray(5)));
      } catch (e) {
        finish(callError(grpc.status.INTERNAL, `response not decodable: ${(e as Error).message}`));
      }
    });
    const msg = method.requestSerialize(req);
    const frame = Buffer.allocUnsafe(5 + msg.length);
    frame[0] = 0;
    frame.writeUInt32BE(msg.length, 1);
    msg.copy(frame, 5);
    stream.end(frame);
    return stream;
  }

  /** Closes the connection once its calls are done (grpc-js's close() with a local pool). */
  close(): void {
    this.conn?.stop();
    this.conn?.session.close();
    this.conn = null;
  }
}
