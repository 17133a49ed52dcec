// Starts a coordinator: options -> defaults -> compiled config, identity, store, state, the
// three gRPC services on one TLS port. Used by `muster coordinator serve`, the demo, tests and
// benchmarks alike.
import * as grpc from '@grpc/grpc-js';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { createServer } from 'node:net';
import { ensureIdentity, splitHostPort, type CoordinatorIdentity } from '../trust/identity.ts';
import { SqliteStore } from '../store/sqlite.ts';
import type { Store } from '../store/store.ts';
import { ClusterState } from '../state/cluster-state.ts';
import { WatchHub } from './watch-hub.ts';
import { BootstrapService } from './bootstrap-service.ts';
import { AgentService } from './agent-service.ts';
import { AdminService } from './admin-service.ts';
import { serverCredentials } from './credentials.ts';
import { createLogger, type Logger } from '../../shared/log/logger.ts';
import { COORDINATOR_DATA, DEFAULT_COORDINATOR_PORT } from '../../shared/constants.ts';
import { ConfigError } from '../../shared/errors/index.ts';

export interface CoordinatorOptions {
  dataDir: string;
  /** host:port to listen on. @default "0.0.0.0:7443" */
  listen?: string;
  /** host:port agents should dial; printed in the join command. @default the listen address, or this host's name when listening on all addresses */
  advertise?: string;
  /** Plan file applied at start when it differs from the stored plan. */
  planFile?: string;
  /** Extra names/IPs for the server certificate. */
  extraSans?: string[];
  /** A store to use instead of the embedded sqlite one (etcd, tests). */
  store?: Store;
  logger?: Logger;
  clock?: () => number;
  /** Coalescing window for assignment recomputation. @default 50 */
  recomputeDelayMs?: number;
}

interface CompiledCoordinatorOptions {
  dataDir: string;
  listenHost: string;
  listenPort: number;
  advertise: string;
  planFile: string | null;
  extraSans: string[];
  logger: Logger;
  clock: () => number;
  recomputeDelayMs: number;
}

export function compileCoordinatorOptions(o: CoordinatorOptions): CompiledCoordinatorOptions {
  if (!o.dataDir) throw new ConfigError('--data-dir is required');
  const listen = o.listen ?? `0.0.0.0:${DEFAULT_COORDINATOR_PORT}`;
  let lh: { host: string; port: number };
  try {
    lh = splitHostPort(listen);
  } catch {
    throw new ConfigError(`--listen ${listen}: expected HOST:PORT, e.g. 0.0.0.0:${DEFAULT_COORDINATOR_PORT}`);
  }
  if (lh.port < 0 || lh.port > 65535) throw new ConfigError(`--listen ${listen}: port out of range`);
  const wildcard = lh.host === '0.0.0.0' || lh.host === '::' || lh.host === '';
  return {
    dataDir: o.dataDir,
    listenHost: lh.host || '0.0.0.0',
    listenPort: lh.port,
    advertise: o.advertise ?? `${wildcard ? hostname() : lh.host}:${lh.port}`,
    planFile: o.planFile ?? null,
    extraSans: o.extraSans ?? [],
    logger: o.logger ?? createLogger({ component: 'coordinator' }),
    clock: o.clock ?? Date.now,
    recomputeDelayMs: o.recomputeDelayMs ?? 50,
  };
}

export interface Coordinator {
  /** host:port agents dial (with the real port when listening on port 0). */
  readonly address: string;
  readonly port: number;
  readonly identity: CoordinatorIdentity;
  readonly state: ClusterState;
  readonly hub: WatchHub;
  joinCommand(token: string): string;
  close(): Promise<void>;
}

export async function startCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const c = compileCoordinatorOptions(options);
  const log = c.logger;
  await mkdir(c.dataDir, { recursive: true, mode: 0o700 });

  const server = new grpc.Server({
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.max_receive_message_length': 8 * 1024 * 1024,
    // channelz keeps trace objects per connection and call: memory and CPU at fleet scale,
    // and nothing here reads them.
    'grpc.enable_channelz': 0,
  });
  const store = options.store ?? new SqliteStore(join(c.dataDir, COORDINATOR_DATA.database));
  const state = await ClusterState.open({ store, logger: log, clock: c.clock, recomputeDelayMs: c.recomputeDelayMs });
  const hub = new WatchHub();
  state.onAssignmentsChanged((names) => hub.notify(names));

  // The server certificate and admin config name the advertised address, and they must exist
  // before binding; so for port 0 (tests) pick a free port with a throwaway listener first.
  const port = c.listenPort === 0 ? await freePort(c.listenHost) : c.listenPort;
  const advertise = options.advertise ?? c.advertise.replace(/:0$/, `:${port}`);
  const identity = await ensureIdentity({ dataDir: c.dataDir, advertise, extraSans: c.extraSans });

  new BootstrapService(state, identity.ca, log).addToServer(server);
  new AgentService(state, hub, log, c.clock).addToServer(server);
  new AdminService(state, log).addToServer(server);

  const bindHost = c.listenHost.includes(':') ? `[${c.listenHost}]` : c.listenHost;
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${bindHost}:${port}`, serverCredentials(identity.ca, identity.server), (err, p) => (err ? reject(err) : resolve(p))),
  ).catch((err: Error) => {
    throw new ConfigError(`cannot listen on ${c.listenHost}:${port}: ${err.message}`, { cause: err });
  });

  if (c.planFile) {
    let text: string;
    try {
      text = await readFile(c.planFile, 'utf8');
    } catch (err) {
      server.forceShutdown();
      await state.close();
      await store.close();
      throw new ConfigError(`cannot read plan file ${c.planFile}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    try {
      const res = await state.applyPlan(text, c.planFile, false);
      if (!res.unchanged) log.info(`plan ${c.planFile} applied as revision ${res.revision}`);
      for (const w of res.warnings) log.warn(w);
    } catch (err) {
      server.forceShutdown();
      await state.close();
      await store.close();
      throw err;
    }
  }
  log.info(`coordinator listening on ${c.listenHost}:${port} (advertised as ${advertise}); CA pin ${identity.caPin}`);

  let closed = false;
  return {
    address: advertise,
    port,
    identity,
    state,
    hub,
    joinCommand: (token) => `muster-agent run --coordinator ${advertise} --token ${token} --ca-hash ${identity.caPin}`,
    async close() {
      if (closed) return;
      closed = true;
      hub.notifyAll();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
      await state.close();
      await store.close();
    },
  };
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
