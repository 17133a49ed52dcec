// Small helpers for the probe tests. Every simulated node has its own loopback address from the
// file's block (test/helpers/addresses.ts; the whole 127/8 is loopback on Linux), and ports come
// from the kernel (port 0), so test files running in parallel do not collide.
import { createServer, type Server, type Socket } from 'node:net';

/** A port that was free on `host` a moment ago. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A server that accepts and never answers: an agent that hangs, or a port that is not a probe port. */
export function silentServer(host: string): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : 0,
        server,
        close: () => new Promise<void>((done) => { for (const s of sockets) s.destroy(); server.close(() => done()); }),
      });
    });
  });
}
