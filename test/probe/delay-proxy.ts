// A TCP proxy that adds latency in user space, for the latency tests. It accepts at once (the
// kernel would finish the handshake anyway), then holds the client for `delayMs` before it
// connects upstream and pipes both ways. A TCP-handshake timer cannot see that delay; the
// agent's echo round trip (agent/probe/latency.ts) does, because the echo only comes back once
// the proxy has connected upstream.
import { createServer, connect, type Socket } from 'node:net';

export interface DelayProxy {
  port: number;
  close(): Promise<void>;
}

export function startDelayProxy(options: { host: string; upstreamHost: string; upstreamPort: number; delayMs: number }): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = createServer({ pauseOnConnect: true }, (client) => {
    track(client);
    const timer = setTimeout(() => {
      const up = connect({ host: options.upstreamHost, port: options.upstreamPort, noDelay: true });
      track(up);
      up.once('connect', () => {
        client.pipe(up);
        up.pipe(client);
        client.resume();
      });
      up.once('close', () => client.destroy());
      client.once('close', () => up.destroy());
    }, options.delayMs);
    client.once('close', () => clearTimeout(timer));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: 0 }, () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : 0,
        close: () => new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}
