// The coordinator's view of the cluster: plan, tokens, nodes, assignments, facts and apply
// reports. Reads are served from memory (no per-request work that grows with the fleet);
// every change is written through the Store in one transaction before it is acknowledged.
// Mutations run one at a time (a promise queue), which makes token use counts and pod-block
// allocation safe under concurrent joins. A mutation updates memory and hands its transaction
// to the store without waiting; the caller's promise resolves only once the store committed,
// so nothing is acknowledged before it is durable, while the store commits a burst of
// mutations with one fsync (group commit). A failed commit stops the coordinator (fail-stop,
// like etcd on a WAL error): memory would otherwise be ahead of disk.
// Assignment recomputation is coalesced: many joins in a burst trigger one recomputation.
import type { Store, Op } from '../store/store.ts';
import { KEYS, type NodeRecord, type AssignmentRecord, type FactsRecord, type ApplyRecord, type PlanRecord, type OverrideRecord } from './records.ts';
import type { TokenRecord } from '../trust/tokens.ts';
import { checkToken, generateToken, hashSecret } from '../trust/tokens.ts';
import { computeAssignments, checkPlanChange, diffText, type RegisteredNode, type NodeAssignmentState } from '../assign/index.ts';
import { parsePlan, formatProblem, type Plan } from '../../shared/plan/index.ts';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../../shared/errors/index.ts';
import type { FactsOut, Facts } from '../../shared/wire/types.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { DEFAULT_TOKEN_TTL_MS, LAST_SEEN_FLUSH_MS, type Role } from '../../shared/constants.ts';
import { stableStringify } from '../../shared/json.ts';
import { PreflightTracker, type NodePreflight, type PreflightNodeInput } from '../preflight/tracker.ts';
import type { ProbePlanOut, ProbeResultsOut } from '../../shared/wire/types.ts';

export interface ClusterStateOptions {
  store: Store;
  logger: Logger;
  /** @default Date.now */
  clock?: () => number;
  /** Coalescing window for recomputing assignments after joins and reports. @default 50 */
  recomputeDelayMs?: number;
  /** Called when the store fails to commit. @default log and exit the process */
  onFatal?: (err: unknown) => void;
}

export interface JoinInput {
  tokenId: string;
  tokenSecret: string;
  name: string;
  machineId: string;
  address: string;
  labels: Record<string, string>;
  agentVersion: string;
  certSerial: string;
}

export type NodeState = 'joined' | 'reporting' | 'applied' | 'applying' | 'failed' | 'waiting' | 'blocked' | 'removed';

export interface NodeStatusRow {
  name: string;
  address: string;
  roles: Role[];
  state: NodeState;
  assignedRevision: number;
  appliedRevision: number;
  detail: string;
  lastSeenMs: number;
  agentVersion: string;
  joinedAtMs: number;
  /** Preflight state ("passed", "blocked", "pending", "failing", "" when not checked). */
  preflight: string;
  preflightDetail: string;
}

const FACT_SECTIONS = ['cpu', 'memory', 'disks', 'os', 'network', 'ports', 'binaries', 'kernel', 'clock'] as const;

export class ClusterState {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #recomputeDelayMs: number;

  readonly #nodes = new Map<string, NodeRecord>();
  readonly #tokens = new Map<string, { rec: TokenRecord; modRevision: number }>();
  readonly #assignments = new Map<string, AssignmentRecord>();
  readonly #facts = new Map<string, FactsRecord>();
  readonly #applies = new Map<string, ApplyRecord>();
  readonly #overrides = new Map<string, OverrideRecord>();
  readonly #lastSeen = new Map<string, number>();
  readonly #lastSeenDirty = new Set<string>();
  #waiting = new Map<string, string>();
  #problems: string[] = [];
  #plan: { record: PlanRecord; plan: Plan } | null = null;
  #registeredCache = new Map<string, string>();

