// The agent's pull loop, as an explicit state machine:
//
//   starting -> joining -> reporting -> watching -> applying -> watching ...
//                                 ^            |
//                                 +- probing <-+  (the coordinator sent a probe plan: run it,
//                                                  report the results, watch again)
//   watching -> renewing-certificates -> watching  (a cluster certificate reached its renewal
//                                                  point, or the agent just started with roles)
//                  \__________\____________\___________\__> waiting-for-coordinator (backoff) -> back
//   any -> stopped (AbortSignal) | failed (an error no retry can fix: pin mismatch, bad token,
//                                          node removed)
//
// One attempt at each step is a plain async function; the loop around them owns retries, so
// "waiting for coordinator" is an info line, not an error.
import { join } from 'node:path';
import type { CompiledAgentOptions } from '../config/options.ts';
import { IdentityStore, type AgentIdentity, type AppliedState } from '../identity/identity-store.ts';
import { ApplyError, type AppliedFile } from '../apply/apply.ts';
import { NodeApplier, type NodeApplyResult } from '../apply/engine.ts';
import { ClusterObjectsTask } from '../kube/cluster-objects.ts';
import { waitForApiServer } from '../kube/api-server-ready.ts';
import { etcdStartTime, manifestWrittenAt, waitForEtcdMember } from '../kube/etcd-ready.ts';
import { ETCD_MANIFEST, etcdMetricsUrl } from '../../shared/render/static-pods/etcd.ts';
import { etcdWaitApplies, readyWaits, type ReadyWaitsOwed } from './ready-waits.ts';
import { detectServices, type ServiceManager } from '../apply/services.ts';
import type { AgentClient } from '../../shared/wire/proto.ts';
import { fromServiceError, isRetryable, unary, advisedReconnectMs } from '../../shared/wire/status.ts';
import type { Metadata } from '@grpc/grpc-js';
import { MusterError, errorMessage } from '../../shared/errors/index.ts';
import { compileRetry, reconnectDelayMs, sleep, startupDelayMs, type RetryOptions } from '../../shared/retry.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { AssignmentOut, Facts } from '../../shared/wire/types.ts';
import { startProbeListener, runProbePlan, RolePortListeners } from '../probe/index.ts';
import type { ProbePlanOut, ProbeResults } from '../../shared/wire/types.ts';
import { PROBE_LISTEN_HOLD_MS } from '../../shared/constants.ts';
import { ClusterCertificates, type EnsureResult, type IssueFn } from '../pki/index.ts';
import { NodeIdentity } from './node-identity.ts';
import { RenderCache } from './render-cache.ts';
import type { AgentPhase } from './phase.ts';

export type { AgentPhase } from './phase.ts';

/** Where facts come from: the real collector on a node, a cheap fake for simulated fleets. */
export interface FactsSource {
  collect(): Promise<Facts>;
  /** Only the sections that changed since `previous` (all of them when previous is null). */
  diff(previous: Facts | null, next: Facts): { facts: Facts; full: boolean; changed: string[] };
  /** `base` with the sections of `update` replacing its own. */
  merge(base: Facts, update: Facts): Facts;
}

export interface AgentDeps {
  log: Logger;
  facts: FactsSource;
  version: string;
  retry?: RetryOptions;
  clock?: () => number;
  /** Delay before re-trying a failed apply. @default 30000 */
  applyRetryMs?: number;
  /** Where in the renewal window (0..1) this agent renews; tests fix it. @default Math.random */
  renewRandom?: () => number;
  /**
   * Restarts node components (kubelet, etcd...) whose certificates, CA bundles or keys changed,
   * and resolves once they run again. An apply is reported only after it, so a CA rotation never
   * moves on past a component still holding the old files. @default none: the components to
   * restart are only collected (`restartPending`); the render/apply engine brings the real one.
   */
  components?: ComponentRestarter;
  /** Runs systemctl and friends. @default systemd when it is PID 1 and the root is /, else none */
  services?: ServiceManager;
}

