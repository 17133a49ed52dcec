// Starts a coordinator: options -> defaults -> compiled config; the data dir's lock and state;
// its three trust domains; the three gRPC services behind one TLS port with admission limits.
// Used by `muster coordinator serve`, the demo, tests and benchmarks alike.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { ensureIdentity, issueServerCert, writePair, type CoordinatorIdentity } from '../trust/identity.ts';
import { ensureRecordedDataDirAdmin, renewDataDirAdmin, signedAdminCert } from '../trust/data-dir-admin.ts';
import { scheduleRenewal } from '../trust/renewal.ts';
import { splitHostPort } from '../../shared/net/host-port.ts';
import { freePort } from '../../shared/net/free-port.ts';
import { SqliteStore } from '../store/sqlite.ts';
import type { Store } from '../store/store.ts';
import { ClusterState } from '../state/cluster-state.ts';
import { ClusterCas } from '../pki/cluster-cas.ts';
import { ClusterIssuer } from '../pki/issuer.ts';
import { WatchHub } from './watch-hub.ts';
import { BootstrapService } from './bootstrap-service.ts';
import { AgentService } from './agent-service.ts';
import { AdminService } from './admin-service.ts';
import { ServingIdentity } from './credentials.ts';
import { CoordinatorNames } from './reserved-names.ts';
import { compileAdmissionOptions, createAdmission, type AdmissionOptions } from './admission/admission.ts';
import { createLogger, type Logger } from '../../shared/log/logger.ts';
import { COORDINATOR_DATA, DEFAULT_COORDINATOR_PORT, DEFAULT_METRICS_PORT, IDENTITY_CERT_DAYS } from '../../shared/constants.ts';
import { ConfigError, FailedPreconditionError, UsageError } from '../../shared/errors/index.ts';
import { parsePlan, formatProblem } from '../../shared/plan/index.ts';
import { checkCanListen, listenFailure } from './listen-check.ts';
import { SERVER_KEEPALIVE } from '../../shared/wire/keepalive.ts';
import { CoordinatorMetrics } from '../metrics/catalogue.ts';
import { instrumented } from '../metrics/rpc.ts';
import { Lifecycle, LoopHeartbeat } from '../metrics/health.ts';
import { startMetricsServer, type MetricsServer } from '../metrics/http.ts';
import { earliestExpiryMs } from '../metrics/expiry.ts';
import { exitOnStoreFailure } from '../state/cluster-state.ts';

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
  /** Start with an empty state although the data dir holds CAs (every node must join again). @default false */
  reinitialize?: boolean;
  logger?: Logger;
  clock?: () => number;
  /** Coalescing window for assignment recomputation. @default 50 */
  recomputeDelayMs?: number;
  /** A node silent this long shows as offline in status. @default OFFLINE_AFTER_MS (3 report intervals, 3 min) */
  offlineAfterMs?: number;
  /** Lifetimes of the certificates the coordinator issues (tests of renewal use seconds). @default 1 year each */
  certTtlMs?: { node?: number; server?: number; admin?: number };
  /** Transport limits before authentication (./admission). */
  admission?: AdmissionOptions;
  /** Called when the store fails to commit. @default log and exit the process (fail-stop) */
  onFatal?: (err: unknown) => void;
  /** host:port of the plain-HTTP /metrics, /healthz and /readyz listener; opened before the store. @default none (the CLI's default is DEFAULT_METRICS_ADDRESS) */
  metricsAddress?: string;
  /** A metrics address that cannot be bound is skipped, with a warning once started, instead of failing the start (the CLI's default address). @default false */
  metricsBestEffort?: boolean;
}

interface CompiledCoordinatorOptions {
  dataDir: string;
  listenHost: string;
  listenPort: number;
  advertise: string;
  planFile: string | null;
  extraSans: string[];
  reinitialize: boolean;
  logger: Logger;
  clock: () => number;
  recomputeDelayMs: number;
  offlineAfterMs: number | undefined;
  certTtlMs: { node: number; server: number; admin: number };
  metrics: { host: string; port: number } | null;
}

const YEAR_MS = IDENTITY_CERT_DAYS * 86_400_000;

