// Store on node:sqlite (built into Node 24), one file in the coordinator's data dir.
// WAL, and a transaction is on disk before txn() resolves, so neither a SIGKILL nor a power cut
// loses anything that was acknowledged: SQLite commits with synchronous=NORMAL (the WAL is
// written, not synced) and the store then fdatasyncs the WAL off the event loop (wal-sync.ts)
// before it shows or acknowledges the batch -- synchronous=FULL's guarantee without blocking
// every call in flight for the disk.
//
// One coordinator per database: the connection runs in locking_mode=EXCLUSIVE and takes the
// write lock at open, so it holds an OS file lock (fcntl) on the database for as long as it is
// open. The kernel drops that lock when the process dies, however it dies, so there is no stale
// lock to clean up after a crash. A second opener -- another process, or another connection in
// this one (SQLite tracks its locks per file across connections) -- gets SQLITE_BUSY and a
// StoreInUseError. The pid in `<file>.lock` only says who holds it; it is not the lock.
//
// Caution: fcntl locks belong to the process, and closing ANY descriptor of the database file
// drops them. SQLite guards its own descriptors; nothing else in the process may open the file.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Entry, Guard, Op, Store, TxnResult, WatchEvent } from './store.ts';
import { GroupCommit, type PendingTxn } from './group-commit.ts';
import { WalSync, type SyncFd } from './wal-sync.ts';
import { StoreClosedError, StoreInUseError } from './errors.ts';
import { FailedPreconditionError } from '../../shared/errors/index.ts';

export interface SqliteStoreOptions {
  /**
   * How long to wait for the database lock at open before reporting it in use. Short: a holder
   * keeps it until it exits, so waiting longer only helps a holder that is already exiting.
   * @default 250
   */
  lockWaitMs?: number;
  /** How the WAL is synced (tests hold or fail it). @default fdatasync on the libuv pool */
  syncWal?: SyncFd;
}

export interface SqlitePragmas {
  journalMode: string;
  /** 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
  synchronous: number;
  lockingMode: string;
}

const SQLITE_BUSY = 5;

export class SqliteStore implements Store {
  readonly #path: string;
  readonly #lockFile: string;
  readonly #db: DatabaseSync;
  readonly #commits: GroupCommit;
  readonly #get: StatementSync;
  readonly #list: StatementSync;
  readonly #listAll: StatementSync;
  readonly #put: StatementSync;
  readonly #del: StatementSync;
  readonly #rev: StatementSync;
  readonly #setRev: StatementSync;
  readonly #wal: WalSync;

  /** Throws StoreInUseError when another process or connection has the database open. */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    const lockWaitMs = options.lockWaitMs ?? 250;
    this.#path = path;
    this.#lockFile = `${path}.lock`;
    this.#db = openExclusive(path, lockWaitMs);
    // The lock is ours from here on; the pid is only for the next opener's error message.
    try {
      writeFileSync(this.#lockFile, `${process.pid}\n`);
    } catch (err) {
      this.#db.close();
      throw err;
    }
    this.#get = this.#db.prepare('SELECT key, value, create_rev, mod_rev FROM kv WHERE key = ?');
    this.#list = this.#db.prepare('SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ? AND key < ? ORDER BY key');
    this.#listAll = this.#db.prepare('SELECT key, value, create_rev, mod_rev FROM kv ORDER BY key');
    this.#put = this.#db.prepare(
      'INSERT INTO kv (key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev',
    );
    this.#del = this.#db.prepare('DELETE FROM kv WHERE key = ?');
    this.#rev = this.#db.prepare('SELECT revision FROM meta WHERE id = 1');
    this.#setRev = this.#db.prepare('UPDATE meta SET revision = ? WHERE id = 1');
    try {
      this.#wal = new WalSync(`${path}-wal`, options.syncWal);
    } catch (err) {
      this.#db.close();
      removeIfOurs(this.#lockFile);
      throw err;
    }
    this.#commits = new GroupCommit(path, (batch) => this.#commitBatch(batch), () => this.#wal.sync());
  }

