// Admission: what the coordinator's transport lets in before anyone has authenticated. One
// options object (all optional, defaults below) -> compileAdmissionOptions() -> createAdmission(),
// which owns the TLS listener (./listener.ts), one grpc.Server per peer class, the per-source
// Join budget (./join-budget.ts) and the rate-limited warn lines for failed joins
// (./log-limiter.ts). The issue this answers: every service accepted 8 MB messages from anyone,
// and 128 concurrent 7.8 MB Joins without a token took the coordinator to 1.7 GB.
//
// Per class, from the connection's verified client certificate:
//   anonymous  no verified certificate: Bootstrap (GetCA, Join), a few KB each. Small messages,
//              few concurrent calls, closed when idle and after a maximum age.
//   node       a node identity: Agent calls (a Report carries facts, ~1-50 KB).
//   admin      an admin identity: Admin calls (ApplyPlan carries the plan YAML).
// Every class's server gets every service: a call that is not allowed for the caller is refused
// by its handler (auth.ts), with UNAUTHENTICATED rather than UNIMPLEMENTED.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../../shared/log/logger.ts';
import { ConfigError } from '../../../shared/errors/index.ts';
import { AdmissionListener, PEER_CLASSES, type ListenerTls, type PeerClass } from './listener.ts';
import { JoinBudget, compileJoinBudgetOptions, peerSource, type CompiledJoinBudget, type JoinBudgetOptions } from './join-budget.ts';
import { LogLimiter } from './log-limiter.ts';
import { WorkBudget, compileWorkBudgetOptions, type CompiledWorkBudget, type WorkBudgetOptions } from './work-budget.ts';
import { RECONNECTS_PER_SECOND } from '../../../shared/constants.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

export interface AdmissionOptions {
  /** Largest message on a connection without a verified client certificate (GetCA, Join). @default 65536 */
  anonymousMaxMessageBytes?: number;
  /** Largest message from a node certificate (Agent: a Report with facts). @default 1048576 */
  nodeMaxMessageBytes?: number;
  /** Largest message from an admin certificate (Admin: ApplyPlan's plan YAML). @default 4194304 */
  adminMaxMessageBytes?: number;
  /** A TCP connection that has not finished its TLS handshake by then is closed. @default 10000 */
  handshakeTimeoutMs?: number;
  /** An anonymous connection with no call in progress for this long (since it connected, or since its last call ended) is closed. @default 30000 */
  anonymousIdleTimeoutMs?: number;
  /**
   * An anonymous connection is told to go away after this long (+-10% jitter) even while busy,
   * and closed `anonymousMaxAgeGraceMs` later: the idle timeout alone is defeated by one call
   * that never sends its message. A join takes well under a second. @default 60000
   */
  anonymousMaxAgeMs?: number;
  /** @default 10000 */
  anonymousMaxAgeGraceMs?: number;
  /** Concurrent calls on one anonymous connection (an agent makes GetCA, then Join). @default 4 */
  anonymousMaxConcurrentCalls?: number;
  /**
   * Connections without a verified client certificate (in handshake or anonymous); beyond it new
   * ones are closed at accept, before any TLS work. Small on purpose: a handshake admitted is
   * paid for, and one that cannot finish within handshakeTimeoutMs (the event loop busy with the
   * others) is paid for and redone. Measured at 10,000 agents reconnecting after a restart
   * (bench/fleet.ts): 512 -> 88.6 s and 62.4 s of coordinator CPU until all were back; 128 ->
   * 56.6 s and 47.6 s. It still keeps the work budget (8 joins at once) fed. @default 128
   */
  maxUnverifiedConnections?: number;
  /**
   * Connections without a verified client certificate from one source address: one attacker
   * holding half-open handshakes cannot take every unverified slot. @default 32
   */
  maxUnverifiedPerSource?: number;
  /** Concurrent calls on one node connection (an agent holds one watch and makes one call at a time). @default 16 */
  nodeMaxConcurrentCalls?: number;
  /** All connections; beyond it new ones are closed at once. @default 20000 */
  maxConnections?: number;
  /** Per-source Join budget. */
  joinBudget?: JoinBudgetOptions;
  /** The coordinator-wide budget for expensive work (Join's CSR and signing, renewal, issuance). */
  workBudget?: WorkBudgetOptions;
  /**
   * Reconnections per second this coordinator takes back after a restart: its agents are told to
   * spread their first reconnect over (fleet size / this) seconds (reconnect-window.ts). @default RECONNECTS_PER_SECOND (200)
   */
  reconnectsPerSecond?: number;
  /** Failed-join warn lines per source per window. @default 5 */
  failedJoinLinesPerSource?: number;
  /** Failed-join (and refused-connection) warn lines in all per window. @default 50 */
  failedJoinLinesTotal?: number;
  /** @default 60000 */
  failedJoinLogIntervalMs?: number;
  /** For the join budget and the log windows. @default Date.now */
  clock?: () => number;
}

