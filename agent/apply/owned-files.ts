// The manifest of files muster owns on a node, in the agent's state dir. It is what lets a role
// that is taken away leave nothing behind (files owned before and not rendered now are removed)
// and what decommissioning removes -- exactly what muster wrote, nothing else. Before a pass
// writes anything the manifest is widened to old + new, and narrowed to new after it: a crash at
// any point leaves a manifest that lists every file muster may have written.
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import { AGENT_STATE } from '../../shared/constants.ts';

interface ManifestFile {
  version: 1;
  /** Absolute paths on the node, sorted. */
  paths: string[];
}

export class OwnedFiles {
  readonly #path: string;
  readonly #dir: string;

  constructor(stateDir: string) {
    this.#dir = stateDir;
    this.#path = join(stateDir, AGENT_STATE.ownedFiles);
  }

  async load(): Promise<string[]> {
    try {
      const m = JSON.parse(await readFile(this.#path, 'utf8')) as ManifestFile;
      return Array.isArray(m.paths) ? m.paths.filter((p) => typeof p === 'string' && p.startsWith('/')) : [];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`cannot read the list of files muster owns (${this.#path}): ${(err as Error).message}; remove it and the next pass writes it again (stale files from before are then left in place)`);
    }
  }

  async save(paths: Iterable<string>): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const m: ManifestFile = { version: 1, paths: [...new Set(paths)].sort() };
    await writeFileAtomic(this.#path, `${JSON.stringify(m, null, 2)}\n`, { mode: 0o600 });
  }
}
