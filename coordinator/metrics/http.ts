// The coordinator's plain-HTTP side listener (--metrics-address, loopback by default): GET
// /metrics (Prometheus text), /healthz (alive, event loop not stuck) and /readyz (ready to
// serve, else 503 with the reasons). Nothing on it changes anything, and nothing secret is in
// what it serves (./catalogue.ts keeps labels to bounded sets). Separate from the gRPC port so
// that a scraper needs no client certificate and cannot reach the API.
import { createServer, type Server } from 'node:http';
import type { CoordinatorMetrics } from './catalogue.ts';
import { readiness, type Lifecycle, type LoopHeartbeat } from './health.ts';
import { METRICS_STALL_MS } from '../../shared/constants.ts';

export interface MetricsServer {
  /** host:port bound (the real port when asked for 0). */
  readonly address: string;
  close(): Promise<void>;
}

export interface MetricsServerDeps {
  metrics: CoordinatorMetrics;
  lifecycle: Lifecycle;
  heartbeat: LoopHeartbeat;
}

export function startMetricsServer(host: string, port: number, d: MetricsServerDeps): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET\n');
    if (path === '/metrics') {
      d.metrics.text().then(
        (text) => send(200, text, d.metrics.contentType),
        (err: unknown) => send(500, `cannot collect metrics: ${(err as Error)?.message ?? err}\n`),
      );
      return;
    }
    if (path === '/healthz') {
      const stalled = d.heartbeat.stalledMs();
      return stalled > METRICS_STALL_MS ? send(503, `event loop blocked for ${Math.round(stalled)} ms\n`) : send(200, 'ok\n');
    }
    if (path === '/readyz') {
      const r = readiness(d.lifecycle);
      return r.ready ? send(200, 'ready\n') : send(503, `not ready:\n${r.reasons.map((x) => `  ${x}`).join('\n')}\n`);
    }
    send(404, 'not found: try /metrics, /healthz or /readyz\n');
  });
  // A scraper makes one small request at a time: slow or idle clients are not held long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.maxConnections = 64;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const a = server.address() as { address: string; port: number };
      resolve({
        address: `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