export interface CompiledAdmissionOptions {
  maxMessageBytes: Record<PeerClass, number>;
  handshakeTimeoutMs: number;
  anonymousIdleTimeoutMs: number;
  anonymousMaxAgeMs: number;
  anonymousMaxAgeGraceMs: number;
  anonymousMaxConcurrentCalls: number;
  maxUnverifiedConnections: number;
  maxUnverifiedPerSource: number;
  nodeMaxConcurrentCalls: number;
  maxConnections: number;
  joinBudget: CompiledJoinBudget;
  workBudget: CompiledWorkBudget;
  reconnectsPerSecond: number;
  log: { linesPerKey: number; linesTotal: number; intervalMs: number };
  clock: () => number;
}

export function compileAdmissionOptions(o: AdmissionOptions = {}): CompiledAdmissionOptions {
  const clock = o.clock ?? Date.now;
  const c: CompiledAdmissionOptions = {
    maxMessageBytes: {
      anonymous: o.anonymousMaxMessageBytes ?? 64 * KiB,
      node: o.nodeMaxMessageBytes ?? 1 * MiB,
      admin: o.adminMaxMessageBytes ?? 4 * MiB,
    },
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? 10_000,
    anonymousIdleTimeoutMs: o.anonymousIdleTimeoutMs ?? 30_000,
    anonymousMaxAgeMs: o.anonymousMaxAgeMs ?? 60_000,
    anonymousMaxAgeGraceMs: o.anonymousMaxAgeGraceMs ?? 10_000,
    anonymousMaxConcurrentCalls: o.anonymousMaxConcurrentCalls ?? 4,
    maxUnverifiedConnections: o.maxUnverifiedConnections ?? 128,
    maxUnverifiedPerSource: o.maxUnverifiedPerSource ?? 32,
    nodeMaxConcurrentCalls: o.nodeMaxConcurrentCalls ?? 16,
    maxConnections: o.maxConnections ?? 20_000,
    joinBudget: compileJoinBudgetOptions({ ...o.joinBudget, clock: o.joinBudget?.clock ?? clock }),
    workBudget: compileWorkBudgetOptions(o.workBudget),
    reconnectsPerSecond: o.reconnectsPerSecond ?? RECONNECTS_PER_SECOND,
    log: { linesPerKey: o.failedJoinLinesPerSource ?? 5, linesTotal: o.failedJoinLinesTotal ?? 50, intervalMs: o.failedJoinLogIntervalMs ?? 60_000 },
    clock,
  };
  const positive: Array<[string, number]> = [
    ['anonymousMaxMessageBytes', c.maxMessageBytes.anonymous],
    ['nodeMaxMessageBytes', c.maxMessageBytes.node],
    ['adminMaxMessageBytes', c.maxMessageBytes.admin],
    ['handshakeTimeoutMs', c.handshakeTimeoutMs],
    ['reconnectsPerSecond', c.reconnectsPerSecond],
    ['anonymousIdleTimeoutMs', c.anonymousIdleTimeoutMs],
    ['anonymousMaxAgeMs', c.anonymousMaxAgeMs],
    ['anonymousMaxAgeGraceMs', c.anonymousMaxAgeGraceMs],
    ['anonymousMaxConcurrentCalls', c.anonymousMaxConcurrentCalls],
    ['maxUnverifiedConnections', c.maxUnverifiedConnections],
    ['maxUnverifiedPerSource', c.maxUnverifiedPerSource],
    ['nodeMaxConcurrentCalls', c.nodeMaxConcurrentCalls],
    ['maxConnections', c.maxConnections],
    ['failedJoinLinesPerSource', c.log.linesPerKey],
    ['failedJoinLinesTotal', c.log.linesTotal],
    ['failedJoinLogIntervalMs', c.log.intervalMs],
  ];
  for (const [name, v] of positive) {
    // grpc-js keeps its timers in 32-bit ms; beyond that they fire at once.
    if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) throw new ConfigError(`admission: ${name} must be a positive integer below 2^31, got ${v}`);
  }
  if (c.maxUnverifiedConnections > c.maxConnections) {
    throw new ConfigError(`admission: maxUnverifiedConnections (${c.maxUnverifiedConnections}) is more than maxConnections (${c.maxConnections})`);
  }
  return c;
}