  #queue: Promise<unknown> = Promise.resolve();
  /** The store revision after every transaction handed to the store so far. */
  #revision = 0;
  readonly #onFatal: (err: unknown) => void;
  #recomputeTimer: NodeJS.Timeout | null = null;
  #flushTimer: NodeJS.Timeout | null = null;
  readonly #listeners = new Set<(names: string[]) => void>();
  readonly #preflight: PreflightTracker;

  private constructor(o: ClusterStateOptions) {
    this.#store = o.store;
    this.#log = o.logger;
    this.#clock = o.clock ?? Date.now;
    this.#recomputeDelayMs = o.recomputeDelayMs ?? 50;
    this.#preflight = new PreflightTracker({ clock: this.#clock, notify: (names) => this.#emit(names), planDelayMs: this.#recomputeDelayMs });
    this.#onFatal =
      o.onFatal ??
      ((err) => {
        this.#log.error(`the state store failed to commit; stopping so that nothing unsaved is served: ${(err as Error)?.stack ?? err}`);
        process.exit(70);
      });
  }

  static async open(o: ClusterStateOptions): Promise<ClusterState> {
    const s = new ClusterState(o);
    await s.#load();
    s.#flushTimer = setInterval(() => void s.flushLastSeen().catch((e) => s.#log.warn(`cannot save last-seen times: ${e}`)), LAST_SEEN_FLUSH_MS);
    s.#flushTimer.unref();
    return s;
  }

  async #load(): Promise<void> {
    this.#revision = await this.#store.revision();
    const json = <T>(v: string) => JSON.parse(v) as T;
    for (const e of await this.#store.list(KEYS.nodes)) {
      const n = json<NodeRecord>(e.value);
      this.#nodes.set(n.name, n);
    }
    for (const e of await this.#store.list(KEYS.tokens)) {
      const t = json<TokenRecord>(e.value);
      this.#tokens.set(t.id, { rec: t, modRevision: e.modRevision });
    }
    for (const e of await this.#store.list(KEYS.assignments)) this.#assignments.set(e.key.slice(KEYS.assignments.length), json(e.value));
    for (const e of await this.#store.list(KEYS.facts_)) this.#facts.set(e.key.slice(KEYS.facts_.length), json(e.value));
    for (const e of await this.#store.list(KEYS.applies)) this.#applies.set(e.key.slice(KEYS.applies.length), json(e.value));
    for (const e of await this.#store.list(KEYS.overrides)) this.#overrides.set(e.key.slice(KEYS.overrides.length), json(e.value));
    for (const e of await this.#store.list('lastseen/')) this.#lastSeen.set(e.key.slice('lastseen/'.length), Number(e.value));
    const ignore = await this.#store.get(KEYS.preflightIgnore);
    if (ignore) this.#preflight.setOperatorIgnore(json<string[]>(ignore.value));
    const cur = await this.#store.get(KEYS.currentPlan);
    if (cur) {
      const rec = await this.#store.get(KEYS.plan(Number(cur.value)));
      if (rec) {
        const record = json<PlanRecord>(rec.value);
        const parsed = parsePlan(record.text, record.file);
        if (!parsed.plan) throw new Error(`stored plan revision ${record.revision} no longer parses: ${parsed.problems.map(formatProblem).join('; ')}`);
        this.#plan = { record, plan: parsed.plan };
      }
    }
    // Derive waiting reasons and detect drift without writing anything yet.
    if (this.#plan) this.#scheduleRecompute(0);
  }

  /**
   * Runs mutations one at a time. `fn` checks and updates memory and queues its writes with
   * #write; the next mutation starts as soon as fn returns, but this promise resolves only after
   * every write fn queued is committed.
   */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const step = this.#queue.then(async () => {
      const before = this.#pendingCommits.length;
      const value = await fn();
      return { value, commits: this.#pendingCommits.splice(before) };
    });
    this.#queue = step.catch(() => undefined);
    return step.then(async ({ value, commits }) => {
      await Promise.all(commits);
      return value;
    });
  }

  #pendingCommits: Promise<void>[] = [];

  /** Queues one transaction; returns the revision it will have. Only call inside #serial. */
  #write(ops: Op[]): number {
    const revision = ++this.#revision;
    const committed = this.#store.txn(ops).then((r) => {
      if (!r.ok || r.revision !== revision) throw new Error(`store revision ${r.revision} != expected ${revision}; is another coordinator writing to this store?`);
    });
    committed.catch((e) => this.#onFatal(e));
    this.#pendingCommits.push(committed);
    return revision;
  }

  onAssignmentsChanged(cb: (names: string[]) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  // ---------------------------------------------------------------- plan

  currentPlan(): { record: PlanRecord; plan: Plan } | null {
    return this.#plan;
  }

  /** Validates, stores and enacts a plan. Returns the nodes whose assignment changed. */
  applyPlan(text: string, file: string, force = false): Promise<{ revision: number; changedNodes: string[]; warnings: string[]; unchanged: boolean }> {
    return this.#serial(async () => {
      const parsed = parsePlan(text, file);
      const warnings = parsed.problems.filter((p) => p.severity === 'warning').map(formatProblem);
      if (!parsed.plan) {
        throw new InvalidArgumentError(`plan ${file} is invalid:\n${parsed.problems.filter((p) => p.severity === 'error').map(formatProblem).join('\n')}`);
      }
      if (this.#plan && this.#plan.record.text === text) {
        return { revision: this.#plan.record.revision, changedNodes: [], warnings, unchanged: true };
      }
      if (this.#plan && !force) {
        const reasons = checkPlanChange(this.#plan.plan, parsed.plan, this.#assignmentStates());
        if (reasons.length) {
          throw new FailedPreconditionError('plan-change-refused', `plan ${file} would disrupt the running cluster:\n${reasons.map((r) => `  - ${r}`).join('\n')}\nfix the plan, or apply it with --force if you mean it`);
        }
      }
      const now = this.#clock();
      const prev = this.#plan?.record;
      const nextRev = this.#revision + 1;
      const record: PlanRecord = {
        revision: nextRev,
        file,
        text,
        appliedAtMs: now,
        diff: prev ? diffText(prev.text, text, `plan@${prev.revision}`, `plan@${nextRev}`) : '',
        forced: force,
      };
      this.#write([
        { type: 'put', key: KEYS.plan(nextRev), value: JSON.stringify(record) },
        { type: 'put', key: KEYS.currentPlan, value: String(nextRev) },
      ]);
      this.#plan = { record, plan: parsed.plan };
      this.#log.info(`plan revision ${nextRev} accepted from ${file}`);
      const changedNodes = await this.#recompute();
      return { revision: nextRev, changedNodes, warnings, unchanged: false };
    });
  }

