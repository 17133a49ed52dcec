// Admission at the coordinator's transport (coordinator/server/admission/): receive limits per
// peer class with bounded memory, the handshake and idle timeouts, the connection caps, the
// Join budget with its retry-after hint as the client sees it, and the rate-limited warn lines.
// Real grpc-js servers with real TLS on this file's loopback block; timeouts are short and set
// per test, and every wait is for an event, bounded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { addressBlock } from '../helpers/addresses.ts';
import { createCa, issueLeaf, type CertAndKey } from '../../shared/pki/x509.ts';
import { createLogger } from '../../shared/log/logger.ts';
import { ADMIN_ORG, NODE_ORG } from '../../shared/constants.ts';
import { InvalidArgumentError, ResourceExhaustedError } from '../../shared/errors/index.ts';
import { fromServiceError, isRetryable } from '../../shared/wire/status.ts';
import { compileRetry, retryDelayMs } from '../../shared/retry.ts';
import { unaryHandler } from '../../coordinator/server/boundary.ts';
import { compileAdmissionOptions, createAdmission, type Admission, type AdmissionOptions } from '../../coordinator/server/admission/admission.ts';
import { JoinBudget, peerSource } from '../../coordinator/server/admission/join-budget.ts';
import { LogLimiter } from '../../coordinator/server/admission/log-limiter.ts';

const net = addressBlock(import.meta.url);
const HOST = net.host(2);
const MiB = 1024 * 1024;

// ---- PKI: a server CA for the serving certificate, a client CA for nodes and admins, and a stranger CA.
const serverCa = await createCa('test-server-ca', 1);
const clientCa = await createCa('test-client-ca', 1);
const strangerCa = await createCa('test-stranger-ca', 1);
const serving = await issueLeaf(serverCa, { cn: 'muster-coordinator', ips: [HOST], usages: ['server'], days: 1 });
const nodeCert = await issueLeaf(clientCa, { cn: 'node-1', orgs: [NODE_ORG], usages: ['client'], days: 1 });
const adminCert = await issueLeaf(clientCa, { cn: 'muster-admin', orgs: [ADMIN_ORG], usages: ['client'], days: 1 });
const strangerCert = await issueLeaf(strangerCa, { cn: 'node-1', orgs: [NODE_ORG], usages: ['client'], days: 1 });

const identity = {
  addIdentityCertificateListener(l: (u: { certificate: Buffer; privateKey: Buffer } | null) => void) {
    queueMicrotask(() => l({ certificate: Buffer.from(serving.certPem + serverCa.certPem), privateKey: Buffer.from(serving.keyPem) }));
  },
  removeIdentityCertificateListener() {},
};

// ---- A test service: raw bytes in, a JSON description of the call out.
const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const service: grpc.ServiceDefinition = {
  Echo: { path: '/test.Admission/Echo', requestStream: false, responseStream: false, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
  Hold: { path: '/test.Admission/Hold', requestStream: false, responseStream: false, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
  Join: { path: '/test.Admission/Join', requestStream: false, responseStream: false, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
};
const EchoClient = grpc.makeGenericClientConstructor(service, 'Admission');

interface Started {
  admission: Admission;
  port: number;
  lines: string[];
  /** Resolves every Hold call in progress. */
  release(): void;
  holding: Set<() => void>;
}

async function start(options: AdmissionOptions = {}): Promise<Started> {
  const lines: string[] = [];
  const log = createLogger({ level: 'warn', sink: (l) => lines.push(l) });
  const admission = createAdmission(compileAdmissionOptions(options), { 'grpc.enable_channelz': 0 }, log);
  const holding = new Set<() => void>();
  const describe = (call: grpc.ServerUnaryCall<Buffer, Buffer>) => {
    const cert = call.getAuthContext()?.sslPeerCertificate;
    return Buffer.from(JSON.stringify({ bytes: call.request.length, cn: cert?.subject?.CN ?? null, peer: call.getPeer() }));
  };
  for (const s of admission.servers) {
    s.addService(service, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, describe(call)),
      Hold: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const done = () => {
          holding.delete(done);
          cb(null, describe(call));
        };
        holding.add(done);
      },
      Join: unaryHandler(log, 'Join', async (call: grpc.ServerUnaryCall<Buffer, Buffer>) => {
        try {
          admission.admitJoin(call.getPeer());
          if (call.request.toString() !== 'good-token') throw new InvalidArgumentError('the token is not valid');
          return describe(call);
        } catch (err) {
          admission.joinFailed(call.getPeer(), (err as Error).message);
          throw err;
        }
      }),
    });
  }
  const port = await admission.listen(HOST, 0, { identity, clientCaPems: [clientCa.certPem] });
  return { admission, port, lines, holding, release: () => [...holding].forEach((f) => f()) };
}

