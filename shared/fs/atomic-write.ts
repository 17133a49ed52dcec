// The one way muster writes a file it owns, on the agent and the coordinator alike
// (after npm's write-file-atomic): temp file in the same directory -> write -> fsync ->
// chmod -> rename -> fsync the directory, temp file removed on any failure. Writes to one path
// are queued so two callers never interleave. If the file already holds exactly these bytes
// and mode, nothing is written and `changed` is false.
import { open, rename, rm, readFile, stat, mkdir, chmod } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
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
  if (await sameContent(path, bytes, mode)) return { path, changed: false };

  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: options.dirMode ?? 0o755 });
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

async function sameContent(path: string, bytes: Buffer, mode: number): Promise<boolean> {
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size !== bytes.length) return false;
    const current = await readFile(path);
    if (!current.equals(bytes)) return false;
    if ((st.mode & 0o7777) !== mode) {
      await chmod(path, mode);
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
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
