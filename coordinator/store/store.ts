// The coordinator's state store: a small revisioned key-value interface in etcd's image, so the
// embedded node:sqlite store and the etcd store (scale-out) are interchangeable. Values are
// JSON text. Every successful transaction gets the next revision of the whole store.
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

export interface Store {
  get(key: string): Promise<Entry | undefined>;
  /** All entries whose key starts with prefix, in key order. */
  list(prefix: string): Promise<Entry[]>;
  /** Atomic and durable: when the promise resolves with ok, the writes survive a crash. */
  txn(ops: Op[], guards?: Guard[]): Promise<TxnResult>;
  revision(): Promise<number>;
  close(): Promise<void>;
}