function grpcClient(port: number, cert?: CertAndKey): grpc.Client & Record<string, (req: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void> {
  const creds = cert
    ? grpc.credentials.createSsl(Buffer.from(serverCa.certPem), Buffer.from(cert.keyPem), Buffer.from(cert.certPem))
    : grpc.credentials.createSsl(Buffer.from(serverCa.certPem));
  return new EchoClient(`${HOST}:${port}`, creds, { 'grpc.enable_channelz': 0 }) as never;
}

function callEcho(client: ReturnType<typeof grpcClient>, method: string, req: Buffer): Promise<{ bytes: number; cn: string | null; peer: string }> {
  return new Promise((resolve, reject) =>
    client[method]!(req, (err, res) => (err ? reject(err) : resolve(JSON.parse(res!.toString())))),
  );
}

/** A raw HTTP/2 session over TLS, to watch the connection itself. */
function session(port: number, cert?: CertAndKey): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    // Node refuses new streams (ENHANCE_YOUR_CALM) once a session's outstanding writes pass
    // maxSessionMemory (10 MB): the flood below queues 4 x 7.8 MB per session.
    const s = http2.connect(`https://${HOST}:${port}`, { ca: serverCa.certPem, maxSessionMemory: 1000, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** One gRPC call on a raw session: the 5-byte prefix and `body`; resolves with grpc-status and grpc-message. */
function rawCall(s: http2.ClientHttp2Session, path: string, frame: Buffer): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const req = s.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    let status: { status: number; message: string } | null = null;
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined && !status) {
        status = { status: Number(h['grpc-status']), message: decodeURIComponent(String(h['grpc-message'] ?? '')) };
        // Refused: stop sending the rest of the body.
        req.close(http2.constants.NGHTTP2_CANCEL);
        resolve(status);
      }
    };
    req.on('response', take);
    req.on('trailers', take);
    req.on('data', () => {});
    req.on('error', (e) => (status ? undefined : reject(e)));
    req.on('close', () => (status ? undefined : reject(new Error(`stream closed without a status (rst ${req.rstCode})`))));
    req.end(frame);
  });
}

function grpcFrame(payloadBytes: number): Buffer {
  const f = Buffer.alloc(5 + payloadBytes, 0x61);
  f.writeUInt8(0, 0);
  f.writeUInt32BE(payloadBytes, 1);
  return f;
}

/** Resolves on the event, rejects after `ms` (a bound, not a sleep: the event comes first when things work). */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

function closed(x: { once(e: 'close', f: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => x.once('close', () => resolve()));
}

/** Polls `cond` every 5 ms, at most `ms`: for server-side counters that have no event. */
async function until(ms: number, what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function rawTcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ host: HOST, port }, () => resolve(s));
    s.once('error', reject);
  });
}

// ---- receive limits ------------------------------------------------------------------------