  async planHistory(): Promise<PlanRecord[]> {
    return (await this.#store.list(KEYS.plans)).map((e) => JSON.parse(e.value) as PlanRecord);
  }

  async planAt(revision: number): Promise<PlanRecord> {
    const e = await this.#store.get(KEYS.plan(revision));
    if (!e) throw new NotFoundError(`plan revision ${revision} does not exist; see \`muster plan history\``);
    return JSON.parse(e.value) as PlanRecord;
  }

  // ---------------------------------------------------------------- tokens

  createToken(o: { ttlMs?: number; uses?: number; description?: string }): Promise<{ token: string; record: TokenRecord }> {
    return this.#serial(async () => {
      let t = generateToken();
      while (this.#tokens.has(t.id)) t = generateToken();
      const now = this.#clock();
      const record: TokenRecord = {
        id: t.id,
        secretHash: hashSecret(t.secret),
        description: o.description ?? '',
        createdAtMs: now,
        expiresAtMs: now + (o.ttlMs && o.ttlMs > 0 ? o.ttlMs : DEFAULT_TOKEN_TTL_MS),
        usesAllowed: o.uses ?? 0,
        uses: 0,
        revoked: false,
      };
      const revision = this.#write([{ type: 'put', key: KEYS.token(t.id), value: JSON.stringify(record) }]);
      this.#tokens.set(t.id, { rec: record, modRevision: revision });
      return { token: t.token, record };
    });
  }

