// One change set as one unit: every file of an apply is read first, then written with the one
// atomic-write primitive (shared/fs/atomic-write.ts) in order, then the files the node no longer
// needs are removed. On any failure every file already touched is put back as it was (its bytes
// and mode, or removed if it did not exist), and the error names the file and the cause: a node
// is never left half on the new assignment. Each single write is atomic anyway (a crash leaves
// the old or the new file, never a torn one); the rollback covers the set.
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { removeStaleTemps, writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import { underRoot } from '../../shared/fs/node-root.ts';
import type { FileSpec } from '../../shared/render/types.ts';
import { readOnDisk, type OnDisk } from './file-state.ts';
import { wantedContent } from './merge.ts';

export interface AppliedFile {
  path: string;
  changed: boolean;
}

export class ApplyError extends Error {
  readonly path: string;
  constructor(path: string, cause: unknown, restored = '') {
    super(`cannot write ${path}: ${(cause as Error)?.message ?? cause}${restored}`, { cause });
    this.path = path;
  }
}

interface Planned {
  spec: FileSpec;
  abs: string;
  before: OnDisk | null;
  bytes: Buffer;
  mode: number;
  changed: boolean;
}

/**
 * Each directory's names, read once per change set: a stale temp file (a killed writer's
 * `.NAME.PID.HEX.tmp`) is looked for beside every file, and most files share a directory.
 */
type Listings = Map<string, Promise<string[]>>;

async function hasTempBeside(listings: Listings, abs: string): Promise<boolean> {
  const dir = dirname(abs);
  let names = listings.get(dir);
  if (!names) listings.set(dir, (names = readdir(dir).catch(() => [])));
  const prefix = `.${basename(abs)}.`;
  return (await names).some((n) => n.startsWith(prefix) && n.endsWith('.tmp'));
}

async function plan(root: string, spec: FileSpec, listings: Listings): Promise<Planned> {
  const abs = underRoot(root, spec.path);
  if (await hasTempBeside(listings, abs)) await removeStaleTemps(abs);
  const before = await readOnDisk(abs);
  const bytes = Buffer.from(wantedContent(spec, before ? before.bytes.toString('utf8') : null));
  // A file shared with the OS keeps its own mode; muster's files have the rendered one.
  const mode = spec.merge === 'managed-block' && before ? before.mode : spec.mode;
  const changed = !before || before.mode !== mode || !before.bytes.equals(bytes);
  return { spec, abs, before, bytes, mode, changed };
}

/** What a file holds, as the manifest records it: a hash of its bytes and mode. */
export function contentHash(bytes: Buffer, mode: number): string {
  return createHash('sha256').update(bytes).update(`\0${mode.toString(8)}`).digest('hex');
}

export interface ChangeSetResult {
  files: AppliedFile[];
  /** Each rendered file's hash after the pass (what it now holds). */
  hashes: Map<string, string>;
  /** Each rendered file's hash before the pass, or null when it did not exist. */
  before: Map<string, string | null>;
  /** Specs of the files this pass changed (their triggers are what runs next). */
  changed: FileSpec[];
  /** Paths removed because nothing renders them any more. */
  removed: string[];
}

export interface ChangeSetOptions {
  /** Paths (absolute on the node) to remove: owned before, not rendered now. */
  remove?: readonly string[];
  /** Called once before the first write or removal, when there is one (the manifest widening). */
  beforeChanges?: () => Promise<void>;
  /** Called before each write or removal, for crash tests. */
  beforeStep?: (path: string) => void | Promise<void>;
}

export async function applyChangeSet(root: string, specs: readonly FileSpec[], o: ChangeSetOptions = {}): Promise<ChangeSetResult> {
  const planned: Planned[] = [];
  const listings: Listings = new Map();
  for (const s of specs) {
    try {
      planned.push(await plan(root, s, listings));
    } catch (err) {
      throw new ApplyError(s.path, err);
    }
  }
  const undo: { abs: string; path: string; before: OnDisk | null }[] = [];
  const rollback = async (): Promise<string> => {
    const failed: string[] = [];
    for (const u of undo.reverse()) {
      try {
        if (u.before) await writeFileAtomic(u.abs, u.before.bytes, { mode: u.before.mode });
        else await rm(u.abs, { force: true });
      } catch {
        failed.push(u.path);
      }
    }
    if (!undo.length) return '';
    return failed.length ? `; restoring ${failed.join(', ')} failed too` : `; the ${undo.length} file(s) changed before it were restored`;
  };
  if (planned.some((p) => p.changed) || o.remove?.length) await o.beforeChanges?.();
  for (const p of planned) {
    if (!p.changed) continue;
    try {
      await o.beforeStep?.(p.spec.path);
      undo.push({ abs: p.abs, path: p.spec.path, before: p.before });
      await writeFileAtomic(p.abs, p.bytes, { mode: p.mode });
    } catch (err) {
      throw new ApplyError(p.spec.path, err, await rollback());
    }
  }
  const removed: string[] = [];
  for (const path of o.remove ?? []) {
    const abs = underRoot(root, path);
    try {
      const before = await readOnDisk(abs);
      if (!before) continue;
      await o.beforeStep?.(path);
      undo.push({ abs, path, before });
      await rm(abs);
      removed.push(path);
    } catch (err) {
      throw new ApplyError(path, err, await rollback());
    }
  }
  return {
    files: planned.map((p) => ({ path: p.spec.path, changed: p.changed })),
    hashes: new Map(planned.map((p) => [p.spec.path, contentHash(p.bytes, p.mode)])),
    before: new Map(planned.map((p) => [p.spec.path, p.before ? contentHash(p.before.bytes, p.before.mode) : null])),
    changed: planned.filter((p) => p.changed).map((p) => p.spec),
    removed,
  };
}

/** A change set without removals (the cluster PKI's files). */
export async function applyFiles(root: string, files: readonly FileSpec[]): Promise<AppliedFile[]> {
  return (await applyChangeSet(root, files)).files;
}