test('64 concurrent 7.8 MB anonymous calls are refused at their length prefix; memory stays bounded', async () => {
  const srv = await start();
  const sessions: http2.ClientHttp2Session[] = [];
  try {
    const PAYLOAD = 7_800_000;
    const frame = grpcFrame(PAYLOAD); // one buffer, shared by every stream: the client side costs 7.8 MB
    sessions.push(...(await Promise.all(Array.from({ length: 16 }, () => session(srv.port)))));
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const results = await within(60_000, '64 refusals', Promise.all(sessions.flatMap((s) => Array.from({ length: 4 }, () => rawCall(s, '/test.Admission/Echo', frame)))));
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    for (const r of results) {
      assert.is(r.status, grpc.status.RESOURCE_EXHAUSTED);
      // grpc-js's message for a length prefix over the limit, written before it buffers anything.
      assert.is(r.message, `Received message larger than max (${PAYLOAD} vs 65536)`);
    }
    const grownMiB = (peak - before) / MiB;
    const totalMiB = (64 * PAYLOAD) / MiB;
    assert.ok(grownMiB < totalMiB / 8, `RSS grew by ${grownMiB.toFixed(0)} MiB for ${totalMiB.toFixed(0)} MiB of refused calls`);
  } finally {
    for (const s of sessions) s.destroy();
    await srv.admission.close();
  }
});