export function compileCoordinatorOptions(o: CoordinatorOptions): CompiledCoordinatorOptions {
  if (!o.dataDir) throw new ConfigError('--data-dir is required');
  const listen = o.listen ?? `0.0.0.0:${DEFAULT_COORDINATOR_PORT}`;
  let lh: { host: string; port: number };
  try {
    lh = splitHostPort(listen);
  } catch {
    throw new UsageError(`--listen ${listen}: expected HOST:PORT, e.g. 0.0.0.0:${DEFAULT_COORDINATOR_PORT}`);
  }
  if (lh.port < 0 || lh.port > 65535) throw new UsageError(`--listen ${listen}: port out of range`);
  const wildcard = lh.host === '0.0.0.0' || lh.host === '::' || lh.host === '';
  const ttl = (v: number | undefined, what: string) => {
    if (v === undefined) return YEAR_MS;
    if (!Number.isFinite(v) || v < 1000) throw new ConfigError(`${what} certificate lifetime ${v} ms is too short`);
    return v;
  };
  return {
    dataDir: o.dataDir,
    listenHost: lh.host || '0.0.0.0',
    listenPort: lh.port,
    advertise: o.advertise ?? `${wildcard ? hostname() : lh.host}:${lh.port}`,
    planFile: o.planFile ?? null,
    extraSans: o.extraSans ?? [],
    reinitialize: o.reinitialize ?? false,
    logger: o.logger ?? createLogger({ component: 'coordinator' }),
    clock: o.clock ?? Date.now,
    recomputeDelayMs: o.recomputeDelayMs ?? 50,
    offlineAfterMs: o.offlineAfterMs,
    certTtlMs: { node: ttl(o.certTtlMs?.node, 'node'), server: ttl(o.certTtlMs?.server, 'server'), admin: ttl(o.certTtlMs?.admin, 'admin') },
    metrics: o.metricsAddress ? compileMetricsAddress(o.metricsAddress) : null,
  };
}

function compileMetricsAddress(a: string): { host: string; port: number } {
  try {
    const hp = splitHostPort(a);
    if (hp.host && hp.port >= 0 && hp.port <= 65535) return hp;
  } catch {
    // said below
  }
  throw new UsageError(`--metrics-address ${a}: expected HOST:PORT, e.g. 127.0.0.1:${DEFAULT_METRICS_PORT}`);
}

export interface Coordinator {
  /** host:port agents dial (with the real port when listening on port 0). */
  readonly address: string;
  readonly port: number;
  readonly identity: CoordinatorIdentity;
  readonly state: ClusterState;
  readonly hub: WatchHub;
  /** The cluster's CAs (DATA/cluster-pki) and the signer of cluster certificates. */
  readonly clusterCas: ClusterCas;
  readonly issuer: ClusterIssuer;
  readonly metrics: CoordinatorMetrics;
  /** host:port of the metrics listener (the real port when asked for 0); null without one. */
  readonly metricsAddress: string | null;
  /** The serving certificate in force (it is renewed while running). */
  serverCertPem(): string;
  joinCommand(token: string): string;
  close(): Promise<void>;
}

/**
 * A data dir whose CAs exist but whose state does not would start "fresh": every joined agent
 * would then be refused as unknown and give up for good. Refuse that unless told to.
 */
async function checkStateExists(c: CompiledCoordinatorOptions, usingOwnStore: boolean): Promise<void> {
  const db = join(c.dataDir, COORDINATOR_DATA.database);
  const hasCa = existsSync(join(c.dataDir, COORDINATOR_DATA.serverCaCert));
  const resuming = existsSync(join(c.dataDir, COORDINATOR_DATA.initialising));
  if (!usingOwnStore || !hasCa || resuming || c.reinitialize) return;
  const size = await stat(db).then((s) => s.size, () => -1);
  if (size <= 0) {
    throw new FailedPreconditionError(
      'state-missing',
      `data dir ${c.dataDir} holds the cluster's CAs but its state database ${db} is ${size < 0 ? 'missing' : 'empty'}: starting afresh would make every joined node unknown. ` +
        'Restore state.db from a backup, or pass --reinitialize to start with an empty state (every node must then join again)',
    );
  }
}

/** The plan file's text, checked to be a valid plan (the coordinator applies it at start). */
async function readPlanFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read plan file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const { plan, problems } = parsePlan(text, file);
  if (!plan) {
    const errors = problems.filter((p) => p.severity === 'error');
    throw new ConfigError(
      `plan ${file} is invalid (${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was started or written):\n${errors.map((p) => `  ${formatProblem(p)}`).join('\n')}\n` +
        `fix it (muster plan validate ${file} checks it), then start again`,
    );
  }
  return text;
}

