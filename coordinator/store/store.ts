// The coordinator's state store: a small revisioned key-value interface in etcd's image, so the
// embedded node:sqlite store, the in-memory store (tests) and the etcd store (scale-out) are
// interchangeable. Values are JSON text. Every successful transaction gets the next revision of
// the whole store, and the store -- never its caller -- says which revision that is.
//
// Durability rule: a transaction is visible to nobody (no watch event, no resolved promise)
// before it is durable. Watch events are delivered in revision order, after the commit, before
// the committing txn() promise resolves, so a caller that awaits txn() finds memory built from
// watch events already up to date.
export interface Entry {
  key: string;
  value: string;
  /** Revision of the transaction that created the key. */
  createRevision: number;
  /** Revision of the transaction that last wrote the key. */
  modRevision: number;
}

export type Op = { type: 'put'; key: string; value: string } | { type: 'delete'; key: string };

/** A transaction applies only when each guarded key's modRevision is as given (0: key absent). */
export interface Guard {
  key: string;
  modRevision: number;
}

export interface TxnResult {
  ok: boolean;
  /** The store revision after the transaction (unchanged when ok is false). */
  revision: number;
}

/** One committed transaction, as watchers see it. */
export interface WatchEvent {
  revision: number;
  ops: readonly Op[];
}

export interface Store {
  get(key: string): Promise<Entry | undefined>;
  /** All entries whose key starts with prefix, in key order. */
  list(prefix: string): Promise<Entry[]>;
  /**
   * Atomic and durable: when the promise resolves with ok, the writes survive a crash. With
   * guards that do not hold, nothing is written and ok is false. A rejected promise means the
   * store could not commit: the caller must treat the store as failed (fail-stop).
   */
  txn(ops: Op[], guards?: Guard[]): Promise<TxnResult>;
  /** The revision of the last committed transaction. */
  revision(): Promise<number>;
  /**
   * Calls `cb` once for every committed transaction, in revision order, after it is durable and
   * before its txn() promise resolves. Returns a function that stops the watch.
   */
  watch(cb: (event: WatchEvent) => void): () => void;
  /** Optional, for metrics: calls `cb` after each (group) commit with its duration in ms and its transaction count. */
  onCommit?(cb: (ms: number, transactions: number) => void): () => void;
  close(): Promise<void>;
}
