// A node root: the directory the agent treats as the node's "/". Every path the agent writes
// goes through here so that `--root DIR` (tests, the demo) can never escape DIR.
import { join, normalize, isAbsolute, sep } from 'node:path';

export function underRoot(root: string, nodePath: string): string {
  const rel = normalize(nodePath.replace(/^\/+/, ''));
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new Error(`path ${JSON.stringify(nodePath)} leaves the node root`);
  }
  return join(root, rel);
}
