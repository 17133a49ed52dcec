// The one way muster writes a file it owns, on the agent and the coordinator alike
// (after npm's write-file-atomic): temp file in the same directory -> write -> fsync ->
// chmod -> rename -> fsync the directory, temp file removed on any failure. Writes to one path
// are queued so two callers never interleave. If the file already holds exactly these bytes
// and mode, nothing is written and `changed` is false; if only its mode differs, it is chmodded
// in place (the bytes are already right, so no rewrite) and `changed` is true, because callers
// use `changed` to decide whether to restart something, and a key readable by all is a change.
import { open, rename, rm, readFile, lstat, mkdir, chmod, readdir } from 'node:fs/promises';
import { dirname, basename, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface WriteResult {
  path: string;
  changed: boolean;
}

export interface AtomicWriteOptions {
  /** File mode, default 0o644. Keys are written with 0o600. */
  mode?: number;
  /** Create missing parent directories with this mode (default 0o755). */
  dirMode?: number;
}

const queues = new Map<string, Promise<unknown>>();

export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<WriteResult> {
  const prev = queues.get(path) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(() => doWrite(path, data, options));
  queues.set(path, next);
  void next.finally(() => {
    if (queues.get(path) === next) queues.delete(path);
  }).catch(() => undefined);
  return next;
}

async function doWrite(path: string, data: string | Uint8Array, options: AtomicWriteOptions): Promise<WriteResult> {
  const mode = options.mode ?? 0o644;
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const current = await compare(path, bytes, mode);
  if (current === 'same') return { path, changed: false };
  if (current === 'mode-differs') {
    await chmod(path, mode);
    return { path, changed: true };
  }

  const dir = dirname(path);
  // A directory made here is durable only once its parent's entry for it is: fsync each parent
  // from the first directory made down to the file's own (which is synced after the rename).
  const first = await mkdir(dir, { recursive: true, mode: options.dirMode ?? 0o755 });
  if (first) for (let d = first; d !== dir; d = join(d, relative(d, dir).split(sep)[0]!)) await syncDir(dirname(d));
  if (first) await syncDir(dirname(dir));
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let renamed = false;
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(bytes);
      await fh.chmod(mode); // open() honours the umask; the final mode must not
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    renamed = true;
    await syncDir(dir);
  } finally {
    if (!renamed) await rm(tmp, { force: true });
  }
  return { path, changed: true };
}

/** How the file at `path` differs from the wanted bytes and mode. A symbolic link is replaced, never followed (nor chmodded through). */
async function compare(path: string, bytes: Buffer, mode: number): Promise<'same' | 'mode-differs' | 'content-differs'> {
  try {
    const st = await lstat(path);
    if (!st.isFile() || st.size !== bytes.length) return 'content-differs';
    if (!(await readFile(path)).equals(bytes)) return 'content-differs';
    return (st.mode & 0o7777) === mode ? 'same' : 'mode-differs';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'content-differs';
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Removes temp files a killed writer left next to `path` (`.NAME.PID.HEX.tmp` of a process that
 * no longer runs). A crash between write and rename leaves the old file whole and such a temp
 * file behind; the next writer of the path sweeps it.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith('.tmp')) continue;
    const m = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(n.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    await rm(join(dir, n), { force: true });
    removed.push(join(dir, n));
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
