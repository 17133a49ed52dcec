// The state writer: the only way coordinator state changes, and the rule that nothing is seen
// before it is durable.
//
// - Mutations run one at a time (`run`), which makes token use counts and pod-block allocation
//   safe under concurrent joins. A mutation reads the writer's view (`Table.latest`: committed
//   state plus the writes queued before it) and queues transactions with `txn`; the next mutation
//   starts as soon as this one returned, so a burst of mutations shares one fsync (the store's
//   group commit), but `run` resolves only once every transaction it queued is committed.
// - Everybody else -- agents, admins, watchers, the preflight tracker, status -- reads committed
//   state only (`Table.get`). Committed state is built from the store's watch events, which the
//   store delivers after the commit and before the txn promise resolves. That is the durability
//   watermark: what a reader sees is on disk, and a revision is the one the store assigned.
// - A failed commit stops the coordinator (fail-stop, like etcd on a WAL error): the queued view
//   would otherwise be ahead of disk.
import type { Entry, Guard, Op, Store, TxnResult, WatchEvent } from '../store/store.ts';
import { FailedPreconditionError, UnavailableError } from '../../shared/errors/index.ts';

/** Committed value of one key with the revision that last wrote it. */
export interface Versioned<T> {
  value: T;
  modRevision: number;
}

/** Decodes a stored value; throws with a message that names the key. */
function decodeJson<T>(key: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new FailedPreconditionError(
      'state-corrupt',
      `stored value of key ${JSON.stringify(key)} is not valid JSON (${(err as Error).message}); the state store is corrupt at that key: restore state.db from a backup`,
      { cause: err },
    );
  }
}

/**
 * One kind of record under a key prefix ("nodes/", "tokens/"...): the committed map readers use,
 * and the queued writes that only the writer's mutations see.
 */
export class Table<T> {
  readonly prefix: string;
  readonly #committed = new Map<string, Versioned<T>>();
  /** Writes queued but not committed: the newest value (undefined: deleted) and how many are in flight. */
  readonly #queued = new Map<string, { value: T | undefined; inFlight: number }>();
  readonly #listeners = new Set<(name: string, value: T | undefined, revision: number) => void>();

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  // ---- what readers see: committed state

  get(name: string): T | undefined {
    return this.#committed.get(name)?.value;
  }

  /** The revision that last wrote `name` (0: absent). */
  revisionOf(name: string): number {
    return this.#committed.get(name)?.modRevision ?? 0;
  }

  has(name: string): boolean {
    return this.#committed.has(name);
  }

  get size(): number {
    return this.#committed.size;
  }

  names(): IterableIterator<string> {
    return this.#committed.keys();
  }

  entries(): IterableIterator<[string, Versioned<T>]> {
    return this.#committed.entries();
  }

