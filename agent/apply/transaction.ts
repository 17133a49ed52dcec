// One change set as one unit: every file of an apply is read first, then written with the one
// atomic-write primitive (shared/fs/atomic-write.ts) in order, then the files the node no longer
// needs are removed. On any failure every file already touched is put back as it was (its bytes
// and mode, or removed if it did not exist), and the error names the file and the cause: a node
// is never left half on the new assignment. Each single write is atomic anyway (a crash leaves
// the old or the new file, never a torn one); the rollback covers the set.
import { readdir, rm, symlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { removeStaleTemps, writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import { resolveUnderRoot } from '../../shared/fs/node-root.ts';
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
  const abs = await resolveUnderRoot(root, spec.path);
  if (await hasTempBeside(listings, abs)) await removeStaleTemps(abs);
  const before = await readOnDisk(abs);
  // The rest of a shared file lives in the link's target, which is not muster's to replace.
  if (before?.link !== undefined && spec.merge === 'managed-block') throw new Error(`${spec.path} is a symbolic link (to ${before.link}); muster edits its block only in a regular file`);
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

/** The hash of what is on disk; a link hashes as its target's name, never as what it points at. */
export function onDiskHash(d: OnDisk): string {
  return d.link !== undefined ? createHash('sha256').update(`link\0${d.link}`).digest('hex') : contentHash(d.bytes, d.mode);
}

/** Puts a path back as it was before the pass: its bytes and mode, its link, or nothing. */
async function restore(abs: string, before: OnDisk | null): Promise<void> {
  if (before?.link !== undefined) {
    await rm(abs, { force: true });
    await symlink(before.link, abs);
  } else if (before) await writeFileAtomic(abs, before.bytes, { mode: before.mode });
  else await rm(abs, { force: true });
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
  /** Paths to remove that were left in place, each with why (`remove` rules in ChangeSetOptions). */
  kept: { path: string; reason: string }[];
}

export interface ChangeSetOptions {
  /**
   * Paths (absolute on the node) to remove: owned before, not rendered now. Only a regular file
   * that still holds what muster last wrote (its hash in `written`) is removed; anything else --
   * no hash recorded, changed since, a link, a path outside the root -- is left and reported in
   * `kept`: an entry in a tampered or stale manifest never deletes someone else's file.
   */
  remove?: readonly string[];
  /** What muster last wrote to each path (OwnedFiles' `written` and `pending`), for the `remove` rule. */
  written?: ReadonlyMap<string, string>;
  pending?: ReadonlyMap<string, string>;
  /** Called once every file is planned and before the first write or removal, when there is one: the hash each rendered file will have, and has now (null: absent). */
  beforeWrites?: (next: ReadonlyMap<string, string>, now: ReadonlyMap<string, string | null>) => Promise<void>;
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
  const hashes = new Map(planned.map((p) => [p.spec.path, contentHash(p.bytes, p.mode)]));
  const before = new Map(planned.map((p) => [p.spec.path, p.before ? onDiskHash(p.before) : null]));
  // Only a pass that will write or remove something widens the manifest: a pass with nothing to
  // change leaves it as it is (no write, no fsync).
  if (planned.some((p) => p.changed) || (o.remove?.length ?? 0) > 0) await o.beforeWrites?.(hashes, before);
  const undo: { abs: string; path: string; before: OnDisk | null }[] = [];
  const rollback = async (): Promise<string> => {
    const failed: string[] = [];
    for (const u of undo.reverse()) {
      try {
        await restore(u.abs, u.before);
      } catch {
        failed.push(u.path);
      }
    }
    if (!undo.length) return '';
    return failed.length ? `; restoring ${failed.join(', ')} failed too` : `; the ${undo.length} file(s) changed before it were restored`;
  };
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
  const kept: { path: string; reason: string }[] = [];
  for (const path of o.remove ?? []) {
    let abs: string;
    let before: OnDisk | null;
    try {
      abs = await resolveUnderRoot(root, path);
      // A writer killed while writing this file (a generation that still had it) left its temp
      // file beside it; the file going away must not leave that behind for good.
      if (await hasTempBeside(listings, abs)) await removeStaleTemps(abs);
      before = await readOnDisk(abs);
    } catch (err) {
      kept.push({ path, reason: (err as Error).message });
      continue;
    }
    if (!before) continue;
    const last = o.written?.get(path) ?? o.pending?.get(path);
    const hash = before.link === undefined ? onDiskHash(before) : '';
    if (before.link !== undefined || last === undefined || (hash !== o.written?.get(path) && hash !== o.pending?.get(path))) {
      kept.push({ path, reason: before.link !== undefined ? `it is a symbolic link (to ${before.link})` : last === undefined ? 'muster has no record of what it wrote there' : 'it changed since muster wrote it' });
      continue;
    }
    try {
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
    hashes,
    before,
    changed: planned.filter((p) => p.changed).map((p) => p.spec),
    removed,
    kept,
  };
}

/** A change set without removals (the cluster PKI's files). */
export async function applyFiles(root: string, files: readonly FileSpec[]): Promise<AppliedFile[]> {
  return (await applyChangeSet(root, files)).files;
}