export async function startCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const c = compileCoordinatorOptions(options);
  const log = c.logger;
  // Before anything is written: a plan that cannot be used, or a port that is taken, must not
  // leave a half-made data dir behind on a first start.
  const planText = c.planFile ? await readPlanFile(c.planFile) : null;
  // (A data dir in use is said by the store's lock, below, which names the coordinator using it.)
  const firstStart = !existsSync(join(c.dataDir, COORDINATOR_DATA.serverCaCert));
  if (firstStart && c.listenPort !== 0) await checkCanListen(c.listenHost, c.listenPort);
  await mkdir(c.dataDir, { recursive: true, mode: 0o700 });
  await checkStateExists(c, !options.store);
  // Metrics and health first: /readyz says "not ready" with the reason while the rest starts.
  const metrics = new CoordinatorMetrics();
  const lifecycle = new Lifecycle();
  const heartbeat = new LoopHeartbeat();
  let metricsServer: MetricsServer | null = null;
  let metricsSkipped: string | null = null;
  if (c.metrics) {
    const m = c.metrics;
    metricsServer = await startMetricsServer(m.host, m.port, { metrics, lifecycle, heartbeat }).catch((err: NodeJS.ErrnoException) => {
      const failure = listenFailure(m.host, m.port, err, '--metrics-address');
      if (!options.metricsBestEffort) {
        heartbeat.stop();
        throw failure;
      }
      metricsSkipped = failure.message;
      return null;
    });
  }
  const stopMetrics = async () => {
    heartbeat.stop();
    await metricsServer?.close();
  };
  let store: Store;
  try {
    store = options.store ?? new SqliteStore(join(c.dataDir, COORDINATOR_DATA.database));
  } catch (err) {
    // In use by another coordinator, unreadable...: nothing of this start may stay listening.
    await stopMetrics();
    throw err;
  }
  const unobserveCommits = store.onCommit?.((ms, n) => metrics.commit(ms, n)) ?? (() => undefined);
  const cleanup: Array<() => Promise<unknown> | void> = [stopMetrics, unobserveCommits, () => store.close()];
  const fail = async (err: unknown): Promise<never> => {
    for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => undefined);
    throw err;
  };
  try {
    const clusterCas = new ClusterCas({ dataDir: c.dataDir, log, clock: c.clock });
    const onFatal = options.onFatal ?? exitOnStoreFailure(log);
    const state = await ClusterState.open({
      store,
      logger: log,
      clock: c.clock,
      recomputeDelayMs: c.recomputeDelayMs,
      offlineAfterMs: c.offlineAfterMs,
      onFatal: (err) => {
        lifecycle.storeFailure = (err as Error)?.message ?? String(err);
        onFatal(err);
      },
      clusterCas,
    });
    const issuer = new ClusterIssuer({ cas: clusterCas, state, log, clock: c.clock });
    cleanup.push(() => state.close());
    const hasCa = existsSync(join(c.dataDir, COORDINATOR_DATA.serverCaCert));
    if (hasCa && !state.initialised() && !existsSync(join(c.dataDir, COORDINATOR_DATA.initialising))) {
      if (!c.reinitialize && !options.store) {
        throw new FailedPreconditionError(
          'state-missing',
          `data dir ${c.dataDir} holds the cluster's CAs but its state database was never initialised: starting afresh would make every joined node unknown. ` +
            'Restore state.db from a backup, or pass --reinitialize to start with an empty state (every node must then join again)',
        );
      }
      if (c.reinitialize) log.warn(`data dir ${c.dataDir}: starting with an empty state (--reinitialize); every node must join again`);
    }
    if (!hasCa) {
      // A first start in progress: if it dies before the state is marked, the next start resumes it.
      await mkdir(dirname(join(c.dataDir, COORDINATOR_DATA.initialising)), { recursive: true, mode: 0o700 });
      await writeFile(join(c.dataDir, COORDINATOR_DATA.initialising), `${process.pid}\n`, { mode: 0o600 });
    }

    const hub = new WatchHub();
    state.onAssignmentsChanged((names) => hub.notify(names));
    const admission = createAdmission(
      compileAdmissionOptions(options.admission),
      {
        ...SERVER_KEEPALIVE,
        // channelz keeps trace objects per connection and call: memory and CPU at fleet scale,
        // and nothing here reads them.
        'grpc.enable_channelz': 0,
      },
      log,
    );
    cleanup.push(() => admission.forceClose());

    // The server certificate and admin config name the advertised address, and they must exist
    // before binding; so for port 0 (tests) pick a free port with a throwaway listener first.
    const port = c.listenPort === 0 ? await freePort(c.listenHost) : c.listenPort;
    const advertise = options.advertise ?? c.advertise.replace(/:0$/, `:${port}`);
    // Admin credentials are recorded from here on; a data dir from before that gets its legacy lineage.
    await state.admins.beginRecords({ existingDataDir: hasCa });
    const identity = await ensureIdentity({
      dataDir: c.dataDir,
      advertise,
      extraSans: c.extraSans,
      serverCertTtlMs: c.certTtlMs.server,
      adminCertTtlMs: c.certTtlMs.admin,
      clock: c.clock,
      recordAdmin: (a) => state.admins.recordDataDir(signedAdminCert(a.certPem)),
    });
    const dataDirAdmin = { dataDir: c.dataDir, advertise, identity, ttlMs: c.certTtlMs.admin, admins: state.admins };
    identity.admin = await ensureRecordedDataDirAdmin(dataDirAdmin, identity.admin);
    await state.markInitialised({ caPin: identity.caPin });
    lifecycle.storeOpen = true;
    await rm(join(c.dataDir, COORDINATOR_DATA.initialising), { force: true });
    const names = new CoordinatorNames(identity.names);

    lifecycle.casLoaded = true;
    const serving = new ServingIdentity({ cert: identity.server, chainPem: identity.serverCa.certPem }, null);
    let server = identity.server;
    let admin = identity.admin;
    const renewals = [
      scheduleRenewal({
        what: 'the coordinator serving certificate',
        current: () => server.certPem,
        renew: async () => {
          const next = await issueServerCert(identity.serverCa, identity.names, c.certTtlMs.server);
          await writePair(c.dataDir, 'server', next);
          serving.replace(next, identity.serverCa.certPem);
          server = next;
        },
        log,
        clock: c.clock,
      }),
      scheduleRenewal({
        what: `the admin credential in ${join(c.dataDir, COORDINATOR_DATA.adminConfig)}`,
        current: () => admin.certPem,
        renew: async () => {
          admin = await renewDataDirAdmin(dataDirAdmin);
        },
        log,
        clock: c.clock,
      }),
    ];
    cleanup.push(() => renewals.forEach((r) => r.stop()));

    const bootstrap = new BootstrapService({
      state,
      serverCa: identity.serverCa,
      nodeCa: identity.nodeCa,
      names,
      log,
      nodeCertTtlMs: c.certTtlMs.node,
      admit: (peer) => admission.admitJoin(peer),
      work: admission.work,
      onJoinRefused: (peer, err) => admission.joinFailed(peer, err.message),
    });
    const agent = new AgentService({ state, hub, log, nodeCa: identity.nodeCa, serverCaPem: identity.serverCa.certPem, names, clock: c.clock, nodeCertTtlMs: c.certTtlMs.node, issuer, work: admission.work, reconnectsPerSecond: admission.options.reconnectsPerSecond });
    const adminService = new AdminService(state, log, identity.adminCa, c.certTtlMs.admin, issuer);
    for (const server of admission.servers) {
      const s = instrumented(server, metrics);
      bootstrap.addToServer(s);
      agent.addToServer(s);
      adminService.addToServer(s);
    }
    metrics.bind({
      nodes: () => state.status(),
      watchesHeld: () => hub.pending,
      connections: () => ({ open: admission.listener.counts, accepted: admission.listener.accepted }),
      work: () => admission.work,
      earliestExpiryMs: () => earliestExpiryMs({ identity, serverCertPem: () => server.certPem, issuer }),
      now: c.clock,
    });
    const boundPort = await admission
      .listen(c.listenHost, port, { identity: serving, clientCaPems: [identity.nodeCa.certPem, identity.adminCa.certPem] })
      .catch((err: NodeJS.ErrnoException) => {
        throw listenFailure(c.listenHost, port, err);
      });

    if (c.planFile && planText !== null) {
      const res = await state.applyPlan(planText, c.planFile, false);
      if (!res.unchanged) log.info(`plan ${c.planFile} applied as revision ${res.revision}`);
      for (const w of res.warnings) log.warn(w);
    }
    lifecycle.accepting = () => admission.listener.accepting;
    if (metricsSkipped) log.warn(`no metrics listener: ${metricsSkipped} (or --metrics-address off)`);
    log.info(`coordinator listening on ${c.listenHost}:${boundPort} (advertised as ${advertise}); CA pin ${identity.caPin}`);

    let closed = false;
    return {
      address: advertise,
      port: boundPort,
      identity,
      state,
      hub,
      clusterCas,
      issuer,
      metrics,
      metricsAddress: metricsServer?.address ?? null,
      serverCertPem: () => server.certPem,
      joinCommand: (token) => `muster-agent run --coordinator ${advertise} --token ${token} --ca-hash ${identity.caPin}`,
      async close() {
        if (closed) return;
        closed = true;
        lifecycle.closing = true;
        renewals.forEach((r) => r.stop());
        hub.notifyAll();
        await admission.close(2000);
        await state.close();
        unobserveCommits();
        await store.close();
        await stopMetrics();
      },
    };
  } catch (err) {
    return fail(err);
  }
}
