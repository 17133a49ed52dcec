// How a commit becomes visible, shared by every Store so they cannot drift apart: transactions
// submitted in one turn of the event loop are committed together (one fsync for sqlite), then,
// once the store says the batch is durable, each committed transaction is shown to the watchers,
// in revision order, and only then is its txn() promise resolved. A failed commit or sync rejects
// the whole batch (and every batch after it), shows nothing, and latches: the store is fail-stop
// from then on.
import type { Guard, Op, TxnResult, WatchEvent } from './store.ts';
import { StoreClosedError, StoreCommitError } from './errors.ts';

export interface PendingTxn {
  readonly ops: readonly Op[];
  readonly guards: readonly Guard[];
}

/**
 * Commits a batch atomically and returns one result per transaction, in order; each
 * transaction's guards see the writes of the ones before it. Throws when nothing was committed.
 */
export type CommitBatch = (batch: readonly PendingTxn[]) => TxnResult[];

/**
 * Makes everything committed so far durable (sqlite: an fdatasync of its WAL, on the libuv pool,
 * so the event loop does not wait for the disk). Called once per batch, right after its commit;
 * a batch is shown and acknowledged only when the promise resolves. Promises must resolve in the
 * order of the calls.
 */
export type MakeDurable = () => Promise<void>;

/** A group commit's duration in ms and its number of transactions. */
export type CommitObserver = (ms: number, transactions: number) => void;

interface Waiting extends PendingTxn {
  resolve(r: TxnResult): void;
  reject(e: unknown): void;
}

export class GroupCommit {
  readonly #name: string;
  readonly #commit: CommitBatch;
  readonly #watchers = new Watchers();
  #pending: Waiting[] = [];
  #failure: StoreCommitError | null = null;
  #closed = false;
  readonly #commitObservers = new Set<CommitObserver>();
  readonly #durable: MakeDurable | null;
  /** The last batch's publication: the next one is shown after it, so revision order holds. */
  #published: Promise<void> = Promise.resolve();

  /** `name` (the database file) goes into error messages; without `durable`, a commit is durable when it returns. */
  constructor(name: string, commit: CommitBatch, durable?: MakeDurable) {
    this.#name = name;
    this.#commit = commit;
    this.#durable = durable ?? null;
  }

  submit(ops: readonly Op[], guards: readonly Guard[]): Promise<TxnResult> {
    if (this.#closed) return Promise.reject(new StoreClosedError(this.#name));
    if (this.#failure) return Promise.reject(this.#failure);
    // Copied now: what is written and what watchers see is what the caller passed, even if it
    // reuses its arrays before the batch is flushed.
    const frozenOps = Object.freeze(ops.map((op) => Object.freeze({ ...op })));
    const frozenGuards = Object.freeze(guards.map((g) => Object.freeze({ ...g })));
    return new Promise((resolve, reject) => {
      this.#pending.push({ ops: frozenOps, guards: frozenGuards, resolve, reject });
      if (this.#pending.length === 1) setImmediate(() => this.flush());
    });
  }

  watch(cb: (event: WatchEvent) => void): () => void {
    return this.#watchers.add(cb);
  }

  /** Calls `cb` after every successful group commit with its duration (ms) and transaction count (metrics). */
  onCommit(cb: CommitObserver): () => void {
    const entry: CommitObserver = (ms, n) => cb(ms, n);
    this.#commitObservers.add(entry);
    return () => void this.#commitObservers.delete(entry);
  }

  /** Commits what is pending now (close() calls it; the scheduled flush then finds nothing). */
  flush(): void {
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    if (this.#failure) {
      for (const t of batch) t.reject(this.#failure);
      return;
    }
    let results: TxnResult[];
    const started = performance.now();
    try {
      results = this.#commit(batch);
    } catch (err) {
      this.#failure = new StoreCommitError(this.#name, err);
      for (const t of batch) t.reject(this.#failure);
      return;
    }
    const publish = () => {
      const took = performance.now() - started;
      for (const o of this.#commitObservers) o(took, batch.length);
      // Resolving only queues the callers' continuations, so every event of the batch is out
      // before any caller runs.
      batch.forEach((t, i) => {
        const r = results[i]!;
        if (r.ok) this.#watchers.emit({ revision: r.revision, ops: t.ops });
        t.resolve(r);
      });
    };
    if (!this.#durable) return publish();
    const durable = this.#durable();
    durable.catch(() => undefined); // handled below, in order; not an unhandled rejection meanwhile
    this.#published = this.#published.then(
      () => durable,
    ).then(
      () => {
        if (this.#failure) throw this.#failure;
        publish();
      },
    ).catch((err: unknown) => {
      // Not known to be on disk: nothing of it (or of any batch after it) is shown. What SQLite
      // holds is ahead of what callers were told; the store stops, as after a failed commit.
      this.#failure ??= err instanceof StoreCommitError ? err : new StoreCommitError(this.#name, err);
      for (const t of batch) t.reject(this.#failure);
    });
  }

  /** Flushes what is pending and refuses everything after; resolves when every batch is shown or refused. */
  close(): Promise<void> {
    this.flush();
    this.#closed = true;
    return this.#published;
  }

  get closed(): boolean {
    return this.#closed;
  }
}

/** A set of watch callbacks. One that throws does not stop the others. */
export class Watchers {
  readonly #cbs = new Set<(event: WatchEvent) => void>();

  add(cb: (event: WatchEvent) => void): () => void {
    // A wrapper, so the same function watching twice gets two subscriptions.
    const entry = (e: WatchEvent) => cb(e);
    this.#cbs.add(entry);
    return () => void this.#cbs.delete(entry);
  }

  emit(event: WatchEvent): void {
    // A snapshot: a watcher added by a callback starts with the next event; one removed by a
    // callback gets no more.
    for (const cb of [...this.#cbs]) {
      if (!this.#cbs.has(cb)) continue;
      try {
        cb(event);
      } catch (err) {
        // A watcher that throws has missed a committed transaction; whatever it keeps in
        // memory is now wrong. Swallowing that would hide it, so it is rethrown as an uncaught
        // exception (the process's fail-stop), while the store and the other watchers stay
        // consistent.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
