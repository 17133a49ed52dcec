// The state store's typed errors. Each names the database file, so an operator reading a failed
// start or a fail-stop knows which data dir is meant.
import { MusterError } from '../../shared/errors/index.ts';

/** Another coordinator (process or connection) holds the database. Refused at open. */
export class StoreInUseError extends MusterError {
  readonly file: string;
  /** The holder's pid as it wrote it next to the database; undefined when unreadable. */
  readonly pid: number | undefined;
  constructor(file: string, pid: number | undefined, options?: { cause?: unknown }) {
    super(
      'failed-precondition',
      'data-dir-in-use',
      `the state database ${file} is in use by ${pid === undefined ? 'another process (pid unknown)' : `pid ${pid}`}; ` +
        'stop that coordinator first, or give this one its own --data-dir',
      options,
    );
    this.file = file;
    this.pid = pid;
  }
}

/**
 * A commit could not be made durable (disk full, I/O error). Every transaction of the batch is
 * rejected with this error, and so is every later one: the store is fail-stop, because its
 * callers' memory can no longer be trusted to match the disk.
 */
export class StoreCommitError extends MusterError {
  readonly file: string;
  constructor(file: string, cause: unknown) {
    super(
      'unavailable',
      'store-commit-failed',
      `could not commit to the state database ${file}: ${cause instanceof Error ? cause.message : String(cause)}; ` +
        'the coordinator must restart (check free disk space and the disk itself)',
      { cause },
    );
    this.file = file;
  }
}

/** The store was used after close(). A bug in the caller's shutdown order. */
export class StoreClosedError extends MusterError {
  constructor(file: string) {
    super('failed-precondition', 'store-closed', `the state database ${file} is closed`);
  }
}
