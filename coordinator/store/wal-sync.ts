// The sqlite store's durability step, off the event loop. SQLite runs with synchronous=NORMAL,
// so a COMMIT only writes the WAL (into the page cache: a SIGKILL loses nothing, the kernel
// holds it) and does not wait for the disk; the store then fdatasyncs the WAL itself, on the
// libuv pool, and acknowledges a batch only after a sync that began after its COMMIT. That is
// what synchronous=FULL does in WAL mode ("the WAL file is synchronized after each transaction
// commit"), without stalling every agent's call for the fsync. Checkpoints are unchanged:
// under NORMAL SQLite still syncs the WAL before a checkpoint and the database after it.
//
// Syncs coalesce: while one runs, every batch committed meanwhile waits for the one next sync.
import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';

export type SyncFd = (fd: number) => Promise<void>;

const fdatasyncAsync: SyncFd = (fd) => new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));

export class WalSync {
  readonly #path: string;
  readonly #sync: SyncFd;
  #fd = -1;
  #inflight: Promise<void> | null = null;
  #queued: Promise<void> | null = null;

  /** `walPath`: the database's `-wal` file, which must exist (the store opened it in WAL mode). */
  constructor(walPath: string, sync: SyncFd = fdatasyncAsync) {
    this.#path = walPath;
    this.#sync = sync;
    this.#fd = openSync(walPath, 'r');
  }

  /** Resolves when everything written to the WAL before this call is on disk. In call order. */
  sync(): Promise<void> {
    if (!this.#inflight) return (this.#inflight = this.#start());
    // The sync in flight may have begun before this caller's commit: one more, shared by all
    // who ask until it starts.
    return (this.#queued ??= this.#inflight.then(
      () => this.#startQueued(),
      () => this.#startQueued(),
    ));
  }

  #startQueued(): Promise<void> {
    this.#queued = null;
    return (this.#inflight = this.#start());
  }

  #start(): Promise<void> {
    const p = this.#sync(this.#currentFd()).finally(() => {
      if (this.#inflight === p) this.#inflight = null;
    });
    return p;
  }

  /** Our descriptor, reopened if SQLite replaced the file (it truncates in place, but be sure). */
  #currentFd(): number {
    if (statSync(this.#path).ino !== fstatSync(this.#fd).ino) {
      closeSync(this.#fd);
      this.#fd = openSync(this.#path, 'r');
    }
    return this.#fd;
  }

  /** After the database is closed (no descriptor of the database file itself is ever opened here). */
  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}