  async get(key: string): Promise<Entry | undefined> {
    this.#checkOpen();
    const row = this.#get.get(key) as Row | undefined;
    return row ? toEntry(row) : undefined;
  }

  async list(prefix: string): Promise<Entry[]> {
    this.#checkOpen();
    const rows = prefix === '' ? this.#listAll.all() : this.#list.all(prefix, prefixEnd(prefix));
    return (rows as unknown as Row[]).map(toEntry);
  }

  /**
   * Group commit: transactions submitted in the same turn of the event loop are written in one
   * SQLite transaction (one fsync, on the libuv pool), each still getting its own revision and
   * its own guards. node:sqlite is synchronous, so an fsync inside it would stall the whole
   * coordinator for the disk.
   */
  txn(ops: Op[], guards: Guard[] = []): Promise<TxnResult> {
    return this.#commits.submit(ops, guards);
  }

  onCommit(cb: (ms: number, transactions: number) => void): () => void {
    return this.#commits.onCommit(cb);
  }

  watch(cb: (event: WatchEvent) => void): () => void {
    return this.#commits.watch(cb);
  }

  async revision(): Promise<number> {
    this.#checkOpen();
    return this.#currentRevision();
  }

  /** The settings in force, read back from SQLite (not what was asked for). */
  pragmas(): SqlitePragmas {
    this.#checkOpen();
    const one = (name: string) => Object.values(this.#db.prepare(`PRAGMA ${name}`).get() ?? {})[0];
    return {
      journalMode: String(one('journal_mode')),
      synchronous: Number(one('synchronous')),
      lockingMode: String(one('locking_mode')),
    };
  }

  /** Commits what was submitted before, then releases the database (and its lock). */
  async close(): Promise<void> {
    if (this.#commits.closed) return;
    await this.#commits.close();
    this.#db.close();
    this.#wal.close();
    removeIfOurs(this.#lockFile);
  }

  #commitBatch(batch: readonly PendingTxn[]): TxnResult[] {
    const results: TxnResult[] = [];
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      let rev = this.#currentRevision();
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
      // SQLite may already have rolled back on its own (an I/O error does).
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw err;
    }
    return results;
  }

  #currentRevision(): number {
    return Number((this.#rev.get() as { revision: number | bigint }).revision);
  }

  #checkOpen(): void {
    if (this.#commits.closed) throw new StoreClosedError(this.#path);
  }
}

/**
 * Opens the database and takes its exclusive lock, or throws StoreInUseError. The order
 * matters: locking_mode must be EXCLUSIVE before the first access in WAL mode, so SQLite keeps
 * the WAL index in process memory and never shares it through a -shm file; the write
 * transaction then takes the lock, which EXCLUSIVE mode keeps until close.
 */
function openExclusive(path: string, lockWaitMs: number): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: lockWaitMs });
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    const mode = Object.values(db.prepare('PRAGMA journal_mode = WAL').get() ?? {})[0];
    if (mode !== 'wal') {
      throw new FailedPreconditionError('store-not-wal', `the state database ${path} cannot use WAL journaling (it reports "${String(mode)}")`);
    }
    // The schema is made under FULL (the WAL file's creation included); from then on NORMAL,
    // and WalSync makes each commit durable before it is acknowledged.
    db.exec(`
      PRAGMA synchronous = FULL;
      BEGIN IMMEDIATE;
      CREATE TABLE IF NOT EXISTS kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        create_rev INTEGER NOT NULL,
        mod_rev INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
      INSERT OR IGNORE INTO meta (id, revision) VALUES (1, 0);
      COMMIT;
    `);
    // Held from here until close: nobody can make us wait any more.
    db.exec('PRAGMA busy_timeout = 0; PRAGMA synchronous = NORMAL');
    return db;
  } catch (err) {
    db.close();
    if (isBusy(err)) throw new StoreInUseError(path, readPid(`${path}.lock`), { cause: err });
    throw err;
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && (code & 0xff) === SQLITE_BUSY;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function removeIfOurs(lockFile: string): void {
  if (readPid(lockFile) === process.pid) rmSync(lockFile, { force: true });
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