  listTokens(): TokenRecord[] {
    return [...this.#tokens.values()].map((t) => t.rec).sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  revokeToken(id: string): Promise<void> {
    return this.#serial(async () => {
      const t = this.#tokens.get(id);
      if (!t) throw new NotFoundError(`token ${id} does not exist; see \`muster token list\``);
      const rec = { ...t.rec, revoked: true };
      this.#tokens.set(id, { rec, modRevision: this.#write([{ type: 'put', key: KEYS.token(id), value: JSON.stringify(rec) }]) });
    });
  }

  // ---------------------------------------------------------------- join and nodes

  /**
   * Registers a node with a verified token, atomically with counting the token's use. The caller
   * has already signed the node's certificate (serial in `certSerial`); if this throws, that
   * certificate is never accepted because no node record names its serial.
   */
  join(j: JoinInput): Promise<NodeRecord> {
    return this.#serial(async () => {
      const now = this.#clock();
      const t = this.#tokens.get(j.tokenId);
      checkToken(t?.rec, j.tokenId, j.tokenSecret, now);
      const existing = this.#nodes.get(j.name);
      if (existing && !existing.removedAtMs && existing.machineId && j.machineId && existing.machineId !== j.machineId) {
        throw new AlreadyExistsError(
          `node name ${j.name} is already registered by another machine (machine-id ${existing.machineId.slice(0, 8)}…); ` +
            `give this node another name with --node-name, or \`muster node remove ${j.name}\` first if the old machine is gone`,
        );
      }
      const node: NodeRecord = {
        name: j.name,
        machineId: j.machineId,
        hostname: j.name,
        address: j.address,
        labels: j.labels,
        agentVersion: j.agentVersion,
        certSerial: j.certSerial,
        joinedAtMs: existing && !existing.removedAtMs ? existing.joinedAtMs : now,
        removedAtMs: 0,
      };
      const tok = { ...t!.rec, uses: t!.rec.uses + 1 };
      // The use count and the node record commit together: a crash can't leave one without the other.
      const revision = this.#write([
        { type: 'put', key: KEYS.token(tok.id), value: JSON.stringify(tok) },
        { type: 'put', key: KEYS.node(j.name), value: JSON.stringify(node) },
      ]);
      this.#tokens.set(tok.id, { rec: tok, modRevision: revision });
      this.#nodes.set(j.name, node);
      this.#lastSeen.set(j.name, now);
      this.#log.info(`node ${j.name} joined from ${j.address || 'unknown address'} with token ${tok.id}${existing && !existing.removedAtMs ? ' (re-join)' : ''}`);
      this.#scheduleRecompute();
      return node;
    });
  }

  node(name: string): NodeRecord | undefined {
    return this.#nodes.get(name);
  }

  /** Throws PERMISSION_DENIED unless `name` is a live node whose current certificate has this serial. */
  authorizeNode(name: string, certSerial: string): NodeRecord {
    const n = this.#nodes.get(name);
    if (!n) throw new PermissionDeniedError('node-unknown', `node ${name} is not registered with this coordinator; join it with a bootstrap token`);
    if (n.removedAtMs) {
      throw new PermissionDeniedError(
        'node-removed',
        `node ${name} was removed by an operator at ${new Date(n.removedAtMs).toISOString()}; to bring it back, delete the agent's state dir and join again with a new token`,
      );
    }
    if (n.certSerial !== certSerial) {
      throw new PermissionDeniedError('cert-superseded', `the identity certificate presented for node ${name} was replaced by a later join; restart the agent so it uses its current identity`);
    }
    return n;
  }

  removeNode(name: string): Promise<void> {
    return this.#serial(async () => {
      const n = this.#nodes.get(name);
      if (!n || n.removedAtMs) throw new NotFoundError(`node ${name} is not registered; see \`muster status\``);
      const rec = { ...n, removedAtMs: this.#clock() };
      this.#write([
        { type: 'put', key: KEYS.node(name), value: JSON.stringify(rec) },
        { type: 'delete', key: KEYS.assignment(name) },
        { type: 'delete', key: KEYS.override(name) },
      ]);
      this.#nodes.set(name, rec);
      this.#assignments.delete(name);
      this.#overrides.delete(name);
      this.#preflight.forget(name);
      this.#log.info(`node ${name} removed by an operator; its identity is refused from now on`);
      await this.#recompute();
      this.#emit([name]);
    });
  }

  /** Operator's explicit role choice for a node (`muster node assign`); roles [] clears it. */
  setOverride(name: string, roles: Role[]): Promise<string[]> {
    return this.#serial(async () => {
      const n = this.#nodes.get(name);
      if (!n || n.removedAtMs) throw new NotFoundError(`node ${name} is not registered; see \`muster status\``);
      if (roles.length) {
        const rec: OverrideRecord = { roles: [...roles].sort(), atMs: this.#clock() };
        this.#write([{ type: 'put', key: KEYS.override(name), value: JSON.stringify(rec) }]);
        this.#overrides.set(name, rec);
      } else {
        this.#write([{ type: 'delete', key: KEYS.override(name) }]);
        this.#overrides.delete(name);
      }
      return this.#recompute();
    });
  }

  touch(name: string): void {
    this.#lastSeen.set(name, this.#clock());
    this.#lastSeenDirty.add(name);
  }

  async flushLastSeen(): Promise<void> {
    if (this.#lastSeenDirty.size === 0) return;
    const ops: Op[] = [...this.#lastSeenDirty].map((n) => ({ type: 'put', key: `lastseen/${n}`, value: String(this.#lastSeen.get(n) ?? 0) }));
    this.#lastSeenDirty.clear();
    await this.#serial(async () => void this.#write(ops));
  }

  // ---------------------------------------------------------------- reports

  /** Merges the sections present in `facts`; returns whether the coordinator needs a full report. */
  recordFacts(name: string, facts: Facts | null, full: boolean, extra: { address?: string; labels?: Record<string, string>; agentVersion?: string }): Promise<{ needFull: boolean }> {
    return this.#serial(async () => {
      const prev = this.#facts.get(name);
      const merged = { ...(prev?.facts ?? {}) } as Record<string, unknown>;
      let changed = false;
      for (const s of FACT_SECTIONS) {
        const v = (facts as Record<string, unknown> | null)?.[s];
        if (v !== null && v !== undefined && stableStringify(v) !== stableStringify(merged[s])) {
          merged[s] = v;
          changed = true;
        }
      }
      const complete = (prev?.complete ?? false) || full;
      const ops: Op[] = [];
      if (changed || complete !== prev?.complete) {
        const rec: FactsRecord = { facts: merged as unknown as FactsOut, complete, atMs: this.#clock() };
        ops.push({ type: 'put', key: KEYS.facts(name), value: JSON.stringify(rec) });
        this.#facts.set(name, rec);
      }
      const node = this.#nodes.get(name);
      if (node) {
        const upd = { ...node };
        if (extra.address && extra.address !== node.address) upd.address = extra.address;
        if (extra.agentVersion && extra.agentVersion !== node.agentVersion) upd.agentVersion = extra.agentVersion;
        if (extra.labels && Object.keys(extra.labels).length && stableStringify(extra.labels) !== stableStringify(node.labels)) upd.labels = extra.labels;
        if (stableStringify(upd) !== stableStringify(node)) {
          ops.push({ type: 'put', key: KEYS.node(name), value: JSON.stringify(upd) });
          this.#nodes.set(name, upd);
        }
      }
      if (ops.length) {
        this.#write(ops);
        const reg = this.#registered(name);
        if (reg && stableStringify(reg) !== this.#registeredCache.get(name)) this.#scheduleRecompute();
        // Preflight re-runs when facts change, so drift shows up.
        this.#syncPreflight([name]);
      }
      return { needFull: !complete };
    });
  }

  recordApply(name: string, r: Omit<ApplyRecord, 'atMs'>): Promise<void> {
    return this.#serial(async () => {
      const prev = this.#applies.get(name);
      // The roles the agent says it applied (older agents do not say: the current assignment's
      // when it is that revision); a failed apply installs nothing new.
      const a = this.#assignments.get(name);
      const roles = r.ok ? (r.roles ?? (a && a.revision === r.revision ? ([...a.body.roles] as Role[]) : prev?.roles)) : prev?.roles;
      const rec: ApplyRecord = { ...r, atMs: this.#clock(), ...(roles ? { roles } : {}) };
      this.#write([{ type: 'put', key: KEYS.apply(name), value: JSON.stringify(rec) }]);
      this.#applies.set(name, rec);
      if (!r.ok) this.#log.warn(`node ${name} failed to apply revision ${r.revision}: ${r.error}`);
      this.#syncPreflight([name]);
    });
  }

  // ---------------------------------------------------------------- preflight

  /** Whether the node applied an assignment with every one of these roles before. */
  #installed(name: string, roles: readonly string[]): boolean {
    const ap = this.#applies.get(name);
    if (!ap) return false;
    let have = ap.roles;
    if (!have && ap.ok && this.#assignments.get(name)?.revision === ap.revision) have = this.#assignments.get(name)!.body.roles as Role[];
    return Boolean(have) && roles.every((r) => have!.includes(r as Role));
  }

  #preflightInput(name: string): PreflightNodeInput | null {
    const n = this.#nodes.get(name);
    if (!n || n.removedAtMs) return null;
    const roles = (this.#assignments.get(name)?.body.roles ?? []) as Role[];
    return { name, address: n.address, roles, installed: roles.length > 0 && this.#installed(name, roles), facts: this.#facts.get(name) };
  }

  /** Brings the preflight tracker up to date for `names` (default: every node). */
  #syncPreflight(names?: Iterable<string>): void {
    if (this.#plan) this.#preflight.setPlan(this.#plan.plan, this.#plan.record.revision);
    const inputs: PreflightNodeInput[] = [];
    for (const name of names ?? this.#nodes.keys()) {
      const i = this.#preflightInput(name);
      if (i) inputs.push(i);
      else this.#preflight.forget(name);
    }
    this.#preflight.update(inputs);
  }

  /** From each Report: the probe port the agent listens on and its clock offset estimate. */
  noteReport(name: string, probePort: number, clockEstimateMs: number | undefined): void {
    this.#preflight.noteReport(name, probePort, clockEstimateMs);
  }

  /** Probe results from a node's Report; false when they answer an outdated plan. */
  recordProbeResults(name: string, results: ProbeResultsOut): boolean {
    return this.#preflight.recordProbeResults(name, results);
  }

  probePlanFor(name: string, lastRunId: number): ProbePlanOut | null {
    return this.#preflight.probePlanFor(name, lastRunId);
  }

  /** The agent is being handed its assignment (WatchAssignment answers with it). */
  noteDelivered(name: string, roles: readonly string[]): void {
    this.#preflight.noteDelivered(name, roles as Role[]);
  }

  /** Why the node's assignment is held back by preflight; null when it may be delivered. */
  preflightGate(name: string): string | null {
    return this.#preflight.gateReason(name);
  }

  preflight(name?: string): NodePreflight[] {
    if (name !== undefined) {
      const n = this.#nodes.get(name);
      if (!n || n.removedAtMs) throw new NotFoundError(`node ${name} is not registered; see \`muster status\``);
      const p = this.#preflight.get(name);
      return p ? [p] : [];
    }
    return this.#preflight.all();
  }

  preflightIgnored(): { all: string[]; operator: string[] } {
    return { all: this.#preflight.ignored(), operator: [...this.#preflight.operatorIgnore] };
  }

  /** Changes the operator's ignore list (`muster preflight --ignore/--unignore`). */
  setPreflightIgnore(add: readonly string[], remove: readonly string[]): Promise<void> {
    return this.#serial(async () => {
      const norm = (l: readonly string[]) => l.map((n) => n.trim().toLowerCase()).filter(Boolean);
      const drop = new Set(norm(remove));
      const next = [...new Set([...this.#preflight.operatorIgnore, ...norm(add)])].filter((n) => !drop.has(n)).sort();
      if (stableStringify(next) === stableStringify([...this.#preflight.operatorIgnore])) return;
      this.#write([{ type: 'put', key: KEYS.preflightIgnore, value: JSON.stringify(next) }]);
      this.#preflight.setOperatorIgnore(next);
      this.#log.info(`preflight ignore list set by an operator: ${next.join(', ') || '(empty)'}`);
    });
  }

  facts(name: string): FactsRecord | undefined {
    return this.#facts.get(name);
  }

  assignment(name: string): AssignmentRecord | undefined {
    return this.#assignments.get(name);
  }

  waitingReason(name: string): string {
    if (!this.#plan) return 'the coordinator has no plan yet (muster plan apply FILE)';
    return this.#waiting.get(name) ?? 'waiting for the coordinator to compute assignments';
  }

  problems(): string[] {
    return this.#problems;
  }

  // ---------------------------------------------------------------- status

  status(): NodeStatusRow[] {
    const rows: NodeStatusRow[] = [];
    for (const n of [...this.#nodes.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const a = this.#assignments.get(n.name);
      const ap = this.#applies.get(n.name);
      // One preflight view per row (each view works out the gate).
      const pf = n.removedAtMs ? null : this.#preflight.get(n.name);
      let state: NodeState;
      let detail = '';
      if (n.removedAtMs) {
        state = 'removed';
        detail = `removed at ${new Date(n.removedAtMs).toISOString()}`;
      } else if (a && ap && ap.revision === a.revision && ap.ok) state = 'applied';
      else if (a && pf?.gated) {
        state = pf.state === 'blocked' ? 'blocked' : 'waiting';
        detail = `preflight ${pf.state}: ${pf.detail}`;
      } else if (a && ap && ap.revision === a.revision && !ap.ok) {
        state = 'failed';
        detail = ap.error;
      } else if (a) {
        state = 'applying';
        detail = `revision ${a.revision} not yet applied`;
      } else if (this.#facts.has(n.name)) {
        state = 'waiting';
        detail = this.waitingReason(n.name);
      } else state = 'joined';
      rows.push({
        name: n.name,
        address: n.address,
        roles: (a?.body.roles ?? []) as Role[],
        state,
        assignedRevision: a?.revision ?? 0,
        appliedRevision: ap?.ok ? ap.revision : 0,
        detail,
        lastSeenMs: this.#lastSeen.get(n.name) ?? 0,
        agentVersion: n.agentVersion,
        joinedAtMs: n.joinedAtMs,
        preflight: pf?.state ?? '',
        preflightDetail: pf?.detail ?? '',
      });
    }
    return rows;
  }

  // ---------------------------------------------------------------- assignment

  #assignmentStates(): Map<string, NodeAssignmentState> {
    const m = new Map<string, NodeAssignmentState>();
    for (const [name, a] of this.#assignments) m.set(name, a.state);
    return m;
  }

  #registered(name: string): RegisteredNode | null {
    const n = this.#nodes.get(name);
    if (!n || n.removedAtMs) return null;
    const f = this.#facts.get(name)?.facts;
    const addrs = new Set<string>();
    if (n.address) addrs.add(n.address);
    if (f?.network?.default_address) addrs.add(f.network.default_address);
    for (const i of f?.network?.interfaces ?? []) for (const a of i.addresses) if (!a.startsWith('127.') && !a.startsWith('::1')) addrs.add(a.split('/')[0]!);
    const varLib = f?.disks?.filesystems.find((fs) => fs.mount === f.disks?.var_lib_mount);
    return {
      name: n.name,
      // From the join, not from facts: simulated nodes (--root) share the host's machine-id and
      // host name, and the name a node joined under is the one operators write in plans.
      machineId: n.machineId,
      hostname: n.hostname,
      addresses: [...addrs],
      labels: n.labels,
      cpus: f?.cpu?.logical_cores ?? 0,
      memoryBytes: Number(f?.memory?.total_bytes ?? 0),
      varLibDiskBytes: Number(varLib?.size_bytes ?? 0),
      joinedAtMs: n.joinedAtMs,
    };
  }

  #scheduleRecompute(delay = this.#recomputeDelayMs): void {
    if (this.#recomputeTimer) return;
    this.#recomputeTimer = setTimeout(() => {
      this.#recomputeTimer = null;
      void this.#serial(() => this.#recompute()).catch((e) => this.#log.error(`recomputing assignments failed: ${e?.stack ?? e}`));
    }, delay);
  }

  /** Recomputes every assignment from the plan and writes the ones that changed. Call inside #serial. */
  async #recompute(): Promise<string[]> {
    if (!this.#plan) return [];
    const nodes: RegisteredNode[] = [];
    for (const name of this.#nodes.keys()) {
      const r = this.#registered(name);
      if (r) {
        nodes.push(r);
        this.#registeredCache.set(name, stableStringify(r));
      }
    }
    const overrides = new Map<string, Role[]>();
    for (const [n, o] of this.#overrides) overrides.set(n, o.roles);
    const out = computeAssignments({ plan: this.#plan.plan, nodes, previous: this.#assignmentStates(), overrides });
    this.#waiting = out.waiting;
    this.#problems = out.problems;

    // Hosts entries are one shared array in every body (the whole cluster when hosts files are
    // managed): serialise each distinct array once, not once per node.
    const hostsText = new Map<unknown, string>();
    const hosts = (h: unknown) => {
      let t = hostsText.get(h);
      if (t === undefined) hostsText.set(h, (t = stableStringify(h)));
      return t;
    };
    const same = (a: AssignmentRecord['body'], b: AssignmentRecord['body']) =>
      stableStringify({ ...a, hosts_entries: null }) === stableStringify({ ...b, hosts_entries: null }) && hosts(a.hosts_entries) === hosts(b.hosts_entries);
    const puts: { name: string; body: AssignmentRecord['body']; state: NodeAssignmentState; bodyChanged: boolean }[] = [];
    for (const [name, body] of out.assignments) {
      const prev = this.#assignments.get(name);
      const state = out.state.get(name) ?? { roles: body.roles as Role[], podCidr: body.pod_cidr ?? '', pinned: false };
      const bodyChanged = !prev || !same(prev.body, body);
      if (bodyChanged || stableStringify(prev!.state) !== stableStringify(state)) puts.push({ name, body, state, bodyChanged });
    }
    const deletes = [...this.#assignments.keys()].filter((n) => !out.assignments.has(n));
    if (!puts.length && !deletes.length) {
      this.#syncPreflight();
      return [];
    }

    const rev = this.#revision + 1;
    const planRevision = this.#plan.record.revision;
    const ops: Op[] = [];
    const records = new Map<string, AssignmentRecord>();
    for (const p of puts) {
      const prev = this.#assignments.get(p.name);
      const rec: AssignmentRecord = { revision: p.bodyChanged ? rev : prev!.revision, planRevision, body: p.body, state: p.state };
      records.set(p.name, rec);
      ops.push({ type: 'put', key: KEYS.assignment(p.name), value: JSON.stringify(rec) });
    }
    for (const d of deletes) ops.push({ type: 'delete', key: KEYS.assignment(d) });
    this.#write(ops);
    for (const [n, r] of records) this.#assignments.set(n, r);
    for (const d of deletes) this.#assignments.delete(d);
    this.#syncPreflight();
    const changed = [...puts.filter((p) => p.bodyChanged).map((p) => p.name), ...deletes].sort();
    if (changed.length) {
      this.#log.info(`assignments changed at revision ${rev} for ${changed.length} node(s)${changed.length <= 10 ? `: ${changed.join(', ')}` : ''}`);
      this.#emit(changed);
    }
    return changed;
  }

  #emit(names: string[]): void {
    for (const l of this.#listeners) l(names);
  }

  async close(): Promise<void> {
    if (this.#recomputeTimer) clearTimeout(this.#recomputeTimer);
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    this.#preflight.close();
    await this.flushLastSeen().catch(() => undefined);
    await this.#queue.catch(() => undefined);
  }
}