test('limits follow the verified client certificate: anonymous 64 KiB, node 1 MiB, admin 4 MiB', async () => {
  const srv = await start();
  const anon = grpcClient(srv.port);
  const node = grpcClient(srv.port, nodeCert);
  const admin = grpcClient(srv.port, adminCert);
  const stranger = grpcClient(srv.port, strangerCert);
  try {
    const small = await callEcho(anon, 'Echo', Buffer.alloc(1000));
    assert.equal([small.bytes, small.cn], [1000, null]);
    const tooBig = (await callEcho(anon, 'Echo', Buffer.alloc(70 * 1024)).catch((e) => e)) as grpc.ServiceError;
    assert.is(tooBig.code, grpc.status.RESOURCE_EXHAUSTED);

    const report = await callEcho(node, 'Echo', Buffer.alloc(512 * 1024));
    assert.equal([report.bytes, report.cn], [512 * 1024, 'node-1']);
    const nodeTooBig = (await callEcho(node, 'Echo', Buffer.alloc(3 * MiB)).catch((e) => e)) as grpc.ServiceError;
    assert.is(nodeTooBig.code, grpc.status.RESOURCE_EXHAUSTED);

    const plan = await callEcho(admin, 'Echo', Buffer.alloc(3 * MiB));
    assert.equal([plan.bytes, plan.cn], [3 * MiB, 'muster-admin']);

    // A certificate from a CA we do not trust is no certificate: anonymous, and its limit.
    const s = await callEcho(stranger, 'Echo', Buffer.alloc(1000));
    assert.is(s.cn, null);
    const strangerTooBig = (await callEcho(stranger, 'Echo', Buffer.alloc(70 * 1024)).catch((e) => e)) as grpc.ServiceError;
    assert.is(strangerTooBig.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(srv.admission.listener.counts, { anonymous: 2, node: 1, admin: 1 });
  } finally {
    for (const c of [anon, node, admin, stranger]) c.close();
    await srv.admission.close();
  }
});

// ---- timeouts ------------------------------------------------------------------------------

test('a TCP connection that never sends a ClientHello is closed after the handshake timeout', async () => {
  const srv = await start({ handshakeTimeoutMs: 300 });
  try {
    const started = Date.now();
    const s = await rawTcp(srv.port);
    await within(20_000, 'close after the handshake timeout', closed(s));
    assert.ok(Date.now() - started >= 250, `closed after ${Date.now() - started} ms, before the 300 ms timeout`);
    await until(5000, 'server forgets the connection', () => srv.admission.listener.connections === 0);
  } finally {
    await srv.admission.close();
  }
});

test('an idle anonymous connection is closed; an idle authenticated one is kept', async () => {
  const srv = await start({ anonymousIdleTimeoutMs: 300 });
  try {
    const authed = await session(srv.port, nodeCert);
    const anon = await session(srv.port);
    await within(20_000, 'anonymous connection closed when idle', closed(anon));
    // The authenticated session connected first, so it has been idle longer; it is still there and serves calls.
    assert.is(authed.closed || authed.destroyed, false);
    const r = await rawCall(authed, '/test.Admission/Echo', grpcFrame(10));
    assert.is(r.status, grpc.status.OK);
    authed.destroy();
  } finally {
    await srv.admission.close();
  }
});

test('an anonymous connection is not idle during a call; the idle timeout starts when its last call ends', async () => {
  const srv = await start({ anonymousIdleTimeoutMs: 300 });
  try {
    const busy = await session(srv.port);
    const call = rawCall(busy, '/test.Admission/Hold', grpcFrame(10));
    await until(5000, 'Hold call reaches the handler', () => srv.holding.size === 1);
    // A second connection, opened after the call started, as the clock: when it is closed for
    // idleness, the busy one has been connected longer than the idle timeout.
    const clock = await session(srv.port);
    await within(20_000, 'reference connection closed when idle', closed(clock));
    assert.is(busy.closed || busy.destroyed, false);
    const busyClosed = closed(busy);
    srv.release();
    assert.is((await call).status, grpc.status.OK);
    await within(20_000, 'busy connection closed when idle after its call', busyClosed);
  } finally {
    await srv.admission.close();
  }
});

test('a call held open does not keep an anonymous connection past its maximum age; an authenticated one is not aged', async () => {
  const srv = await start({ anonymousMaxAgeMs: 300, anonymousMaxAgeGraceMs: 200 });
  try {
    const authed = await session(srv.port, nodeCert);
    const authedCall = rawCall(authed, '/test.Admission/Hold', grpcFrame(10));
    await until(5000, 'authenticated Hold reaches the handler', () => srv.holding.size === 1);
    const anon = await session(srv.port);
    const goaway = new Promise((resolve) => anon.once('goaway', resolve));
    const anonCall = rawCall(anon, '/test.Admission/Hold', grpcFrame(10)).then(
      () => null,
      (e: Error) => e,
    );
    await within(20_000, 'GOAWAY after the maximum age', goaway);
    await within(20_000, 'closed after the grace period', closed(anon));
    assert.instance(await anonCall, Error, 'the held anonymous call ended with the connection');
    // The authenticated connection came first and is older; it and its call are still there.
    assert.is(authed.closed || authed.destroyed, false);
    srv.release();
    assert.is((await authedCall).status, grpc.status.OK);
    authed.destroy();
  } finally {
    srv.release();
    await srv.admission.close();
  }
});

// ---- connection caps -----------------------------------------------------------------------

test('connections without a verified certificate, and all connections, are capped; the excess is closed at once', async () => {
  // Handshake timeout far beyond the bounds below: a close within them is the cap, not the timeout.
  const srv = await start({ maxUnverifiedConnections: 2, maxConnections: 5, handshakeTimeoutMs: 120_000 });
  const l = () => srv.admission.listener;
  const sockets: Array<{ destroy(): void }> = [];
  try {
    const a = await session(srv.port, nodeCert);
    const b = await session(srv.port, adminCert);
    sockets.push(a, b);
    await until(5000, 'two verified connections', () => l().counts.node === 1 && l().counts.admin === 1);
    const p1 = await rawTcp(srv.port);
    const p2 = await rawTcp(srv.port);
    sockets.push(p1, p2);
    await until(5000, 'two connections in handshake', () => l().unverified === 2);

    const p3 = await rawTcp(srv.port);
    await within(10_000, 'third unverified connection closed at once', closed(p3));
    assert.ok(srv.lines.some((x) => /refused a connection from .*2 connections without a verified client certificate/.test(x)), srv.lines.join('\n'));
    assert.is(p1.destroyed, false);

    // Room for one unverified again: a node connects (unverified while in handshake, then verified).
    const p1Gone = closed(p1);
    p1.destroy();
    await p1Gone;
    await until(5000, 'server sees the close', () => l().connections === 3);
    const c = await session(srv.port, nodeCert);
    sockets.push(c);
    await until(5000, 'third verified connection', () => l().counts.node === 2 && l().connections === 4);
    const p5 = await rawTcp(srv.port);
    sockets.push(p5);
    await until(5000, 'five connections, two unverified', () => l().connections === 5 && l().unverified === 2);

    // Five open: the total cap refuses the next at accept.
    const p4 = await rawTcp(srv.port);
    await within(10_000, 'connection over maxConnections closed at once', closed(p4));
    assert.ok(srv.lines.some((x) => /refused a connection from .*5 connections open \(maxConnections\)/.test(x)), srv.lines.join('\n'));
    assert.is(a.closed || a.destroyed, false);
  } finally {
    for (const s of sockets) s.destroy();
    await srv.admission.close();
  }
});

// ---- join budget ---------------------------------------------------------------------------

test('join budget: burst, refill, retry-after; stale sources are forgotten first', () => {
  let now = 1_000_000;
  const b = new JoinBudget({ burst: 3, refillPerSecond: 2, maxSources: 2, clock: () => now });
  assert.equal([b.take('a'), b.take('a'), b.take('a')], [{ ok: true }, { ok: true }, { ok: true }]);
  assert.equal(b.take('a'), { ok: false, retryAfterMs: 500 });
  now += 200;
  assert.equal(b.take('a'), { ok: false, retryAfterMs: 300 });
  now += 300;
  assert.equal(b.take('a'), { ok: true });
  now += 10_000; // refills to the burst, no further
  assert.equal([b.take('a'), b.take('a'), b.take('a'), b.take('a')].map((r) => r.ok), [true, true, true, false]);
  // A clock stepping back mints nothing.
  now -= 60_000;
  assert.is(b.take('a').ok, false);

  assert.is(b.take('b').ok, true);
  assert.is(b.take('a').ok, false); // a is now the most recent
  assert.is(b.take('c').ok, true); // evicts b, the stalest
  assert.is(b.size, 2);
  assert.is(b.take('a').ok, false); // a was kept, still empty
});

test('peerSource: the address of grpc-js getPeer() strings', () => {
  const rows: Array<[string, string]> = [
    ['10.0.0.5:51234', '10.0.0.5'],
    ['::1:51234', '::1'],
    ['[::1]:51234', '::1'],
    ['2001:db8::7:443', '2001:db8::7'],
    ['::ffff:10.0.0.5:1', '10.0.0.5'],
    ['FE80::1:9', 'fe80::1'],
    ['unknown', 'unknown'],
  ];
  for (const [peer, source] of rows) assert.is(peerSource(peer), source, peer);
});

test('join budget over the wire: RESOURCE_EXHAUSTED with retry-after-ms, kept by fromServiceError, retryable, waited for', async () => {
  let now = 5_000_000;
  const srv = await start({ clock: () => now, joinBudget: { burst: 2, refillPerSecond: 1 } });
  const client = grpcClient(srv.port);
  try {
    const errs: unknown[] = [];
    for (let i = 0; i < 3; i++) errs.push(await callEcho(client, 'Join', Buffer.from('bad-token')).catch((e) => e));
    // The first two were admitted and failed on their own; the third was refused by the budget.
    assert.is((errs[0] as grpc.ServiceError).metadata.get('retry-after-ms').length, 0);
    const se = errs[2] as grpc.ServiceError;
    assert.is(se.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(se.metadata.get('retry-after-ms'), ['1000']);
    const e = fromServiceError(se, `${HOST}:${srv.port}`);
    assert.instance(e, ResourceExhaustedError);
    assert.is(e.kind, 'resource-exhausted');
    assert.is(e.reason, 'join-rate-limited');
    // The source is the client's address (the kernel picks 127.0.0.1 for any loopback destination).
    assert.match(e.message, /^too many join attempts from 127\.[\d.]+; try again in 1\.0s$/);
    assert.is((e as ResourceExhaustedError).retryAfterMs, 1000);
    assert.ok(isRetryable(e));
    // A retry loop waits at least the hint, even when its own backoff is shorter, spread in
    // [hint, 2 x hint) so callers refused together do not come back together.
    const retry = compileRetry({ initialMs: 10, maxMs: 100, random: () => 0.5 });
    assert.is(retryDelayMs(retry, 1, e), 1500);
    assert.is(retryDelayMs(compileRetry({ initialMs: 10, maxMs: 100, random: () => 0 }), 1, e), 1000);
    assert.is(retryDelayMs(retry, 1, new Error('no hint')), 5);
    // A RESOURCE_EXHAUSTED without our reason (grpc-js's own size limit) is still retryable, with no hint.
    const bare = fromServiceError({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'Received message larger than max (9 vs 8)', metadata: new grpc.Metadata() }, 'x:1');
    assert.equal([bare.kind, (bare as ResourceExhaustedError).retryAfterMs, isRetryable(bare)], ['resource-exhausted', undefined, true]);

    now += 1000;
    const again = (await callEcho(client, 'Join', Buffer.from('bad-token')).catch((x) => x)) as grpc.ServiceError;
    assert.is.not(again.code, grpc.status.RESOURCE_EXHAUSTED, 'admitted again after the hint');
    // Every failure was logged at warn, through the limiter.
    const joins = srv.lines.filter((l) => /join from 127\.[\d.]+ failed/.test(l));
    assert.is(joins.length, 4, srv.lines.join('\n'));
    assert.ok(joins.some((l) => l.includes('too many join attempts')));
  } finally {
    client.close();
    await srv.admission.close();
  }
});

// ---- log limiter ---------------------------------------------------------------------------

test('log limiter: N lines per key per window, then one summary; a total cap across keys', () => {
  let now = 0;
  const out: string[] = [];
  const l = new LogLimiter({ what: 'failed joins', emit: (x) => out.push(x), linesPerKey: 2, linesTotal: 5, intervalMs: 10_000, clock: () => now });
  for (let i = 0; i < 7; i++) l.log('10.0.0.1', `join from 10.0.0.1 failed #${i}`);
  assert.equal(out, ['join from 10.0.0.1 failed #0', 'join from 10.0.0.1 failed #1']);
  now = 9_999;
  l.flush();
  assert.is(out.length, 2, 'no summary before the window ends');
  now = 10_000;
  l.flush();
  assert.is(out[2], '... and 5 more failed joins from 10.0.0.1 in the last 10s');
  l.flush();
  assert.is(out.length, 3, 'one summary per window');

  // Many sources: the total cap (5 lines per window, the summary above included) folds the rest into one line.
  out.length = 0;
  for (let i = 2; i < 10; i++) l.log(`10.0.0.${i}`, `join from 10.0.0.${i} failed`);
  assert.equal(out, ['join from 10.0.0.2 failed', 'join from 10.0.0.3 failed', 'join from 10.0.0.4 failed', 'join from 10.0.0.5 failed']);
  now = 20_000;
  l.flush();
  assert.is(out[4], '... and 4 more failed joins from 4 sources in the last 10s');
  assert.is(out.length, 5);
  // A new window writes again.
  assert.ok(l.log('10.0.0.2', 'join from 10.0.0.2 failed again'));
});

test('log limiter: keys are bounded; an evicted key still gets its summary', () => {
  const out: string[] = [];
  const l = new LogLimiter({ what: 'failed joins', emit: (x) => out.push(x), linesPerKey: 1, linesTotal: 100, intervalMs: 1000, maxKeys: 2, clock: () => 0 });
  l.log('a', 'a1');
  l.log('a', 'a2');
  l.log('b', 'b1');
  l.log('c', 'c1'); // evicts a
  assert.equal(out, ['a1', 'b1', '... and 1 more failed joins from a in the last 1s', 'c1']);
});

test('compileAdmissionOptions: documented defaults and refusals', () => {
  const c = compileAdmissionOptions();
  assert.equal(c.maxMessageBytes, { anonymous: 65536, node: MiB, admin: 4 * MiB });
  assert.equal([c.handshakeTimeoutMs, c.anonymousIdleTimeoutMs, c.maxUnverifiedConnections, c.maxUnverifiedPerSource, c.maxConnections], [10_000, 30_000, 128, 32, 20_000]);
  assert.throws(() => compileAdmissionOptions({ handshakeTimeoutMs: 0 }), /handshakeTimeoutMs must be a positive integer/);
  assert.throws(() => compileAdmissionOptions({ maxUnverifiedConnections: 10, maxConnections: 5 }), /more than maxConnections/);
});

test.run();
