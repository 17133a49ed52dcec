// Assignments: what each node is told to be. The engine (coordinator/assign) is a pure function;
// this module persists its output. Assignment revisions come from a sequence of their own (one
// number per body written, stored with the body, the last one under assignment-seq/last), so a
// node's revision moves only when its body changes, never repeats, and reads 1, 2, 3 rather than
// the store's count of every write; the engine's bookkeeping (roles, pod block, pinned) lives
// under its own key.
import type { Op } from '../store/store.ts';
import type { StateWriter, Table } from './writer.ts';
import { PREFIX, type AssignmentRecord, type AssignmentStateRecord, type CommittedAssignment, type OverrideRecord, type StoredBody } from './records.ts';
import { computeAssignments, type AssignOutput, type NodeAssignmentState, type RegisteredNode } from '../assign/index.ts';
import type { Plan } from '../../shared/plan/index.ts';
import type { Role } from '../../shared/constants.ts';
import { jsonEqual } from '../../shared/json.ts';
import { etcdFormationHolds } from '../assign/etcd-formation.ts';
import { holdReason, rolloutHolds, type RolloutHold } from '../assign/rollout.ts';
import { compareText } from '../assign/order.ts';

/** The nodes a recomputation gives a new assignment: now (changed), or once a rollout lets them (held), in name order. */
export function toChange(r: Pick<Recomputed, 'changed' | 'holds'>): string[] {
  return [...new Set([...r.changed, ...r.holds.map((h) => h.name)])].sort(compareText);
}

export interface Recomputed {
  ops: Op[];
  /** Nodes whose body changed or was deleted. */
  changed: string[];
  waiting: Map<string, string>;
  problems: string[];
  /** Nodes whose new version or (control-plane nodes') settings wait for another node's apply (coordinator/assign/rollout.ts). */
  holds: RolloutHold[];
}

export class Assignments {
  readonly bodies: Table<AssignmentRecord>;
  readonly states: Table<AssignmentStateRecord>;
  readonly overrides: Table<OverrideRecord>;
  readonly #seq: Table<number>;
  #waiting = new Map<string, string>();
  #problems: string[] = [];
  /**
   * What each node was last handed (in memory): an apply report counts only for a revision the
   * node was given, and installs that revision's roles, not the roles the report claims.
   */
  readonly #delivered = new Map<string, { revision: number; roles: Role[] }>();

  constructor(w: StateWriter) {
    this.bodies = w.table<AssignmentRecord>(PREFIX.assignments);
    this.states = w.table<AssignmentStateRecord>(PREFIX.assignmentState);
    this.overrides = w.table<OverrideRecord>(PREFIX.overrides);
    this.#seq = w.table<number>(PREFIX.assignmentSeq);
  }