/** Components that run as host daemons, by their systemd unit; the others are static pods. */
const HOST_DAEMON_UNITS: Readonly<Record<string, string>> = { kubelet: 'kubelet.service', 'kube-proxy': 'kube-proxy.service' };

export interface ComponentRestarter {
  restart(components: readonly string[], signal: AbortSignal): Promise<void>;
}

const CALL_TIMEOUT_MS = 15_000;

export class Agent {
  readonly #o: CompiledAgentOptions;
  readonly #d: AgentDeps;
  readonly #store: IdentityStore;
  readonly #clock: () => number;
  readonly #retry;
  #phase: AgentPhase = 'starting';
  #applied: AppliedState | null = null;
  #phaseListeners = new Set<(p: AgentPhase, applied: number) => void>();
  readonly #pki: ClusterCertificates;
  readonly #applier: NodeApplier;
  readonly #clusterObjects: ClusterObjectsTask;
  /** The applied assignment's files, rendered again only when the assignment or a certificate changes. */
  readonly #rendered = new RenderCache();
  /** The node's muster identity: join, the channel on it, renewal, expiry (node-identity.ts). */
  readonly #id: NodeIdentity;
  /** When the cluster certificates are checked next: their earliest renewal point. */
  #certsCheckAt = Infinity;
  /** Components whose certificates changed and that no restarter has restarted yet. */
  #restartPending = new Set<string>();

