// What one idle mutual-TLS connection costs a bare Node server, without muster or grpc-js:
// the floor under the coordinator's memory, which holds one such connection per agent.
// A server process (this file with --serve) accepts N connections from 127.2.x.y; the parent
// reads the server's RSS before and after.
//
//   node bench/connections.ts [--connections 1000] [--mode h2|tls|both] [--churn 0] [--timeout 120]
//
// --mode tls: TLS only; h2: TLS + HTTP/2 with one open stream per connection (a long poll).
// --churn K: before its lasting connection, each client opens and drops K short ones (as an
// agent's bootstrap calls do), to show what the allocator keeps afterwards.
// Bounded: at most 5,000 connections; the run aborts after --timeout seconds.
import { fork } from 'node:child_process';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { createCa, issueLeaf, type CertAndKey } from '../shared/pki/x509.ts';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    mode: { type: 'string', default: 'both' },
    churn: { type: 'string', default: '0' },
    timeout: { type: 'string', default: '120' },
    serve: { type: 'string' },
  },
});

const rssMB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;

if (values.serve) {
  // Server side: certificates come from the parent on stdin-less IPC.
  process.once('message', (m: { mode: string; ca: CertAndKey; server: CertAndKey }) => {
    const opts = { key: m.server.keyPem, cert: m.server.certPem, ca: m.ca.certPem, requestCert: true, rejectUnauthorized: true };
    const srv =
      m.mode === 'tls'
        ? tls.createServer(opts, (s) => s.on('error', () => {}))
        : http2.createSecureServer(opts).on('stream', (st) => st.respond({ ':status': 200 })).on('session', (s) => s.on('error', () => {}));
    srv.listen(0, '127.0.0.1', () => {
      (globalThis as { gc?: () => void }).gc?.();
      process.send!({ port: (srv.address() as { port: number }).port, rss: rssMB() });
    });
    process.on('message', () => {
      (globalThis as { gc?: () => void }).gc?.();
      process.send!({ rss: rssMB() });
    });
  });
} else {
  const N = Math.min(Number(values.connections), 5000);
  const churn = Math.min(Number(values.churn), 5);
  const deadline = Date.now() + Number(values.timeout) * 1000;
  const ca = await createCa('bench-ca', 1);
  const server = await issueLeaf(ca, { cn: 'bench-server', ips: ['127.0.0.1'], usages: ['server'], days: 1 });
  const client = await issueLeaf(ca, { cn: 'bench-client', usages: ['client'], days: 1 });
  const copts = { key: client.keyPem, cert: client.certPem, ca: ca.certPem };
  const modes = values.mode === 'both' ? ['tls', 'h2'] : [values.mode!];
  console.log(`bare Node ${process.version} server, ${N} idle mutual-TLS connections (ECDSA P-256), churn ${churn} per client`);
  for (const mode of modes) {
    const child = fork(import.meta.filename, ['--serve', '1'], { execArgv: ['--expose-gc'] });
    const next = () => new Promise<{ port?: number; rss: number }>((r) => child.once('message', r));
    const ready = next();
    child.send({ mode, ca, server });
    const { port, rss: before } = await ready;
    const held: Array<{ destroy(): void }> = [];
    const open = (localAddress: string, keep: boolean) =>
      new Promise<void>((resolve, reject) => {
        // net.connect's localAddress, which the TLS and HTTP/2 option types do not list
        const from = { localAddress };
        if (Date.now() > deadline) return reject(new Error('timed out'));
        if (mode === 'tls') {
          const s = tls.connect({ ...copts, host: '127.0.0.1', port, ...from }, () => (keep ? held.push(s) : s.destroy(), resolve()));
          s.on('error', reject);
        } else {
          const c = http2.connect(`https://127.0.0.1:${port}`, { ...copts, ...from });
          c.on('error', reject);
          const st = c.request({ ':path': '/watch', ':method': 'POST' });
          st.on('response', () => (keep ? held.push(c) : c.destroy(), resolve()));
        }
      });
    for (let i = 0; i < N; i++) {
      const localAddress = `127.2.${Math.floor(i / 250)}.${(i % 250) + 2}`;
      for (let k = 0; k < churn; k++) await open(localAddress, false);
      await open(localAddress, true);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const after = next();
    child.send('measure');
    const { rss } = await after;
    console.log(`  ${mode === 'tls' ? 'TLS         ' : 'TLS + HTTP/2'}: server RSS ${before.toFixed(0)} -> ${rss.toFixed(0)} MB, ${(((rss - before) * 1024) / N).toFixed(0)} KB per connection`);
    for (const h of held) h.destroy();
    child.kill();
  }
  process.exit(0);
}
