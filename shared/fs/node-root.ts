// A node root: the directory the agent treats as the node's "/". Every path the agent writes
// goes through here so that `--root DIR` (tests, the demo) can never escape DIR.
import { realpath } from 'node:fs/promises';
import { dirname, join, normalize, isAbsolute, sep } from 'node:path';

export function underRoot(root: string, nodePath: string): string {
  const rel = normalize(nodePath.replace(/^\/+/, ''));
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new Error(`path ${JSON.stringify(nodePath)} leaves the node root`);
  }
  return join(root, rel);
}

/**
 * underRoot, and the path's nearest existing directory really is inside the root: a directory of
 * the tree swapped for a symbolic link (ROOT/etc/kubernetes -> /etc) would otherwise carry
 * writes and removals outside it. With root "/" every path is inside, links and all.
 */
export async function resolveUnderRoot(root: string, nodePath: string): Promise<string> {
  const abs = underRoot(root, nodePath);
  // A root not made yet holds no links; writing makes it (and everything below) a real directory.
  const realRoot = await realpath(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (realRoot === null || realRoot === sep) return abs;
  let dir = dirname(abs);
  for (;;) {
    try {
      const real = await realpath(dir);
      if (real !== realRoot && !real.startsWith(realRoot + sep)) {
        throw new Error(`path ${JSON.stringify(nodePath)} leaves the node root through a symbolic link (${dir} is ${real})`);
      }
      return abs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dir === dirname(dir)) throw err;
      dir = dirname(dir);
    }
  }
}
