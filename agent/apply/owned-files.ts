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
  /** Of those, files shared with the OS where muster owns only its managed block (/etc/hosts). */
  blocks?: string[];
  /** What muster last wrote to each rendered file (content and mode hash): a file that differs was changed by someone else. */
  written?: Record<string, string>;
  /**
   * What the pass in progress is about to write (set before its first write, cleared after): a
   * pass killed half-way leaves files that hold either `written` or `pending`, both muster's.
   */
  pending?: Record<string, string>;
}

export interface Owned {
  paths: string[];
  /** Files where only muster's block is muster's: "removing" one removes the block, never the file. */
  blocks: Set<string>;
  written: Map<string, string>;
  pending: Map<string, string>;
}

export class OwnedFiles {
  readonly #path: string;
  readonly #dir: string;

  constructor(stateDir: string) {
    this.#dir = stateDir;
    this.#path = join(stateDir, AGENT_STATE.ownedFiles);
  }

  async load(): Promise<Owned> {
    try {
      const m = JSON.parse(await readFile(this.#path, 'utf8')) as ManifestFile;
      const ok = (l: unknown) => (Array.isArray(l) ? l.filter((p): p is string => typeof p === 'string' && p.startsWith('/')) : []);
      const hashes = (r: Record<string, unknown> | undefined) => new Map(Object.entries(r ?? {}).filter((e): e is [string, string] => e[0].startsWith('/') && typeof e[1] === 'string'));
      return { paths: ok(m.paths), blocks: new Set(ok(m.blocks)), written: hashes(m.written), pending: hashes(m.pending) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { paths: [], blocks: new Set(), written: new Map(), pending: new Map() };
      throw new Error(`cannot read the list of files muster owns (${this.#path}): ${(err as Error).message}; remove it and the next pass writes it again (stale files from before are then left in place)`);
    }
  }

  async save(paths: Iterable<string>, blocks: Iterable<string> = [], written: ReadonlyMap<string, string> = new Map(), pending: ReadonlyMap<string, string> = new Map()): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const list = [...new Set(paths)].sort();
    const keep = new Set(list);
    const record = (h: ReadonlyMap<string, string>) => Object.fromEntries([...h].filter(([p]) => keep.has(p)).sort(([a], [b]) => a.localeCompare(b)));
    const m: ManifestFile = { version: 1, paths: list, blocks: [...new Set(blocks)].sort(), written: record(written), ...(pending.size ? { pending: record(pending) } : {}) };
    await writeFileAtomic(this.#path, `${JSON.stringify(m, null, 2)}\n`, { mode: 0o600 });
  }
}
