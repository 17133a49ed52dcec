// The coordinator's state: one writer (writer.ts) and one module per aggregate -- tokens, nodes
// (joins, identities), plans, assignments, reports -- plus the preflight tracker, composed here.
// This file holds only what spans aggregates: mutations that touch several of them (apply a plan,
// remove a node, record a report), the coalesced recomputation of assignments, and feeding
// committed changes to the preflight tracker and the watchers. Services call the aggregates
// (`state.tokens`, `state.nodes`, `state.preflight`...) directly.
import type { Op, Store, WatchEvent } from '../store/store.ts';
import { StateWriter, type Table } from './writer.ts';
import { META, PREFIX, type ApplyRecord, type StoredBody } from './records.ts';
import { Tokens } from './tokens.ts';
import { Nodes } from './nodes.ts';
import { Plans, type CurrentPlan } from './plans.ts';
import { Assignments, toChange, type Recomputed } from './assignments.ts';
import { Reports } from './reports.ts';
import { Issuance } from './issuance.ts';
import { PkiState, ROTATION_PREFIX, RENEW_PREFIX } from './pki-state.ts';
import { CLUSTER_CA_KINDS, type ClusterCas } from '../pki/cluster-cas.ts';
import { pkiTarget, type PkiTargetOut } from '../pki/targets.ts';
import { COMPLETE, STAGE_NAMES, stepRotation, type CaRotationRecord, type RotationNode } from '../pki/rotation.ts';
import { rotationCaProblem } from '../pki/rotation-consistency.ts';
import { kindsForRoles, type ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { AdminCredentials } from './admins.ts';
import type { Plan } from '../../shared/plan/types.ts';
import { deriveStatus, type NodeStatusRow } from './status.ts';
import { formatRefusal, nodeChanges, reviewPlanChange, type AssignOutput, type ChangeRefusal, type NodeChange, type RegisteredNode } from '../assign/index.ts';
import type { RolloutHold } from '../assign/rollout.ts';
import type { Facts } from '../../shared/wire/types.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { LAST_SEEN_FLUSH_MS, OFFLINE_AFTER_MS, type Role } from '../../shared/constants.ts';
import { FailedPreconditionError, NotFoundError } from '../../shared/errors/index.ts';
import { stableStringify } from '../../shared/json.ts';
import { PreflightTracker, type PreflightNodeInput } from '../preflight/tracker.ts';
import { RegisteredView } from './registered.ts';

export type { NodeStatusRow, NodeState } from './status.ts';

/** A coalesced recomputation waits at least this many times its last duration (see #scheduleRecompute). */
const RECOMPUTE_SPACING = 4;

export interface PlanApplyOptions {
  /** Apply even when plan-change checks refuse. @default false */
  force?: boolean;
  /** Report what would happen; store nothing. @default false */
  dryRun?: boolean;
}

export interface PlanApplyResult {
  /** The plan's number (for a dry run: the number it would get). */
  revision: number;
  /** Nodes whose assignment changed (would change). */
  changedNodes: string[];
  warnings: string[];
  unchanged: boolean;
  /** What the plan-change checks refused (forced past, or for a dry run, would refuse). */
  refusals: ChangeRefusal[];
  /** Per node: roles before and after, and the other fields that change. */
  nodeChanges: NodeChange[];
  dryRun: boolean;
}

export interface ClusterStateOptions {
  store: Store;
  logger: Logger;
  /** @default Date.now */
  clock?: () => number;
  /** Coalescing window for recomputing assignments after joins and reports. @default 50 */
  recomputeDelayMs?: number;
  /** Called when the store fails to commit. @default log and exit the process */
  onFatal?: (err: unknown) => void;
  /**
   * The cluster's CAs (coordinator/pki/cluster-cas.ts): created from the first plan applied, and
   * loaded at open when a plan exists. @default none (no cluster PKI: tests of other parts)
   */
  clusterCas?: ClusterCas;
  /** A node silent this long shows as offline. @default OFFLINE_AFTER_MS (3 report intervals) */
  offlineAfterMs?: number;
}

/** The default reaction to a failed commit: log and exit (fail-stop), so nothing unsaved is served. */
export function exitOnStoreFailure(log: Logger): (err: unknown) => void {
  return (err) => {
    log.error(`the state store failed to commit; stopping so that nothing unsaved is served: ${(err as Error)?.stack ?? err}`);
    process.exit(70);
  };
}

export class ClusterState {
  readonly writer: StateWriter;
  readonly tokens: Tokens;
  readonly nodes: Nodes;
  readonly plans: Plans;
  readonly assignments: Assignments;
  readonly reports: Reports;
  /** Cluster certificates issued (coordinator/pki/issuer.ts records them here). */
  readonly issuance: Issuance;
  /** CA rotations and renewal requests (coordinator/pki/rotation.ts decides what they do). */
  readonly pki: PkiState;
  /** Admin credentials signed, and their revocations (every admin call is checked against it). */
  readonly admins: AdminCredentials;
  readonly preflight: PreflightTracker;
  readonly #meta: Table<unknown>;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #recomputeDelayMs: number;
  readonly #clusterCas: ClusterStateOptions['clusterCas'];
  readonly #offlineAfterMs: number;
  readonly #listeners = new Set<(names: string[]) => void>();
  /** Each node's inputs to the engine, cached; a report that changes none skips a recompute. */
  readonly #registeredView: RegisteredView;
  #recomputeTimer: NodeJS.Timeout | null = null;
  /** Settles when the recomputation scheduled last has run. */
  #recomputed: Promise<void> = Promise.resolve();
  #flushTimer: NodeJS.Timeout | null = null;

  private constructor(o: ClusterStateOptions) {
    this.#log = o.logger;
    this.#clock = o.clock ?? Date.now;
    this.#recomputeDelayMs = o.recomputeDelayMs ?? 50;
    const onFatal = o.onFatal ?? exitOnStoreFailure(this.#log);
    this.writer = new StateWriter({ store: o.store, onFatal });
    this.#meta = this.writer.table<unknown>(PREFIX.meta);
    this.tokens = new Tokens(this.writer, this.#clock);
    this.nodes = new Nodes(this.writer, this.tokens, this.#log, this.#clock);
    this.plans = new Plans(this.writer, this.#meta, this.#clock);
    this.assignments = new Assignments(this.writer);
    this.reports = new Reports(this.writer, this.#clock);
    this.issuance = new Issuance(this.writer, this.nodes);
    this.pki = new PkiState(this.writer);
    this.admins = new AdminCredentials(this.writer, this.#clock);
    this.#registeredView = new RegisteredView(this.nodes.table, this.reports.facts);
    this.#clusterCas = o.clusterCas;
    this.#offlineAfterMs = o.offlineAfterMs ?? OFFLINE_AFTER_MS;
    this.#openedAtMs = this.#clock();
    this.preflight = new PreflightTracker({ clock: this.#clock, notify: (names) => this.#emit(names), planDelayMs: this.#recomputeDelayMs });
  }

  static async open(o: ClusterStateOptions): Promise<ClusterState> {
    const s = new ClusterState(o);
    await s.writer.load();
    s.nodes.indexLoaded();
    s.writer.onCommit((e) => s.#afterCommit(e));
    const ignore = s.#meta.get(META.preflightIgnore);
    if (Array.isArray(ignore)) s.preflight.setOperatorIgnore(ignore as string[]);
    s.#syncPreflight();
    // A plan exists, so the cluster does: its CAs must too (created now if an earlier muster, or a
    // crash between making them and committing the first plan, left them out).
    const plan = s.plans.current();
    if (plan && s.#clusterCas) {
      try {
        const material = await s.#clusterCas.ensure(plan.plan);
        // A rotation in progress names CAs that must be on disk: one missing is a data dir put
        // together from different times, and signing on would split the cluster.
        for (const k of CLUSTER_CA_KINDS) {
          const problem = rotationCaProblem(s.pki.rotations.get(k), { current: material.cas[k], next: material.next[k] }, s.#clusterCas.dataDir);
          if (problem) throw new FailedPreconditionError('rotation-ca-missing', problem);
        }
      } catch (err) {
        await s.close();
        throw err;
      }
    }
    if (s.pki.anyActive()) s.#scheduleRotationStep();
    s.#flushTimer = setInterval(() => void s.nodes.flushLastSeen().catch((e) => s.#log.warn(`cannot save last-seen times: ${e}`)), LAST_SEEN_FLUSH_MS);
    s.#flushTimer.unref();
    // Derive waiting reasons and pick up nodes that changed while we were down.
    if (s.plans.current()) s.#scheduleRecompute(0);
    return s;
  }

  /** Whether the store was ever initialised (its first transaction writes a marker). */
  initialised(): boolean {
    return this.#meta.get(META.initialised) !== undefined;
  }

  markInitialised(info: { caPin: string }): Promise<void> {
    return this.writer.run(async () => {
      if (this.#meta.latest(META.initialised) === undefined) void this.writer.txn([this.#meta.put(META.initialised, { atMs: this.#clock(), caPin: info.caPin })]);
    });
  }

  /** Called with the nodes whose assignment (or gate, or probe plan) changed, once committed. */
  onAssignmentsChanged(cb: (names: string[]) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  #emit(names: string[]): void {
    if (names.length) for (const l of this.#listeners) l(names);
  }

  /** Committed changes reach the preflight tracker and the watchers here, and only here. */
  #afterCommit(e: WatchEvent): void {
    const touched = new Set<string>();
    const woken: string[] = [];
    let planChanged = false;
    let recompute = false;
    let rotationInput = false;
    for (const op of e.ops) {
      const slash = op.key.indexOf('/');
      const prefix = op.key.slice(0, slash + 1);
      const name = op.key.slice(slash + 1);
      if (prefix === PREFIX.assignments) {
        woken.push(name);
        touched.add(name);
        rotationInput = true;
      } else if (prefix === PREFIX.nodes || prefix === PREFIX.facts) {
        touched.add(name);
        // A join, or a report that changed what the engine sees of the node.
        if (this.plans.current() && this.#registeredView.changedSinceSeen(name)) recompute = true;
      } else if (prefix === PREFIX.applies) {
        touched.add(name);
        rotationInput = true;
        // A master's apply may release the next master's held version change.
        if (this.plans.current() && this.assignments.holding()) recompute = true;
      }
      else if (prefix === PREFIX.meta && name === META.currentPlan) planChanged = true;
      else if (prefix === PREFIX.meta && name === META.preflightIgnore) this.preflight.setOperatorIgnore((this.#meta.get(name) as string[]) ?? []);
    }
    if (planChanged) this.#syncPreflight();
    else if (touched.size) this.#syncPreflight(touched);
    this.#emit(woken);
    if (recompute) this.#scheduleRecompute();
    if (rotationInput && this.pki.anyActive()) this.#scheduleRotationStep();
  }

  // ---------------------------------------------------------------- cross-aggregate mutations

  /**
   * Validates, checks against the running cluster (coordinator/assign/change-checks), stores and
   * enacts a plan. Refused changes throw FAILED_PRECONDITION unless `force`; `dryRun` returns what
   * each node would get and what would be refused, and stores nothing.
   */
  applyPlan(text: string, file: string, opts: boolean | PlanApplyOptions = false): Promise<PlanApplyResult> {
    const { force = false, dryRun = false } = typeof opts === 'boolean' ? { force: opts } : opts;
    return this.writer.run(async () => {
      const res = this.plans.change(text, file, force);
      if ('unchanged' in res) return { revision: res.unchanged.record.revision, changedNodes: [], warnings: res.warnings, unchanged: true, refusals: [], nodeChanges: [], dryRun };
      // The engine on the new plan, queueing nothing: the checks and the dry run need each
      // node's roles after the change.
      const registered = this.#registeredNodes();
      const preview = this.assignments.preview(res.current.plan, registered);
      const refusals = res.previous
        ? reviewPlanChange(res.previous.plan, res.current.plan, {
            before: this.assignments.latestStates(),
            after: preview.state,
            installed: (n) => this.reports.applies.latest(n)?.roles ?? [],
          })
        : [];
      const bodies = new Map<string, StoredBody>();
      for (const n of this.assignments.bodies.latestNames()) bodies.set(n, this.assignments.bodies.latest(n)!.body);
      const changes = nodeChanges(bodies, preview.assignments);
      const revision = res.current.record.revision;
      if (dryRun) return { revision, changedNodes: changes.map((c) => c.name), warnings: res.warnings, unchanged: false, refusals, nodeChanges: changes, dryRun };
      if (refusals.length && !force) {
        throw new FailedPreconditionError('plan-change-refused', `plan ${file} would disrupt the running cluster:\n${refusals.map((r) => `  - ${formatRefusal(r)}`).join('\n')}\nfix the plan, or apply it with --force if you mean it (muster plan apply --dry-run shows what each node would get)`);
      }
      // The first plan makes the cluster, and with it its CAs: on disk before the plan commits, so
      // no node is ever told about a cluster whose CAs do not exist. Later plans reuse them.
      await this.#clusterCas?.ensure(res.current.plan);
      const planOps = res.ops();
      // Nothing the engine reads changed since the preview (the writer runs one mutation at a time).
      const r = this.#recomputeOps(res.current, undefined, { nodes: registered, out: preview });
      this.#commitThenPublish([...planOps, ...r.ops], r);
      if (refusals.length) this.#log.warn(`plan revision ${revision} forced past ${refusals.length} refusal(s): ${refusals.map((x) => x.check).join(', ')}`);
      // Held nodes get theirs when the rollout reaches them: they are changed nodes too (plan apply --wait waits for them).
      const changedNodes = toChange(r);
      this.#log.info(`plan revision ${revision} accepted from ${file}${changedNodes.length ? `; ${changedNodes.length} node(s) get a new assignment${r.changed.length < changedNodes.length ? ` (${changedNodes.length - r.changed.length} when the rollout reaches them)` : ''}` : ''}`);
      return { revision, changedNodes, warnings: res.warnings, unchanged: false, refusals, nodeChanges: changes, dryRun };
    });
  }

  removeNode(name: string): Promise<void> {
    return this.writer.run(async () => {
      const ops = [this.nodes.removeOp(name), ...this.assignments.removeOps(name), ...this.reports.removeOps(name), ...this.pki.removeOps(name)];
      const plan = this.plans.latest();
      const r = plan ? this.#recomputeOps(plan, name) : null;
      this.#commitThenPublish([...ops, ...(r?.ops ?? [])], r);
      this.#log.info(`node ${name} removed by an operator; its identity is refused from now on`);
    });
  }

  /**
   * Operator's explicit role choice for a node (`muster node assign`); roles [] clears it.
   * Returns the nodes whose assignment changed, and when nothing at all changed, why.
   */
  setOverride(name: string, roles: Role[]): Promise<{ changed: string[]; unchanged: string }> {
    return this.writer.run(async () => {
      const n = this.nodes.table.latest(name);
      if (!n || n.removedAtMs) throw new NotFoundError(`node ${name} is not registered; see \`muster status\``);
      const had = this.assignments.overrides.latest(name);
      const want = [...roles].sort();
      if (had && want.length && stableStringify(had.roles) === stableStringify(want)) {
        return { changed: [], unchanged: `node ${name} is pinned to ${want.join(',')} already (since ${new Date(had.atMs).toISOString()}); nothing changed` };
      }
      if (!had && !want.length) {
        const holds = this.assignments.bodies.latest(name)?.body.roles ?? [];
        return { changed: [], unchanged: `node ${name} has no operator roles to clear; the plan decides its roles already (${holds.length ? `it holds ${holds.join(',')}` : `it holds none: ${this.assignments.waitingReason(name) ?? 'not computed yet'}`})` };
      }
      const ops = this.assignments.overrideOps(name, roles, this.#clock());
      const plan = this.plans.latest();
      const r = plan ? this.#recomputeOps(plan) : null;
      if (ops.length || r?.ops.length) this.#commitThenPublish([...ops, ...(r?.ops ?? [])], r);
      return { changed: r?.changed ?? [], unchanged: '' };
    });
  }

  /** Merges a report's facts and self-description; returns whether the coordinator needs a full report. */
  recordFacts(
    name: string,
    callerSerial: string,
    facts: Facts | null,
    full: boolean,
    extra: { address?: string; labels?: Record<string, string>; agentVersion?: string },
  ): Promise<{ needFull: boolean }> {
    return this.writer.run(async () => {
      this.nodes.assertCurrent(name, callerSerial);
      const f = this.reports.factsOp(name, facts, full);
      const ops = [...(f.op ? [f.op] : []), ...this.nodes.reportOps(name, extra)];
      if (ops.length) void this.writer.txn(ops);
      return { needFull: !f.complete };
    });
  }

  recordApply(name: string, callerSerial: string, r: Omit<ApplyRecord, 'atMs' | 'roles' | 'drift'>, drift: readonly string[] = []): Promise<void> {
    return this.writer.run(async () => {
      this.nodes.assertCurrent(name, callerSerial);
      // A node installs only what it was handed: roles it claims, or a revision it made up, would
      // otherwise count as installed and let its next assignment past preflight. (Its own status
      // row says what it reports; that it can say anything about itself is no harm to others.)
      const given = this.#handedOut(name, r.revision);
      if (r.ok && !given && r.revision !== this.assignments.get(name)?.revision) {
        this.#log.warn(`node ${name} reported applying revision ${r.revision}, which the coordinator did not hand it; it installs no roles`);
      }
      void this.writer.txn([this.reports.applyOp(name, r, given?.roles, drift)]);
      if (!r.ok) this.#log.warn(`node ${name} failed to apply revision ${r.revision}: ${r.error}`);
      if (drift.length) this.#log.warn(`node ${name} restored ${drift.length} file(s) changed outside muster: ${drift.slice(0, 10).join(', ')}${drift.length > 10 ? ', ...' : ''}`);
    });
  }

  /**
   * The revision and roles the node was handed, when `revision` is one: the last delivery, or,
   * with none recorded since this coordinator started, its committed assignment. Roles always come
   * from our assignment, never from the report. (A node that lies could as well lie in its facts
   * or probe results: preflight protects honest nodes from mistakes, not the cluster from a
   * malicious node; what this prevents is a node installing roles or revisions it never had.)
   */
  #handedOut(name: string, revision: number): { revision: number; roles: Role[] } | undefined {
    const d = this.assignments.delivered(name);
    if (d) return d.revision === revision ? d : undefined;
    const a = this.assignments.get(name);
    return a && a.revision === revision ? { revision, roles: a.body.roles as Role[] } : undefined;
  }

  /** Changes the operator's ignore list (`muster preflight --ignore/--unignore`). */
  setPreflightIgnore(add: readonly string[], remove: readonly string[]): Promise<void> {
    return this.writer.run(async () => {
      const norm = (l: readonly string[]) => l.map((n) => n.trim().toLowerCase()).filter(Boolean);
      const drop = new Set(norm(remove));
      const have = ((this.#meta.latest(META.preflightIgnore) as string[] | undefined) ?? []).slice().sort();
      const next = [...new Set([...have, ...norm(add)])].filter((n) => !drop.has(n)).sort();
      if (stableStringify(next) === stableStringify(have)) return;
      void this.writer.txn([this.#meta.put(META.preflightIgnore, next)]);
      this.#log.info(`preflight ignore list set by an operator: ${next.join(', ') || '(empty)'}`);
    });
  }

  /**
   * Queues a transaction and, once it is committed, shows the recomputation's waiting reasons.
   * A failed commit is the writer's to handle (fail-stop through onFatal, and the mutation's
   * promise rejects); the follow-up is simply not run.
   */
  #commitThenPublish(ops: Op[], r: Pick<Recomputed, 'waiting' | 'problems'> | null): void {
    void this.writer.txn(ops).then(
      () => r && this.assignments.publish(r),
      () => undefined,
    );
  }

  // ---------------------------------------------------------------- cluster PKI: renewals, CA rotation

  /** A node's PkiTarget in the writer's view; null before the cluster has CAs. */
  #pkiTarget(name: string, roles: readonly string[]): PkiTargetOut | null {
    const material = this.#clusterCas?.current();
    if (!material) return null;
    return pkiTarget(name, roles, { material, rotation: (k) => this.pki.activeLatest(k), renewBeforeMs: this.pki.renewBeforeLatest(name) });
  }

  /**
   * `muster certs renew`: every certificate of these nodes (or all) issued before now is renewed.
   * The request is part of each node's assignment, so it reaches nodes that are offline when
   * they come back. Returns the nodes whose assignment changed.
   */
  async requestRenewal(names: readonly string[] | 'all', by: string): Promise<{ nodes: string[]; beforeMs: number }> {
    // Certificates carry whole seconds, so the agent reads an issue time back within a second
    // (shared/pki/lifetime.ts). The threshold is the next whole second but one, and the request
    // commits only once it has passed: every certificate issued before the request is then
    // older than the threshold by more than a second, and every one issued after it is not.
    const beforeMs = Math.ceil(this.#clock() / 1000) * 1000 + 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, beforeMs - this.#clock())));
    return this.writer.run(async () => {
      const plan = this.plans.latest();
      if (!plan) throw new FailedPreconditionError('no-plan', 'there is no cluster yet (muster plan apply FILE), so no certificates to renew');
      if (names !== 'all') {
        for (const n of names) {
          const rec = this.nodes.table.latest(n);
          if (!rec || rec.removedAtMs) throw new NotFoundError(`node ${n} is not registered; see \`muster status\``);
          if (!this.assignments.bodies.latest(n)) throw new FailedPreconditionError('no-assignment', `node ${n} holds no role, so no cluster certificates: nothing to renew`);
        }
      }
      const ops = this.pki.renewOps(names, beforeMs, by);
      const r = this.#recomputeOps(plan);
      this.#commitThenPublish([...ops, ...r.ops], r);
      // Control-plane nodes take it one at a time, the others a batch at a time after them
      // (coordinator/assign/rollout.ts): the held ones renew too, later.
      const covered = toChange(r);
      this.#log.info(`certificate renewal requested by ${by} for ${names === 'all' ? 'every node' : names.join(', ')}; ${r.changed.length} assignment(s) changed, ${covered.length - r.changed.length} held for their turn`);
      return { nodes: covered, beforeMs };
    });
  }

  /** `muster certs rotate-ca --kind K`: a new CA in next/, then stage 1 rolled out. */
  startCaRotation(kind: ClusterCaKind, by: string): Promise<CaRotationRecord> {
    return this.writer.run(async () => {
      const plan = this.plans.latest();
      const cas = this.#clusterCas;
      if (!plan || !cas) throw new FailedPreconditionError('no-plan', 'there is no cluster yet (muster plan apply FILE), so no CA to rotate');
      for (const k of CLUSTER_CA_KINDS) {
        const r = this.pki.activeLatest(k);
        if (r) throw new FailedPreconditionError('rotation-in-progress', `the ${k} CA rotation is at stage ${r.stage}/3 (${STAGE_NAMES[r.stage]}); one rotation at a time: follow it with \`muster certs rotate-ca --status\``);
      }
      const material = await cas.ensure(plan.plan);
      const old = material.cas[kind];
      const next = await cas.createNext(kind, plan.plan);
      const now = this.#clock();
      const prev = this.pki.rotations.latest(kind);
      const record: CaRotationRecord = {
        kind,
        id: (prev?.id ?? 0) + 1,
        stage: 1,
        old: { serial: old.serial, fingerprint: old.fingerprint },
        next: { serial: next.serial, fingerprint: next.fingerprint },
        admitted: [],
        startedAtMs: now,
        stageStartedAtMs: now,
        finishedAtMs: 0,
        startedBy: by,
      };
      const step = stepRotation(record, this.#rotationNodes(kind), now);
      const stored = step.record ?? record;
      const ops = [this.pki.rotations.put(kind, stored)];
      const r = this.#recomputeOps(plan);
      this.#commitThenPublish([...ops, ...r.ops], r);
      this.#log.info(`${kind} CA rotation ${stored.id} started by ${by}: new CA serial ${next.serial}; stage 1/3 (trust-both) goes to ${stored.admitted.join(', ') || 'no node (none holds the CA)'}`);
      return stored;
    });
  }

  /** The nodes with an assignment, as a rotation of `kind` sees them (committed state). */
  #rotationNodes(kind: ClusterCaKind): RotationNode[] {
    const out: RotationNode[] = [];
    const rotating = this.pki.rotations.get(kind);
    // Which CA signed each node's newest certificate of each kind (issuance records commit before a certificate leaves).
    const signer = new Map<string, string | undefined>();
    if (rotating && rotating.stage < COMPLETE) for (const rec of this.issuance.current(this.#clock())) if (rec.ca === kind) signer.set(`${rec.node}\u0000${rec.kind}`, rec.caSerial);
    for (const name of this.assignments.bodies.names()) {
      const a = this.assignments.get(name)!;
      const applied = this.reports.applies.get(name);
      const t = a.body.pki?.cas?.[kind];
      const reissued = rotating && rotating.stage < COMPLETE ? kindsForRoles(a.body.roles).filter((k) => k.ca === kind).every((k) => signer.get(`${name}\u0000${k.kind}`) === rotating.next.serial) : undefined;
      out.push({ name, roles: a.body.roles, committed: t ? { bundle: t.bundle, signer: t.signer } : null, appliedCommitted: Boolean(applied?.ok && applied.revision === a.revision), reissued });
    }
    return out;
  }

  #rotationTimer: NodeJS.Timeout | null = null;

  #scheduleRotationStep(): void {
    if (this.#rotationTimer) return;
    this.#rotationTimer = setTimeout(() => {
      this.#rotationTimer = null;
      void this.writer.run(() => this.#stepRotations()).catch((e) => this.#log.error(`advancing the CA rotation failed: ${e?.stack ?? e}`));
    }, this.#recomputeDelayMs);
  }

  /** Admits nodes, moves stages on and finishes rotations, from what nodes reported (committed). */
  async #stepRotations(): Promise<void> {
    const plan = this.plans.latest();
    if (!plan || !this.#clusterCas) return;
    const ops: Op[] = [];
    for (const kind of CLUSTER_CA_KINDS) {
      const rec = this.pki.activeLatest(kind);
      if (!rec) continue;
      const now = this.#clock();
      const step = stepRotation(rec, this.#rotationNodes(kind), now);
      if (!step.record) continue;
      // The new CA becomes the CA of record before the record says so: a crash in between is
      // finished by the next step (promotion is idempotent).
      if (step.finish) await this.#clusterCas.promote(kind);
      ops.push(this.pki.rotations.put(kind, step.record));
      if (step.finish) this.#log.info(`${kind} CA rotation ${rec.id} complete: only the new CA (serial ${rec.next.serial}) is trusted; the old one (serial ${rec.old.serial}) is kept in the data dir's cluster-pki/retired/`);
      else if (step.record.stage !== rec.stage) this.#log.info(`${kind} CA rotation ${rec.id}: every node applied stage ${rec.stage}/3 (${STAGE_NAMES[rec.stage]}); stage ${step.record.stage}/3 (${STAGE_NAMES[step.record.stage]}) begins`);
      const added = step.record.admitted.filter((n) => !rec.admitted.includes(n) || step.record!.stage !== rec.stage);
      if (added.length && !step.finish) this.#log.info(`${kind} CA rotation ${rec.id} stage ${step.record.stage}/3 (${STAGE_NAMES[step.record.stage]}) goes to ${added.join(', ')}`);
    }
    if (!ops.length) return;
    const r = this.#recomputeOps(plan);
    this.#commitThenPublish([...ops, ...r.ops], r);
  }

  /** Every CA kind's latest rotation (committed), with each node's progress. */
  rotations(): { record: CaRotationRecord; nodes: RotationNode[] }[] {
    return CLUSTER_CA_KINDS.map((k) => this.pki.rotations.get(k))
      .filter((r): r is CaRotationRecord => Boolean(r))
      .map((record) => ({ record, nodes: this.#rotationNodes(record.kind) }));
  }

  // ---------------------------------------------------------------- reads (committed)

  waitingReason(name: string): string {
    if (!this.plans.current()) return 'the coordinator has no plan yet (muster plan apply FILE)';
    return this.assignments.waitingReason(name) ?? 'waiting for the coordinator to compute assignments';
  }

  status(): NodeStatusRow[] {
    return deriveStatus({
      nodes: this.nodes.all(),
      assignment: (n) => this.assignments.get(n),
      apply: (n) => this.reports.applies.get(n),
      hasFacts: (n) => this.reports.facts.has(n),
      preflight: (n) => this.preflight.get(n),
      lastSeen: (n) => this.nodes.lastSeen(n),
      waitingReason: (n) => this.waitingReason(n),
      held: (n) => this.assignments.heldReason(n),
      now: this.#clock(),
      offlineAfterMs: this.#offlineAfterMs,
    });
  }

  // ---------------------------------------------------------------- preflight (committed inputs)

  /** The node installed every one of `roles`: roles recorded from applies of what it was handed. */
  #installed(name: string, roles: readonly string[]): boolean {
    const have = this.reports.applies.get(name)?.roles;
    return Boolean(have) && roles.every((r) => have!.includes(r as Role));
  }

  #preflightInput(name: string): PreflightNodeInput | null {
    const n = this.nodes.live(name);
    if (!n) return null;
    const roles = (this.assignments.get(name)?.body.roles ?? []) as Role[];
    return { name, address: n.address, roles, installed: roles.length > 0 && this.#installed(name, roles), facts: this.reports.facts.get(name) };
  }

  /** Brings the preflight tracker up to date for `names` (default: every node). */
  #syncPreflight(names?: Iterable<string>): void {
    const cur = this.plans.current();
    if (cur) this.preflight.setPlan(cur.plan, cur.record.revision);
    const inputs: PreflightNodeInput[] = [];
    for (const name of names ?? this.nodes.table.names()) {
      const i = this.#preflightInput(name);
      if (i) inputs.push(i);
      else this.preflight.forget(name);
    }
    this.preflight.update(inputs);
  }

  // ---------------------------------------------------------------- assignment

  /** Every live node as the engine sees it (writer's view). */
  #registeredNodes(skip?: string): RegisteredNode[] {
    return this.#registeredView.all(skip);
  }

  #recomputeOps(plan: CurrentPlan, skip?: string, preview?: { nodes: RegisteredNode[]; out: AssignOutput }): Recomputed {
    const nodes = preview?.nodes ?? this.#registeredNodes(skip);
    this.#registeredView.noteSeen(nodes);
    const applied = (name: string) => this.reports.applies.latest(name);
    const now = this.#clock();
    const live = (name: string) => now - this.#seenSince(name) <= this.#offlineAfterMs;
    const r = this.assignments.recompute(plan.plan, plan.record.revision, nodes, (name, roles) => this.#pkiTarget(name, roles), preview?.out, applied, live);
    this.#recheckWhenOffline(r.holds, now);
    if (r.changed.length) this.#log.info(`assignments change for ${r.changed.length} node(s)${r.changed.length <= 10 ? `: ${r.changed.join(', ')}` : ''}`);
    return r;
  }

  #offlineTimer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #openedAtMs: number;

  /**
   * When the node was last seen, for the rollout's batches: no earlier than this state opened, as
   * a coordinator that was down has not heard from anyone (and its saved last-seen times are up to
   * LAST_SEEN_FLUSH_MS old): every node is online to it until OFFLINE_AFTER_MS passed without one.
   */
  #seenSince(name: string): number {
    return Math.max(this.nodes.lastSeen(name), this.#openedAtMs);
  }

  /**
   * A batch of a rollout holds its places for online nodes only (coordinator/assign/rollout.ts):
   * when the first of those would turn offline, recompute, so that a node gone silent mid-apply
   * frees its place instead of stopping the rollout. (A node that reports meanwhile stays online:
   * the recompute then finds nothing to release and sets the next check.)
   */
  #recheckWhenOffline(holds: readonly RolloutHold[], now: number): void {
    if (this.#offlineTimer) clearTimeout(this.#offlineTimer);
    this.#offlineTimer = null;
    const batch = holds.find((h) => h.batch)?.batch;
    // Closed: a mutation still queued at close() recomputes, and must not arm it again.
    if (this.#closed || !batch?.inFlight.length) return;
    let first = Infinity;
    for (const n of batch.inFlight) first = Math.min(first, this.#seenSince(n) + this.#offlineAfterMs + 1);
    this.#offlineTimer = setTimeout(() => {
      this.#offlineTimer = null;
      if (!this.#closed && this.plans.current()) this.#scheduleRecompute();
    }, Math.max(0, first - now));
    this.#offlineTimer.unref();
  }

  /** Resolves once no recomputation is scheduled and every mutation so far has committed. */
  async idle(): Promise<void> {
    for (let i = 0; i < 100 && (this.#recomputeTimer || i === 0); i++) {
      await this.#recomputed;
      await this.writer.settle();
      await this.writer.committed();
    }
  }

  /** How long the last coalesced recomputation took, ms. */
  #lastRecomputeMs = 0;

  /**
   * The coalescing window grows with the cost of a recomputation (at least RECOMPUTE_SPACING
   * times its last duration): during a join storm one recomputation covers every join that
   * arrived while the previous one ran and waited, so recomputing takes a bounded share of the
   * coordinator (1 / (1 + RECOMPUTE_SPACING)) however large the fleet, instead of one full pass
   * per 50 ms.
   */
  #scheduleRecompute(delay = Math.max(this.#recomputeDelayMs, RECOMPUTE_SPACING * this.#lastRecomputeMs)): void {
    if (this.#recomputeTimer) return;
    let done!: () => void;
    this.#recomputed = new Promise<void>((r) => (done = r));
    this.#recomputeTimer = setTimeout(() => {
      this.#recomputeTimer = null;
      void this.writer
        .run(async () => {
          const plan = this.plans.latest();
          if (!plan) return;
          // On the state's clock, so tests with a fake one see no spacing.
          const t0 = this.#clock();
          const r = this.#recomputeOps(plan);
          this.#lastRecomputeMs = this.#clock() - t0;
          if (r.ops.length) this.#commitThenPublish(r.ops, r);
          else this.assignments.publish(r);
        })
        .catch((e) => this.#log.error(`recomputing assignments failed: ${e?.stack ?? e}`))
        .finally(done);
    }, delay);
  }

  async close(): Promise<void> {
    if (this.#recomputeTimer) {
      clearTimeout(this.#recomputeTimer);
      this.#recomputeTimer = null;
    }
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    if (this.#rotationTimer) clearTimeout(this.#rotationTimer);
    this.#closed = true;
    if (this.#offlineTimer) clearTimeout(this.#offlineTimer);
    this.preflight.close();
    await this.nodes.flushLastSeen().catch(() => undefined);
    await this.writer.settle();
    this.writer.close();
  }
}
