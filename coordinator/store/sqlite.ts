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

  async txn(ops: Op[], guards: Guard[] = []): Promise<TxnResult> {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const current = Number((this.#rev.get() as { revision: number }).revision);
      for (const g of guards) {
        const row = this.#get.get(g.key) as Row | undefined;
        if ((row ? Number(row.mod_rev) : 0) !== g.modRevision) {
          this.#db.exec('ROLLBACK');
          return { ok: false, revision: current };
        }
      }
      const rev = current + 1;
      for (const op of ops) {
        if (op.type === 'put') this.#put.run(op.key, op.value, rev, rev);
        else this.#del.run(op.key);
      }
      this.#setRev.run(rev);
      this.#db.exec('COMMIT');
      return { ok: true, revision: rev };
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  async revision(): Promise<number> {
    return Number((this.#rev.get() as { revision: number }).revision);
  }

  async close(): Promise<void> {
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