/** grpc.Server options for one class, over the caller's own (keepalive, channelz, ...). */
export function serverOptionsFor(c: CompiledAdmissionOptions, cls: PeerClass, base: grpc.ServerOptions = {}): grpc.ServerOptions {
  const o: grpc.ServerOptions = { ...base, 'grpc.max_receive_message_length': c.maxMessageBytes[cls] };
  if (cls === 'anonymous') {
    o['grpc.max_connection_idle_ms'] = c.anonymousIdleTimeoutMs;
    o['grpc.max_connection_age_ms'] = c.anonymousMaxAgeMs;
    o['grpc.max_connection_age_grace_ms'] = c.anonymousMaxAgeGraceMs;
    o['grpc.max_concurrent_streams'] = c.anonymousMaxConcurrentCalls;
  }
  // One node's connection cannot carry hundreds of calls at once (each up to its message limit).
  if (cls === 'node') o['grpc.max_concurrent_streams'] = c.nodeMaxConcurrentCalls;
  return o;
}

/** What the Join handler calls; a small interface so BootstrapService tests can pass a fake. */
export interface JoinGate {
  /** First thing in Join: charges the caller's source; throws ResourceExhaustedError (with retryAfterMs) when its budget is spent. */
  admitJoin(peer: string): void;
  /** When a Join fails for any reason: one rate-limited warn line. */
  joinFailed(peer: string, message: string): void;
}

export interface Admission extends JoinGate {
  readonly options: CompiledAdmissionOptions;
  /** One grpc.Server per peer class; add every service to each (`for (const s of admission.servers)`). */
  readonly servers: readonly grpc.Server[];
  readonly serverFor: Readonly<Record<PeerClass, grpc.Server>>;
  readonly joinBudget: JoinBudget;
  readonly work: WorkBudget;
  readonly listener: AdmissionListener;
  /** Binds host:port (port 0: any) with TLS; resolves with the port. */
  listen(host: string, port: number, tls: ListenerTls): Promise<number>;
  /** Stops accepting, lets calls in progress finish for up to graceMs, then closes everything. */
  close(graceMs?: number): Promise<void>;
  /** Closes everything now. */
  forceClose(): void;
}

export function createAdmission(c: CompiledAdmissionOptions, baseServerOptions: grpc.ServerOptions, log: Logger): Admission {
  const limiter = new LogLimiter({
    what: 'failed joins',
    emit: (line) => log.warn(line),
    linesPerKey: c.log.linesPerKey,
    linesTotal: c.log.linesTotal,
    intervalMs: c.log.intervalMs,
    clock: c.clock,
  });
  const refusals = new LogLimiter({
    what: 'refused connections',
    emit: (line) => log.warn(line),
    linesPerKey: 1,
    linesTotal: c.log.linesTotal,
    intervalMs: c.log.intervalMs,
    clock: c.clock,
  });
  // Summaries for sources that went quiet; unref'd so it never keeps the process alive.
  const flusher = setInterval(() => {
    limiter.flush();
    refusals.flush();
  }, c.log.intervalMs);
  flusher.unref();

  const serverFor = Object.fromEntries(PEER_CLASSES.map((cls) => [cls, new grpc.Server(serverOptionsFor(c, cls, baseServerOptions))])) as Record<PeerClass, grpc.Server>;
  const insecure = grpc.ServerCredentials.createInsecure(); // TLS is done by the listener
  const injectors = Object.fromEntries(PEER_CLASSES.map((cls) => [cls, serverFor[cls].createConnectionInjector(insecure)])) as Record<PeerClass, grpc.ConnectionInjector>;
  const joinBudget = new JoinBudget(c.joinBudget);
  const work = new WorkBudget(c.workBudget);
  let listener: AdmissionListener | null = null;
  let closed = false;

  const shutdown = (s: grpc.Server, graceMs: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        s.forceShutdown();
        resolve();
      }, graceMs);
      s.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });

  const admission: Admission = {
    options: c,
    servers: PEER_CLASSES.map((cls) => serverFor[cls]),
    serverFor,
    joinBudget,
    work,
    get listener(): AdmissionListener {
      if (!listener) throw new Error('admission: listen() has not been called');
      return listener;
    },
    async listen(host, port, tls) {
      listener = new AdmissionListener(
        { handshakeTimeoutMs: c.handshakeTimeoutMs, maxConnections: c.maxConnections, maxUnverifiedConnections: c.maxUnverifiedConnections, maxUnverifiedPerSource: c.maxUnverifiedPerSource },
        injectors,
        tls,
        log,
        refusals,
      );
      return listener.listen(host, port);
    },
    admitJoin(peer) {
      joinBudget.charge(peerSource(peer));
    },
    joinFailed(peer, message) {
      const source = peerSource(peer);
      limiter.log(source, `join from ${source} failed: ${message}`);
    },
    async close(graceMs = 2000) {
      if (closed) return;
      closed = true;
      clearInterval(flusher);
      await listener?.stopAccepting();
      await Promise.all(admission.servers.map((s) => shutdown(s, graceMs)));
      listener?.destroyAll();
      limiter.flush();
    },
    forceClose() {
      closed = true;
      clearInterval(flusher);
      void listener?.stopAccepting();
      for (const s of admission.servers) s.forceShutdown();
      listener?.destroyAll();
    },
  };
  return admission;
}
