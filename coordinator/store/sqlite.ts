// Store on node:sqlite (built into Node 24), one file in the coordinator's data dir.
// WAL with synchronous=FULL: a transaction is on disk before txn() resolves, so a SIGKILL at any
// moment loses nothing that was acknowledged.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Entry, Guard, Op, Store, TxnResult } from './store.ts';

export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #get: StatementSync;
  readonly #list: StatementSync;
  readonly #put: StatementSync;
  readonly #del: StatementSync;
  readonly #rev: StatementSync;
  readonly #setRev: StatementSync;
  #pending: { ops: Op[]; guards: Guard[]; resolve: (r: TxnResult) => void; reject: (e: unknown) => void }[] = [];

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        create_rev INTEGER NOT NULL,
        mod_rev INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
      INSERT OR IGNORE INTO meta (id, revision) VALUES (1, 0);
    `);
    this.#get = this.#db.prepare('SELECT key, value, create_rev, mod_rev FROM kv WHERE key = ?');
    this.#list = this.#db.prepare('SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ? AND key < ? ORDER BY key');
    this.#put = this.#db.prepare(
      'INSERT INTO kv (key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev',
    );
    this.#del = this.#db.prepare('DELETE FROM kv WHERE key = ?');
    this.#rev = this.#db.prepare('SELECT revision FROM meta WHERE id = 1');
    this.#setRev = this.#db.prepare('UPDATE meta SET revision = ? WHERE id = 1');
  }

  async get(key: string): Promise<Entry | undefined> {
    const row = this.#get.get(key) as Row | undefined;
    return row ? toEntry(row) : undefined;
  }

  async list(prefix: string): Promise<Entry[]> {
    return (this.#list.all(prefix, prefixEnd(prefix)) as unknown as Row[]).map(toEntry);
  }

  /**
   * Group commit: transactions submitted in the same turn of the event loop are written in one
   * SQLite transaction (one fsync), each still getting its own revision and its own guards.
   * node:sqlite is synchronous, so one fsync per call would stall the whole coordinator.
   */
  txn(ops: Op[], guards: Guard[] = []): Promise<TxnResult> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ ops, guards, resolve, reject });
      if (this.#pending.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#pending;
    this.#pending = [];
    const results: TxnResult[] = [];
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      let rev = Number((this.#rev.get() as { revision: number }).revision);
      for (const t of batch) {
        const guardOk = t.guards.every((g) => {
          const row = this.#get.get(g.key) as Row | undefined;
          return (row ? Number(row.mod_rev) : 0) === g.modRevision;
        });
        if (!guardOk) {
          results.push({ ok: false, revision: rev });
          continue;
        }
        rev += 1;
        for (const op of t.ops) {
          if (op.type === 'put') this.#put.run(op.key, op.value, rev, rev);
          else this.#del.run(op.key);
        }
        results.push({ ok: true, revision: rev });
      }
      this.#setRev.run(rev);
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      for (const t of batch) t.reject(err);
      return;
    }
    batch.forEach((t, i) => t.resolve(results[i]!));
  }

  async revision(): Promise<number> {
    return Number((this.#rev.get() as { revision: number }).revision);
  }

  async close(): Promise<void> {
    if (this.#pending.length) this.#flush();
    if (this.#db.isOpen) this.#db.close();
  }
}

interface Row {
  key: string;
  value: string;
  create_rev: number | bigint;
  mod_rev: number | bigint;
}

function toEntry(r: Row): Entry {
  return { key: r.key, value: r.value, createRevision: Number(r.create_rev), modRevision: Number(r.mod_rev) };
}

/** The smallest string greater than every string with this prefix (etcd's range_end). */
export function prefixEnd(prefix: string): string {
  if (prefix === '') return '\uffff';
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
