// What is on the node at a path: bytes and mode, a symbolic link, or nothing. The apply engine
// reads it once per file per pass, to decide what changes and to restore it if the pass fails.
// A link is never followed: an owned path swapped for a link to /etc/shadow must not have the
// target read into a diff, copied back by a rollback, or chmodded; the pass replaces the link.
import { lstat, readFile, readlink } from 'node:fs/promises';

export interface OnDisk {
  bytes: Buffer;
  mode: number;
  /** The target when the path is a symbolic link (bytes are then empty and mode 0). */
  link?: string;
}

export async function readOnDisk(path: string): Promise<OnDisk | null> {
  try {
    const st = await lstat(path);
    if (st.isSymbolicLink()) return { bytes: Buffer.alloc(0), mode: 0, link: await readlink(path) };
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTFILE' });
    return { bytes: await readFile(path), mode: st.mode & 0o7777 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
