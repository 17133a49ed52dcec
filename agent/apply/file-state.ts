// What is on the node at a path: bytes and mode, or nothing. The apply engine reads it once per
// file per pass, to decide what changes and to restore it if the pass fails.
import { readFile, stat } from 'node:fs/promises';

export interface OnDisk {
  bytes: Buffer;
  mode: number;
}

export async function readOnDisk(path: string): Promise<OnDisk | null> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTFILE' });
    return { bytes: await readFile(path), mode: st.mode & 0o7777 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