  values(): T[] {
    return [...this.#committed.values()].map((v) => v.value);
  }

  /** Called for every committed write of this table, in revision order. */
  onCommit(cb: (name: string, value: T | undefined, revision: number) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  // ---- what the writer's mutations see: committed plus queued

  latest(name: string): T | undefined {
    const q = this.#queued.get(name);
    return q ? q.value : this.get(name);
  }

  /** Every name with a value in the writer's view. */
  latestNames(): string[] {
    if (this.#queued.size === 0) return [...this.#committed.keys()];
    const out = new Set(this.#committed.keys());
    for (const [n, q] of this.#queued) {
      if (q.value === undefined) out.delete(n);
      else out.add(n);
    }
    return [...out];
  }

  put(name: string, value: T): Op {
    this.#queue(name, value);
    return { type: 'put', key: this.prefix + name, value: JSON.stringify(value) };
  }

  delete(name: string): Op {
    this.#queue(name, undefined);
    return { type: 'delete', key: this.prefix + name };
  }

  #queue(name: string, value: T | undefined): void {
    const q = this.#queued.get(name);
    if (q) {
      q.value = value;
      q.inFlight += 1;
    } else this.#queued.set(name, { value, inFlight: 1 });
  }

  // ---- fed by the writer

  /** @internal Initial contents, from the store. */
  load(e: Entry): void {
    const name = e.key.slice(this.prefix.length);
    this.#committed.set(name, { value: decodeJson<T>(e.key, e.value), modRevision: e.modRevision });
  }

  /** @internal A committed op on one of this table's keys. */
  committed(op: Op, revision: number): void {
    const name = op.key.slice(this.prefix.length);
    const q = this.#queued.get(name);
    let value: T | undefined;
    if (op.type === 'put') {
      // The last queued write of this key is the object the mutation built: reuse it, no re-parse.
      value = q && q.inFlight === 1 && q.value !== undefined ? q.value : decodeJson<T>(op.key, op.value);
      this.#committed.set(name, { value, modRevision: revision });
    } else this.#committed.delete(name);
    if (q && --q.inFlight <= 0) this.#queued.delete(name);
    for (const l of this.#listeners) l(name, value, revision);
  }

  /** @internal A queued op that will never commit (its guards failed). */
  abandoned(op: Op): void {
    const name = op.key.slice(this.prefix.length);
    const q = this.#queued.get(name);
    if (q && --q.inFlight <= 0) this.#queued.delete(name);
  }
}

export interface StateWriterOptions {
  store: Store;
  /** Called when the store fails to commit. */
  onFatal: (err: unknown) => void;
}

export class StateWriter {
  readonly #store: Store;
  readonly #onFatal: (err: unknown) => void;
  /** Set by close: mutations are refused from then on. */
  #closed = false;
  readonly #tables: Table<unknown>[] = [];
  readonly #afterCommit = new Set<(event: WatchEvent) => void>();
  #queue: Promise<unknown> = Promise.resolve();
  #inRun: Promise<TxnResult>[] | null = null;
  /** The newest transaction handed to the store. */
  #lastTxn: Promise<unknown> = Promise.resolve();
  #committedRevision = 0;
  #stopWatch: (() => void) | null = null;

  constructor(o: StateWriterOptions) {
    this.#store = o.store;
    this.#onFatal = o.onFatal;
  }

  /** A table for keys under `prefix`; register every table before `load`. */
  table<T>(prefix: string): Table<T> {
    for (const t of this.#tables) {
      if (t.prefix.startsWith(prefix) || prefix.startsWith(t.prefix)) throw new Error(`table prefixes ${t.prefix} and ${prefix} overlap`);
    }
    const t = new Table<T>(prefix);
    this.#tables.push(t as Table<unknown>);
    return t;
  }

  /** Reads every table from the store and starts following its commits. */
  async load(): Promise<void> {
    this.#stopWatch = this.#store.watch((e) => this.#onCommit(e));
    this.#committedRevision = await this.#store.revision();
    for (const t of this.#tables) for (const e of await this.#store.list(t.prefix)) t.load(e);
  }

  /** The revision of the newest committed transaction: everything readers see is at or below it. */
  get committedRevision(): number {
    return this.#committedRevision;
  }

  /** Called after each committed transaction has been applied to the tables. */
  onCommit(cb: (event: WatchEvent) => void): () => void {
    this.#afterCommit.add(cb);
    return () => this.#afterCommit.delete(cb);
  }

  #onCommit(e: WatchEvent): void {
    this.#committedRevision = e.revision;
    for (const op of e.ops) this.#tableFor(op.key)?.committed(op, e.revision);
    for (const l of this.#afterCommit) l(e);
  }

  #tableFor(key: string): Table<unknown> | undefined {
    return this.#tables.find((t) => key.startsWith(t.prefix));
  }

  /**
   * Runs a mutation after the ones before it. `fn` reads `Table.latest` and queues writes with
   * `txn`; the promise resolves with fn's value once all of them are committed (rejects with
   * fn's error, in which case fn must not have queued anything it did not mean).
   */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    // After close, a mutation is refused, not run into a closed store: that commit would fail,
    // and a failed commit stops the process (onFatal) -- a stopping coordinator (or a test that
    // restarts one) would exit instead of answering the caller that it is going away.
    if (this.#closed) return Promise.reject(new UnavailableError('the coordinator is stopping; retry once it is back'));
    const step = this.#queue.then(async () => {
      const txns: Promise<TxnResult>[] = [];
      this.#inRun = txns;
      try {
        return { value: await fn(), txns };
      } finally {
        this.#inRun = null;
      }
    });
    this.#queue = step.catch(() => undefined);
    return step.then(async ({ value, txns }) => {
      await Promise.all(txns);
      return value;
    });
  }

  /**
   * Queues one transaction (only inside `run`). Resolves with the store's result once committed;
   * a failed guard resolves ok=false and the queued writes are dropped from the writer's view.
   */
  txn(ops: Op[], guards?: Guard[]): Promise<TxnResult> {
    if (!this.#inRun) throw new Error('StateWriter.txn outside run()');
    const p = this.#store.txn(ops, guards).then(
      (r) => {
        if (!r.ok) for (const op of ops) this.#tableFor(op.key)?.abandoned(op);
        return r;
      },
      (err) => {
        this.#onFatal(err);
        throw err;
      },
    );
    this.#inRun.push(p);
    this.#lastTxn = p.catch(() => undefined);
    return p;
  }

  /**
   * Resolves when every transaction queued so far is committed. A mutation that answers from the
   * writer's view without writing (a repeated join) awaits this, so it never answers with state
   * that an earlier, still uncommitted mutation queued.
   */
  committed(): Promise<unknown> {
    return this.#lastTxn;
  }

  /** Waits for every mutation queued so far. */
  async settle(): Promise<void> {
    await this.#queue.catch(() => undefined);
  }

  /** Stops following commits and refuses mutations from now on (run rejects with UNAVAILABLE). */
  close(): void {
    this.#closed = true;
    this.#stopWatch?.();
  }
}
