// The floor under a join's coordinator CPU: what grpc-js itself costs a server on this machine,
// with nothing of muster in the handler. A server process (this file with --serve) answers one
// unary method with an empty handler over mutual TLS (ECDSA P-256, as muster's channels); the
// parent drives it on loopback and reads the server's CPU (process.cpuUsage, every thread) for
//   - calls on open connections (HTTP/2 stream + grpc-js call + a 600-byte answer), and
//   - new connections, each making one call (TCP + TLS 1.3 handshake with a client certificate +
//     HTTP/2 session + the call), as each join's bootstrap and first mutual-TLS channel do;
// and prints them next to `openssl speed ecdsap256` for the same machine. A join makes three
// connections and about ten calls (GetCA, Join, Report, IssueCertificates, ReportApply and the
// watches), so three connections and ten calls of this floor are what any gRPC coordinator in
// Node pays per join before it does any work of its own.
//
//   node bench/grpc-floor.ts [--connections 500] [--calls 5000]
//
// Bounded: at most 2,000 connections and 50,000 calls; the run aborts after 120 s.
import { execFileSync, fork } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, issueLeaf, type CertAndKey } from '../shared/pki/x509.ts';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '500' }, calls: { type: 'string', default: '5000' }, serve: { type: 'boolean', default: false } } });

const identity = (b: Buffer) => b;
const SERVICE: grpc.ServiceDefinition = {
  Call: { path: '/bench.Floor/Call', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};
const ANSWER = Buffer.alloc(600, 7); // about a WatchAssignment answer with an assignment
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

if (values.serve) {
  process.once('message', (m: { ca: CertAndKey; server: CertAndKey }) => {
    const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
    server.addService(SERVICE, { Call: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, ANSWER) });
    const creds = grpc.ServerCredentials.createSsl(Buffer.from(m.ca.certPem), [{ private_key: Buffer.from(m.server.keyPem), cert_chain: Buffer.from(m.server.certPem) }], true);
    server.bindAsync('127.0.0.1:0', creds, (err, port) => {
      if (err) throw err;
      process.send!({ port });
    });
    process.on('message', () => process.send!({ cpuMs: cpuMs() }));
  });
} else {
  const CONNS = Math.min(Number(values.connections), 2000);
  const CALLS = Math.min(Number(values.calls), 50_000);
  setTimeout(() => {
    console.error('grpc-floor: timed out after 120 s');
    process.exit(1);
  }, 120_000).unref();
  const ca = await createCa('bench-ca', 1);
  const server = await issueLeaf(ca, { cn: 'bench-server', ips: ['127.0.0.1'], usages: ['server'], days: 1 });
  const client = await issueLeaf(ca, { cn: 'bench-client', usages: ['client'], days: 1 });
  const child = fork(import.meta.filename, ['--serve'], { execArgv: ['--max-semi-space-size=16', '--heap-growing-percent=30'] });
  const next = <T>() => new Promise<T>((r) => child.once('message', (m) => r(m as T)));
  const ready = next<{ port: number }>();
  child.send({ ca, server });
  const { port } = await ready;
  const serverCpu = async () => {
    const p = next<{ cpuMs: number }>();
    child.send('cpu');
    return (await p).cpuMs;
  };
  const Client = grpc.makeGenericClientConstructor(SERVICE, 'Floor');
  const creds = grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(client.keyPem), Buffer.from(client.certPem));
  const newClient = (_i: number) =>
    new Client(`127.0.0.1:${port}`, creds, { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_channelz': 0, 'grpc.ssl_target_name_override': '127.0.0.1' });
  const call = (c: grpc.Client) => new Promise<void>((resolve, reject) => (c as unknown as { Call(b: Buffer, cb: (e: Error | null) => void): void }).Call(Buffer.alloc(200, 1), (e) => (e ? reject(e) : resolve())));

  // New connections, one call each (16 at a time, as joins arrive in parallel).
  let c0 = await serverCpu();
  for (let i = 0; i < CONNS; i += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, CONNS - i) }, async (_, k) => {
        const c = newClient(i + k);
        await call(c);
        c.close();
      }),
    );
  }
  const perConnMs = ((await serverCpu()) - c0) / CONNS;

  // Calls on open connections: 64 clients, CALLS calls spread over them, 64 in flight.
  const open = Array.from({ length: 64 }, (_, i) => newClient(CONNS + i));
  await Promise.all(open.map(call));
  c0 = await serverCpu();
  for (let i = 0; i < CALLS; i += open.length) await Promise.all(open.map(call));
  const perCallMs = ((await serverCpu()) - c0) / (Math.ceil(CALLS / open.length) * open.length);
  for (const c of open) c.close();
  child.kill();

  let speed = '';
  try {
    const out = execFileSync('openssl', ['speed', '-seconds', '2', 'ecdsap256'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(out);
    if (m) speed = `openssl speed ecdsap256 on this machine: sign ${(1000 / Number(m[1])).toFixed(3)} ms, verify ${(1000 / Number(m[2])).toFixed(3)} ms`;
  } catch {
    speed = 'openssl: not available';
  }
  console.log(`grpc-js ${JSON.parse(readFileSync(join(import.meta.dirname, '../node_modules/@grpc/grpc-js/package.json'), 'utf8')).version} server on Node ${process.version}, mutual TLS (ECDSA P-256), an empty handler:`);
  console.log(`  a new connection with one call: ${perConnMs.toFixed(3)} ms of server CPU (${CONNS} connections, 16 at a time)`);
  console.log(`  a call on an open connection:   ${perCallMs.toFixed(3)} ms of server CPU (64 connections, 64 calls in flight)`);
  console.log(`  ${speed}`);
  console.log(`  so a join's transport alone (3 connections, 10 calls): ${(3 * perConnMs + 7 * perCallMs).toFixed(2)} ms of coordinator CPU`);
  process.exit(0);
}