  constructor(options: CompiledAgentOptions, deps: AgentDeps) {
    this.#o = options;
    this.#d = deps;
    this.#store = new IdentityStore(options.stateDir);
    this.#clock = deps.clock ?? Date.now;
    this.#retry = compileRetry(deps.retry);
    this.#pki = new ClusterCertificates({ root: options.root, log: deps.log, clock: this.#clock, random: deps.renewRandom });
    this.#clusterObjects = new ClusterObjectsTask({ root: options.root, log: deps.log });
    this.#applier = new NodeApplier({ root: options.root, stateDir: options.stateDir, log: deps.log, services: deps.services ?? detectServices(deps.log, options.root) });
    this.#id = new NodeIdentity({
      options,
      log: deps.log,
      version: deps.version,
      clock: this.#clock,
      renewRandom: deps.renewRandom,
      store: this.#store,
      retry: (what, signal, attempt, resume) => this.#withRetry(what, signal, attempt, resume),
      setPhase: (p) => this.#setPhase(p),
    });
  }

  get phase(): AgentPhase {
    return this.#phase;
  }

  get appliedRevision(): number {
    return this.#applied?.revision ?? 0;
  }

  /** When the cluster certificates are checked for renewal next (ms since the epoch; Infinity: none held). */
  get certificatesRenewAt(): number {
    return this.#certsCheckAt;
  }

  /** Components whose certificates, CA bundle or service-account key changed since they were last restarted. */
  get restartPending(): readonly string[] {
    return [...this.#restartPending].sort();
  }

  onPhase(cb: (p: AgentPhase, appliedRevision: number) => void): () => void {
    this.#phaseListeners.add(cb);
    return () => this.#phaseListeners.delete(cb);
  }

  #setPhase(p: AgentPhase): void {
    if (p === this.#phase) return;
    this.#d.log.debug(`phase ${this.#phase} -> ${p}`);
    this.#phase = p;
    for (const l of this.#phaseListeners) l(p, this.appliedRevision);
  }

  /** Runs until the signal aborts (resolves) or a non-retryable error (rejects, phase "failed"). */
  async run(signal: AbortSignal): Promise<void> {
    try {
      // Full jitter on start-up: a fleet booted together does not reach the coordinator at once.
      const wait = startupDelayMs(this.#o.startupJitterMs, this.#retry.random);
      if (wait > 0) {
        this.#d.log.info(`first contact with the coordinator in ${(wait / 1000).toFixed(1)}s (start-up jitter, up to ${(this.#o.startupJitterMs / 1000).toFixed(1)}s)`);
        await sleep(wait, signal);
      }
      const identity = await this.#id.ensure(signal);
      this.#applied = await this.#store.loadApplied();
      // Started with roles: check the cluster certificates at once (a node back after an outage
      // longer than their lifetime finds them expired and asks again, by itself).
      if (this.#applied?.assignment.roles.length) this.#certsCheckAt = 0;
      await this.#loop(identity, signal);
      this.#setPhase('stopped');
    } catch (err) {
      if (signal.aborted) {
        this.#setPhase('stopped');
        return;
      }
      this.#setPhase('failed');
      throw err;
    }
  }

  /** The reconnect window the coordinator advised with its last watch (its fleet's size over the rate it takes reconnections back). */
  #advisedReconnectMs = 0;

  /** From a WatchAssignment's response headers. */
  #noteHeaders(headers: Metadata): void {
    this.#advisedReconnectMs = advisedReconnectMs(headers) ?? this.#advisedReconnectMs;
  }

  /** Retries `attempt` while the coordinator is unreachable, with backoff and full jitter. */
  async #withRetry<T>(what: string, signal: AbortSignal, attempt: (reached: () => void) => Promise<T>, resumePhase: AgentPhase): Promise<T> {
    for (let n = 1; ; n++) {
      // "Back" when the call is answered, or earlier when the coordinator says it has accepted it
      // (a held watch sends its headers at once): an agent waiting 55 s for its watch's answer
      // would otherwise look lost until then.
      let back = n === 1;
      const reached = () => {
        if (back) return;
        back = true;
        this.#d.log.info(`coordinator at ${this.#o.coordinator} is back`);
      };
      try {
        const r = await attempt(reached);
        reached();
        return r;
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        const e = err instanceof MusterError ? err : fromServiceError(err, this.#o.coordinator);
        // Refused for want of a valid certificate because ours ran out (the coordinator was
        // unreachable through the whole renewal window): say so, and what the operator does.
        const expired = e.kind === 'unauthenticated' ? this.#id.expired() : null;
        if (expired) throw expired;
        // Something that is not our coordinator answers on its address (an impostor, or a
        // re-initialised coordinator): send it nothing, say so loudly, keep trying -- the real
        // one may come back there.
        const impostor = e.reason === 'coordinator-unverified';
        if (!isRetryable(e) && !impostor) throw e;
        // A connection lost (the coordinator restarted): the first retry is spread over the
        // reconnect window; after that, backoff with full jitter; never sooner than a hint.
        const delay = reconnectDelayMs(this.#retry, n, e, e.kind === 'unavailable' ? Math.max(this.#o.reconnectJitterMs, this.#advisedReconnectMs) : 0);
        this.#setPhase('waiting-for-coordinator');
        const line = `waiting for coordinator at ${this.#o.coordinator} (${what}: ${e.message}); retry ${n} in ${(delay / 1000).toFixed(1)}s`;
        if (impostor) this.#d.log.warn(line);
        else this.#d.log.info(line);
        await sleep(delay, signal);
        this.#setPhase(resumePhase);
      }
    }
  }

  /** The probe port peers measure latency to; 0 when it cannot listen (peers then skip this node). */
  async #startProbeListener(): Promise<{ port: number; close(): Promise<void> }> {
    try {
      const l = await startProbeListener({ host: this.#o.address || '0.0.0.0', port: this.#o.probePort });
      this.#d.log.info(`probe listener on ${this.#o.address || '0.0.0.0'}:${l.port}`);
      return l;
    } catch (err) {
      this.#d.log.warn(`${errorMessage(err)}; peers cannot measure their latency to this node`);
      return { port: 0, close: async () => undefined };
    }
  }

  /** Runs a probe plan from the coordinator; its results go out with the next report. */
  async #probe(plan: ProbePlanOut, listeners: RolePortListeners, signal: AbortSignal): Promise<ProbeResults> {
    this.#setPhase('probing');
    const opened = await listeners.ensure(plan.listen_ports, PROBE_LISTEN_HOLD_MS);
    if (opened.busy.length || opened.failed.length) {
      this.#d.log.info(`role ports for peer probes: open ${opened.opened.join(',') || 'none'}; already in use ${opened.busy.join(',') || 'none'}${opened.failed.map((f) => `; ${f.port}: ${f.error}`).join('')}`);
    }
    const results = await runProbePlan({ ...plan, listen_ports: [] }, { sourceAddress: this.#o.address || undefined, signal, coordinator: this.#o.coordinator });
    const slow = results.latency.filter((l) => l.median_ms < 0).length;
    const unreachable = results.reach.filter((r) => !r.ok).length;
    this.#d.log.info(`probe plan ${plan.id}: ${results.latency.length} latency target(s)${slow ? ` (${slow} unanswered)` : ''}, ${results.reach.length} port(s) to reach${unreachable ? ` (${unreachable} unreachable)` : ''}`);
    return results;
  }

  /** When this agent renews its identity next (ms since the epoch). */
  get renewAt(): number {
    return this.#id.renewAt;
  }

  async #loop(identity: AgentIdentity, signal: AbortSignal): Promise<void> {
    this.#id.use(identity);
    signal.addEventListener('abort', () => this.#id.close(), { once: true });
    const probe = await this.#startProbeListener();
    const roleListeners = new RolePortListeners(this.#o.address || '0.0.0.0');
    try {
      await this.#pull(probe.port, roleListeners, signal);
    } finally {
      // However the loop ends (stopped, or failed: node removed), nothing stays listening.
      await Promise.all([probe.close(), roleListeners.close()]);
      this.#id.close();
    }
  }

  async #pull(probePort: number, roleListeners: RolePortListeners, signal: AbortSignal): Promise<void> {
    this.#probePort = probePort;
    let client = this.#id.client;
    let probeRan = 0;
    let probeResults: ProbeResults | null = null;
    let sentFacts: Facts | null = null;
    let needFull = true;
    let nextReportAt = 0;
    let clockOffset: { offset_ms: number; round_trip_ms: number } | null = null;
    let lastWaitingReason = '';
    let failed: { assignment: AssignmentOut; retryAt: number } | null = null;

    // What this node applied last, said again at start: the report of it may never have arrived
    // (the agent stopped or crashed between applying and reporting), and the coordinator would
    // then wait forever for a node that, holding that revision, is never sent it again.
    // A wait the last run did not finish (./ready-waits.ts) is waited for first: "applied" means
    // serving again, and the rollout moves on with this report.
    const applied = this.#applied;
    if (applied) {
      let ok = true;
      let error = '';
      if (applied.owed) {
        try {
          await this.#waitForComponents(applied.assignment, [], applied.assignment, undefined, applied.owed, signal);
        } catch (err) {
          if (signal.aborted) throw err;
          ok = false;
          error = errorMessage(err);
          this.#d.log.error(`revision ${applied.revision} is applied, but ${error}`);
          failed = { assignment: applied.assignment, retryAt: this.#clock() + (this.#d.applyRetryMs ?? 30_000) };
        }
      }
      const again = { revision: applied.revision, ok, error, files: [], duration_ms: 0, roles: applied.assignment.roles, drift: [], removed: [] };
      await this.#withRetry('report apply', signal, () => unary(this.#o.coordinator, client, 'ReportApply', again, CALL_TIMEOUT_MS, signal), 'reporting');
    }

    while (!signal.aborted) {
      // ---- identity renewal, at its random point in 70-90% of the certificate's lifetime
      if (this.#clock() >= this.#id.renewAt) client = await this.#id.renew(signal, this.#phase);

      // ---- cluster certificates, at the earliest renewal point of those the node holds
      if (this.#clock() >= this.#certsCheckAt) await this.#renewCertificates(signal);

      // ---- reporting (also at once when probe results wait to be sent)
      if (needFull || probeResults || this.#clock() >= nextReportAt) {
        this.#setPhase('reporting');
        const facts = await this.#d.facts.collect();
        if (clockOffset) facts.clock = clockOffset;
        const d: { facts: Facts; full: boolean; changed: string[] } = needFull || !sentFacts ? { facts, full: true, changed: ['all'] } : this.#d.facts.diff(sentFacts, facts);
        if (d.full || d.changed.length || probeResults) {
          const sentAt = this.#clock();
          const probes = probeResults;
          const res = await this.#withRetry(
            'report',
            signal,
            () =>
              unary(this.#o.coordinator, client, 'Report', {
                facts: d.facts,
                full: d.full,
                sent_at_ms: sentAt,
                labels: this.#o.labels,
                address: this.#o.address,
                agent_version: this.#d.version,
                probe_port: probePort,
                probes,
              }, CALL_TIMEOUT_MS, signal),
            'reporting',
          );
          probeResults = null;
          const receivedAt = this.#clock();
          clockOffset = { offset_ms: (sentAt + receivedAt) / 2 - Number(res.server_time_ms), round_trip_ms: receivedAt - sentAt };
          // Diff against what the coordinator holds (merged), not the last collection, so slow
          // drift adds up until it crosses the noise threshold and is sent.
          sentFacts = d.full || !sentFacts ? facts : this.#d.facts.merge(sentFacts, d.facts);
          needFull = res.need_full_facts;
        }
        nextReportAt = this.#clock() + this.#o.reportIntervalMs;
        // Each report interval, the files muster owns are checked against what it renders.
        if (!failed) await this.#repairDrift(client, signal);
      }

      // ---- retry a failed apply when due
      if (failed && this.#clock() >= failed.retryAt) {
        const a = failed.assignment;
        failed = null;
        failed = await this.#applyAndReport(client, a, signal);
      }

      // ---- watching (long poll)
      this.#setPhase('watching');
      const until = Math.min(nextReportAt, failed?.retryAt ?? Infinity, this.#id.renewAt, this.#certsCheckAt);
      const hold = Math.max(0, Math.min(this.#o.watchHoldMs, until - this.#clock()));
      const have = Math.max(this.appliedRevision, failed?.assignment.revision ?? 0);
      const res = await this.#withRetry(
        'watch',
        signal,
        (reached) =>
          unary(this.#o.coordinator, client, 'WatchAssignment', { applied_revision: have, hold_ms: hold, probe_plan_id: probeRan, probe_port: probePort }, hold + CALL_TIMEOUT_MS, signal, (headers) => {
            this.#noteHeaders(headers);
            reached();
          }),
        'watching',
      );
      if (res.probe_plan) {
        probeRan = Number(res.probe_plan.id);
        probeResults = await this.#probe(res.probe_plan, roleListeners, signal);
      }
      if (res.changed && res.assignment) {
        // Installing: the role ports belong to the real components from now on.
        await roleListeners.close();
        lastWaitingReason = '';
        failed = await this.#applyAndReport(client, res.assignment, signal);
      } else if (res.waiting_reason && res.waiting_reason !== lastWaitingReason) {
        lastWaitingReason = res.waiting_reason;
        this.#d.log.info(`no assignment yet: ${res.waiting_reason}`);
      }
    }
  }

  /** IssueCertificates over the current identity, retried while the coordinator is unreachable. */
  #issue(signal: AbortSignal, resume: AgentPhase): IssueFn {
    return (req) => this.#withRetry('issue certificates', signal, () => unary(this.#o.coordinator, this.#id.client, 'IssueCertificates', req, CALL_TIMEOUT_MS, signal), resume);
  }

  /** The cluster certificates of assignment `a`, made right; schedules the next check. */
  async #ensureCertificates(a: AssignmentOut, signal: AbortSignal, resume: AgentPhase): Promise<EnsureResult> {
    const r = await this.#pki.ensure(a, this.#issue(signal, resume));
    this.#certsCheckAt = r.renewAt;
    if (r.restart.length) {
      r.restart.forEach((c) => this.#restartPending.add(c));
      this.#d.log.info(`components to restart for changed certificates: ${r.restart.join(', ')}`);
    }
    return r;
  }

  /**
   * One pass over the node for assignment `a`: its certificates, then every rendered file as one
   * change set with what the changes set off (agent/apply/engine.ts). Components whose
   * certificates changed restart: host daemons through their unit, static pods through their
   * manifest, which carries a hash of their certificates.
   */
  async #applyNode(a: AssignmentOut, signal: AbortSignal, resume: AgentPhase): Promise<NodeApplyResult & { pkiFiles: AppliedFile[] }> {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const r = await this.#applyNodeOnce(a, signal, resume);
    const used = process.cpuUsage(cpu);
    const files = r.files.length + r.pkiFiles.length;
    const changed = r.changed.length + r.pkiFiles.filter((f) => f.changed).length;
    // What bench/apply.ts reads: one line per pass, its wall time and the CPU it took.
    this.#d.log.debug(`pass over revision ${a.revision}: ${files} files, ${changed} changed, in ${(performance.now() - started).toFixed(1)} ms (CPU ${((used.user + used.system) / 1000).toFixed(1)} ms)`);
    return r;
  }

  async #applyNodeOnce(a: AssignmentOut, signal: AbortSignal, resume: AgentPhase): Promise<NodeApplyResult & { pkiFiles: AppliedFile[] }> {
    const pki = await this.#ensureCertificates(a, signal, resume);
    const files = this.#rendered.files({ assignment: a, certificateHashes: pki.certHashes });
    const pending = this.restartPending;
    const units = [...new Set(pending.flatMap((c) => (HOST_DAEMON_UNITS[c] ? [HOST_DAEMON_UNITS[c]] : [])))];
    const r = await this.#applier.apply(files, { alsoOwned: pki.files.map((f) => f.path), alsoOwnedChanged: new Set(pki.files.filter((f) => f.changed).map((f) => f.path)), restart: units });
    if (this.#d.components) await this.#restartComponents(signal);
    else pending.forEach((c) => this.#restartPending.delete(c));
    if (r.actions.length) this.#d.log.info(`ran ${r.actions.join('; ')}`);
    return { ...r, pkiFiles: pki.files };
  }

  /** Restarts what is pending through the injected restarter; a failure leaves it pending. */
  async #restartComponents(signal: AbortSignal): Promise<void> {
    const pending = this.restartPending;
    if (!this.#d.components || !pending.length) return;
    await this.#d.components.restart(pending, signal);
    pending.forEach((c) => this.#restartPending.delete(c));
    this.#d.log.info(`restarted ${pending.join(', ')}`);
  }

  /**
   * Drift repair: the applied assignment rendered again and applied; whatever the pass had to
   * change, someone else changed since. Restored, logged and reported (same revision, drift).
   */
  async #repairDrift(client: AgentClient, signal: AbortSignal): Promise<void> {
    const a = this.#applied?.assignment;
    if (!a) return;
    try {
      const r = await this.#applyNode(a, signal, 'watching');
      await this.#reportDrift(client, a, r, signal);
      this.#startClusterObjects(a, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      this.#d.log.error(`cannot repair drift of revision ${a.revision}: ${errorMessage(err)}`);
    }
  }

  /** How long a report waits for what an apply restarted (0: not at all). */
  #readyTimeoutMs(): number {
    return this.#o.readyTimeoutMs ?? (this.#applier.services.kind === 'systemd' ? 300_000 : 0);
  }

  /**
   * An etcd member whose manifest an apply may change and that may owe a wait for it
   * (./ready-waits.ts): when its member started, read before the apply, so that the wait after it
   * can tell the restarted member from the one that ran (agent/kube/etcd-ready.ts). Undefined: not read.
   */
  async #etcdBefore(a: AssignmentOut, before: AssignmentOut | undefined, signal: AbortSignal): Promise<number | null | undefined> {
    if (!this.#readyTimeoutMs() || !etcdWaitApplies(a.roles, before?.roles)) return undefined;
    return etcdStartTime(etcdMetricsUrl(a.node_ip), signal);
  }

  /** Saves the applied state with what is owed (./ready-waits.ts), so that a restarted agent waits for it too. */
  async #saveOwed(owed: ReadyWaitsOwed | null): Promise<void> {
    if (!this.#applied || (!owed && !this.#applied.owed)) return;
    this.#applied = { ...this.#applied, owed: owed ?? undefined };
    await this.#store.saveApplied(this.#applied);
  }

  /**
   * What an apply restarted must serve again before the apply is reported (./ready-waits.ts
   * decides what, from the files it changed and what an earlier pass left owed): the coordinator
   * rolls version and settings changes over the control plane one node at a time on those
   * reports (coordinator/assign/rollout.ts). The etcd member first (its quorum is the others' to
   * keep), then the API server. What is owed is saved before the waits and cleared after them.
   */
  async #waitForComponents(a: AssignmentOut, files: readonly { path: string; changed: boolean }[], before: AssignmentOut | undefined, etcdStartedBefore: number | null | undefined, owed: ReadyWaitsOwed | null, signal: AbortSignal): Promise<void> {
    const timeoutMs = this.#readyTimeoutMs();
    if (!timeoutMs) return;
    const w = readyWaits({ roles: a.roles, kubernetesVersion: a.kubernetes_version, files, before, etcdStartedBefore, owed });
    await this.#saveOwed(w.owed);
    if (!w.etcd && !w.apiServer) return;
    const stopBeating = this.#heartbeat(signal);
    try {
      await this.#waitFor(a, w, signal, timeoutMs);
    } finally {
      stopBeating();
    }
    await this.#saveOwed(null);
  }

  async #waitFor(a: AssignmentOut, w: ReturnType<typeof readyWaits>, signal: AbortSignal, timeoutMs: number): Promise<void> {
    if (w.etcd) {
      // No start time from before the write (no member ran, or the wait is owed): the manifest's mtime tells the old member from the new one.
      const changedAt = w.etcd.before === null ? await manifestWrittenAt(join(this.#o.root, ETCD_MANIFEST)) : undefined;
      await waitForEtcdMember({ metricsUrl: etcdMetricsUrl(a.node_ip), before: w.etcd.before, changedAt, timeoutMs, log: this.#d.log, signal });
    }
    if (w.apiServer) await waitForApiServer({ root: this.#o.root, version: a.kubernetes_version, timeoutMs, log: this.#d.log, restart: w.apiServer.restart, signal });
  }

  /** The probe port the pull loop reports (a heartbeat must not change it). */
  #probePort = 0;

  /**
   * While a readiness wait runs (up to --ready-timeout-ms, 5 min, longer than the 3 min after which
   * the coordinator counts a silent node offline), a Report with no new facts each report interval
   * keeps the node online: it is applying, not gone, and a worker's batch place stays taken.
   * Returns the function that stops it.
   */
  #heartbeat(signal: AbortSignal): () => void {
    const beat = () =>
      unary(this.#o.coordinator, this.#id.client, 'Report', { facts: {}, full: false, sent_at_ms: this.#clock(), labels: this.#o.labels, address: this.#o.address, agent_version: this.#d.version, probe_port: this.#probePort }, CALL_TIMEOUT_MS, signal).catch((err) => {
        if (!signal.aborted) this.#d.log.debug(`heartbeat during the readiness wait: ${errorMessage(err)}`);
      });
    const timer = setInterval(() => void beat(), this.#o.reportIntervalMs);
    timer.unref?.();
    return () => clearInterval(timer);
  }

  /**
   * A master makes the cluster objects no component creates (agent/kube/cluster-objects.ts) once
   * its own API server answers: in the background, so the loop goes on while the static pods start.
   */
  #startClusterObjects(a: AssignmentOut, signal: AbortSignal): void {
    if (a.roles.includes('master')) this.#clusterObjects.start(signal);
  }

  /** Tells the coordinator about files a pass outside an apply restored (same revision, drift). */
  async #reportDrift(client: AgentClient, a: AssignmentOut, r: NodeApplyResult & { pkiFiles: AppliedFile[] }, signal: AbortSignal): Promise<void> {
    if (!r.drift.length && !r.removed.length) return;
    if (r.drift.length) this.#d.log.warn(`drift: restored ${r.drift.length} file(s) changed outside muster: ${r.drift.join(', ')}`);
    const report = { revision: Number(a.revision), ok: true, error: '', files: [...r.pkiFiles, ...r.files], duration_ms: 0, roles: a.roles, drift: r.drift, removed: r.removed };
    await this.#withRetry('report drift', signal, () => unary(this.#o.coordinator, client, 'ReportApply', report, CALL_TIMEOUT_MS, signal), 'watching');
  }

  /** A renewal check outside an apply. A failure is logged and retried later; it never stops the loop. */
  async #renewCertificates(signal: AbortSignal): Promise<void> {
    const a = this.#applied?.assignment;
    if (!a) {
      this.#certsCheckAt = Infinity;
      return;
    }
    this.#setPhase('renewing-certificates');
    try {
      const r = await this.#applyNode(a, signal, 'renewing-certificates');
      await this.#reportDrift(this.#id.client, a, r, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const retryMs = this.#d.applyRetryMs ?? 30_000;
      this.#certsCheckAt = this.#clock() + retryMs;
      this.#d.log.error(`cannot renew the cluster certificates of revision ${a.revision}: ${errorMessage(err)}; retry in ${(retryMs / 1000).toFixed(0)}s`);
    }
  }

  /** Applies one assignment and reports the outcome; returns the failure to retry later, if any. */
  async #applyAndReport(client: AgentClient, a: AssignmentOut, signal: AbortSignal): Promise<{ assignment: AssignmentOut; retryAt: number } | null> {
    this.#setPhase('applying');
    const started = this.#clock();
    const before = this.#applied?.assignment;
    let ok = true;
    let error = '';
    let files: { path: string; changed: boolean }[] = [];
    let removed: string[] = [];
    let drift: string[] = [];
    const owed = this.#applied?.owed ?? null;
    let applied = false;
    try {
      const etcd = await this.#etcdBefore(a, before, signal);
      // Certificates first: the files rendered next (kubelet config, static pods) point at them.
      const r = await this.#applyNode(a, signal, 'applying');
      files = [...r.pkiFiles, ...r.files];
      removed = r.removed;
      drift = r.drift;
      this.#applied = { revision: Number(a.revision), appliedAtMs: this.#clock(), assignment: a, owed: owed ?? undefined };
      await this.#store.saveApplied(this.#applied);
      applied = true;
      const changed = files.filter((f) => f.changed).length;
      this.#d.log.info(`applied revision ${a.revision} (roles ${a.roles.join(',') || 'none'}): ${changed} file(s) changed, ${files.length - changed} unchanged`);
      this.#startClusterObjects(a, signal);
      await this.#waitForComponents(a, files, before, etcd, owed, signal);
    } catch (err) {
      ok = false;
      // A pass that failed before its waits may still have rewritten a manifest: the next one
      // waits for readiness whatever it changes (./ready-waits.ts).
      if (!applied && this.#readyTimeoutMs()) await this.#saveOwed(readyWaits({ roles: a.roles, kubernetesVersion: a.kubernetes_version, files: [], before, etcdStartedBefore: undefined, owed: { etcd: true, apiServer: true } }).owed).catch(() => undefined);
      error = err instanceof ApplyError ? err.message : `apply failed: ${errorMessage(err)}`;
      this.#d.log.error(`cannot apply revision ${a.revision}: ${error}`);
    }
    // The coordinator refuses an error text over 4096 characters (coordinator/server/input/limits.ts).
    const result = { revision: Number(a.revision), ok, error: error.length > 4000 ? `${error.slice(0, 3999)}…` : error, files, duration_ms: this.#clock() - started, roles: a.roles, drift, removed };
    await this.#withRetry('report apply', signal, () => unary(this.#o.coordinator, client, 'ReportApply', result, CALL_TIMEOUT_MS, signal), 'applying');
    for (const l of this.#phaseListeners) l(this.#phase, this.appliedRevision);
    return ok ? null : { assignment: a, retryAt: this.#clock() + (this.#d.applyRetryMs ?? 30_000) };
  }
}