  /** The last revision handed out (writer's view); for records from before the sequence, the highest store revision among them. */
  #lastRevision(): number {
    const stored = this.#seq.latest('last');
    if (typeof stored === 'number') return stored;
    let max = 0;
    for (const n of this.bodies.names()) max = Math.max(max, this.get(n)!.revision);
    return max;
  }

  /** The node's committed assignment with its revision. */
  get(name: string): CommittedAssignment | undefined {
    const a = this.bodies.get(name);
    return a ? { ...a, revision: a.revision ?? this.bodies.revisionOf(name) } : undefined;
  }

  /** The engine's state per node in the writer's view (the previous computation). */
  latestStates(): Map<string, NodeAssignmentState> {
    const m = new Map<string, NodeAssignmentState>();
    for (const n of this.states.latestNames()) m.set(n, this.states.latest(n)!);
    return m;
  }

  noteDelivered(name: string, revision: number, roles: readonly string[]): void {
    this.#delivered.set(name, { revision, roles: [...roles] as Role[] });
  }

  delivered(name: string): { revision: number; roles: Role[] } | undefined {
    return this.#delivered.get(name);
  }

  waitingReason(name: string): string | undefined {
    return this.#waiting.get(name);
  }

  problems(): string[] {
    return this.#problems;
  }

  /** Called once the recomputation's transaction committed: its reasons may be shown now. */
  publish(r: Pick<Recomputed, 'waiting' | 'problems'> & Partial<Pick<Recomputed, 'holds'>>): void {
    this.#waiting = r.waiting;
    this.#problems = r.problems;
    this.#holds = r.holds ?? [];
    this.#heldBy = new Map(this.#holds.map((h) => [h.name, h]));
  }

  #holds: RolloutHold[] = [];
  /** The holds by node: status reads one per node (a fleet-wide rollout holds most of the fleet). */
  #heldBy = new Map<string, RolloutHold>();

  /** Whether a rollout holds a node (an apply report may release it: recompute then). */
  holding(): boolean {
    return this.#holds.length > 0;
  }

  /** Why a rollout holds this node's new assignment back (its committed one stays); undefined when it does not. */
  heldReason(name: string): string | undefined {
    const h = this.#heldBy.get(name);
    return h && holdReason(h);
  }

  /**
   * Runs the engine on the writer's view and returns the ops for what changed. `pki` gives each
   * node's PkiTarget (the cluster PKI's part of the body, not the engine's).
   */
  recompute(plan: Plan, planRevision: number, nodes: RegisteredNode[], pki: (name: string, roles: readonly string[]) => StoredBody['pki'] = () => null, computed?: AssignOutput, applied: (name: string) => { revision: number; ok: boolean } | undefined = () => undefined, live: (name: string) => boolean = () => true): Recomputed {
    // `computed`: the engine's output for these very inputs (an apply's preview), not run twice.
    const out = computed ?? this.preview(plan, nodes);
    // The control plane (masters, then etcd members) takes a new Kubernetes version or new settings
    // one node at a time, the other nodes after the masters a batch at a time: a held node keeps
    // its committed body (coordinator/assign/rollout.ts).
    const previous = new Map<string, { body: StoredBody; revision: number }>();
    const next = new Map<string, StoredBody>();
    // The PKI target is part of what is held: an operator's renewal restarts what uses the new
    // certificates, so it goes through the control plane one node at a time too.
    for (const [name, b] of out.assignments) {
      next.set(name, { ...(b as StoredBody), pki: pki(name, b.roles) });
      const c = this.bodies.latest(name);
      if (c) previous.set(name, { body: c.body, revision: c.revision ?? this.bodies.revisionOf(name) });
    }
    const holds = rolloutHolds({ previous, next, applied, live });
    const held = new Set(holds.map((h) => h.name));
    const waiting = new Map(out.waiting);
    for (const h of holds) waiting.set(h.name, holdReason(h));
    // etcd's first members all get their assignment together (coordinator/assign/etcd-formation.ts).
    const formed = this.bodies.latestNames().some((name) => this.bodies.latest(name)?.body.roles.includes('etcd'));
    const forming = etcdFormationHolds({ expected: plan.etcd.expected_count, formed, members: [...next].filter(([, b]) => b.roles.includes('etcd')).map(([name]) => name) });
    for (const [name, why] of forming) {
      held.add(name);
      waiting.set(name, why);
    }

    // Bodies are compared as their JSON would be, field by field, without making the JSON (two
    // serialisations per node per recompute were most of a join's cost). Hosts entries are one
    // shared array in every body (the whole cluster when hosts files are managed): each distinct
    // pair of arrays is compared once, not once per node.
    const hostsSame = new Map<unknown, Map<unknown, boolean>>();
    const sameHosts = (a: unknown, b: unknown) => {
      if (a === b) return true;
      let m = hostsSame.get(a);
      if (!m) hostsSame.set(a, (m = new Map()));
      let v = m.get(b);
      if (v === undefined) m.set(b, (v = jsonEqual(a, b)));
      return v;
    };
    const same = (a: StoredBody, b: StoredBody) => sameHosts(a.hosts_entries, b.hosts_entries) && jsonEqual({ ...a, hosts_entries: null }, { ...b, hosts_entries: null });

    const ops: Op[] = [];
    const changed: string[] = [];
    let seq = this.#lastRevision();
    const first = seq;
    for (const [name, body] of next) {
      if (held.has(name)) continue;
      const prev = this.bodies.latest(name);
      if (!prev || !same(prev.body, body)) {
        ops.push(this.bodies.put(name, { planRevision, body, revision: ++seq }));
        changed.push(name);
      }
    }
    for (const name of this.bodies.latestNames()) {
      if (!out.assignments.has(name)) {
        ops.push(this.bodies.delete(name));
        changed.push(name);
      }
    }
    if (seq !== first) ops.push(this.#seq.put('last', seq));
    for (const [name, st] of out.state) {
      const prev = this.states.latest(name);
      if (!prev || !jsonEqual(prev, st)) ops.push(this.states.put(name, st));
    }
    for (const name of this.states.latestNames()) if (!out.state.has(name)) ops.push(this.states.delete(name));
    return { ops, changed: changed.sort(), waiting, problems: out.problems, holds };
  }

  /**
   * What the engine would give each node under `plan`, from the writer's view, queueing nothing
   * (`muster plan apply --dry-run`, and the plan-change checks before an apply).
   */
  preview(plan: Plan, nodes: RegisteredNode[]): AssignOutput {
    const overrides = new Map<string, Role[]>();
    for (const n of this.overrides.latestNames()) overrides.set(n, this.overrides.latest(n)!.roles);
    return computeAssignments({ plan, nodes, previous: this.latestStates(), overrides });
  }

  /** `muster node assign`: the operator's roles for a node ([] clears the override). */
  overrideOps(name: string, roles: Role[], atMs: number): Op[] {
    return roles.length ? [this.overrides.put(name, { roles: [...roles].sort(), atMs })] : this.overrides.latest(name) ? [this.overrides.delete(name)] : [];
  }

  /** Everything of a removed node. */
  removeOps(name: string): Op[] {
    const ops: Op[] = [];
    if (this.bodies.latest(name)) ops.push(this.bodies.delete(name));
    if (this.states.latest(name)) ops.push(this.states.delete(name));
    if (this.overrides.latest(name)) ops.push(this.overrides.delete(name));
    return ops;
  }
}
