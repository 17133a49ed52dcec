// The node applier: one pass puts a rendered node on disk and makes the services notice.
//
//   manifest := old ∪ new  ->  change set (write what differs, remove what is no longer rendered;
//   all or nothing)  ->  manifest := new  ->  actions of what changed (daemon-reload, enable,
//   sysctl, modules, restarts) through the ServiceManager
//
// The same pass is the drift repair: run again with the same files, anything it finds to change
// was changed by someone else, and is reported as drift. `diff` is the dry run.
import { createTwoFilesPatch } from 'diff';
import type { FileSpec } from '../../shared/render/types.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { resolveUnderRoot } from '../../shared/fs/node-root.ts';
import { applyChangeSet, onDiskHash, type AppliedFile, type ChangeSetOptions } from './transaction.ts';
import { OwnedFiles } from './owned-files.ts';
import { actionsFor, describeAction } from './actions.ts';
import type { ServiceManager } from './services.ts';
import { readOnDisk } from './file-state.ts';
import { wantedContent } from './merge.ts';

export interface NodeApplyResult {
  files: AppliedFile[];
  /** Paths written by this pass. */
  changed: string[];
  /** Paths removed because nothing renders them now. */
  removed: string[];
  /** Paths no longer rendered that were left in place (changed since muster wrote them, a link, ...), with why. */
  kept: string[];
  /** What ran, as commands ("systemctl restart kubelet.service"). */
  actions: string[];
  /**
   * Files someone else changed since muster last wrote them (content, mode, or deleted), which
   * this pass put back: drift. Files changed because the rendering changed are not drift.
   */
  drift: string[];
}

export interface NodeApplierOptions {
  root: string;
  stateDir: string;
  log: Logger;
  services: ServiceManager;
}

export class NodeApplier {
  readonly #o: NodeApplierOptions;
  readonly #owned: OwnedFiles;

  constructor(o: NodeApplierOptions) {
    this.#o = o;
    this.#owned = new OwnedFiles(o.stateDir);
  }

  get services(): ServiceManager {
    return this.#o.services;
  }

  /**
   * Applies `files` (and keeps `alsoOwned`, written by someone else in the agent, e.g. the cluster
   * PKI, in the manifest) and runs what their changes set off, plus `restart` units (components
   * whose certificates changed). Throws ApplyError with everything restored when a file fails.
   */
  async apply(
    files: readonly FileSpec[],
    o: {
      alsoOwned?: readonly string[];
      /** Of `alsoOwned`, those that just changed: only they (and any without a recorded hash) are hashed again. @default all */
      alsoOwnedChanged?: ReadonlySet<string>;
      restart?: readonly string[];
    } & Pick<ChangeSetOptions, 'beforeStep'> = {},
  ): Promise<NodeApplyResult> {
    const want = new Set([...files.map((f) => f.path), ...(o.alsoOwned ?? [])]);
    const blocks = new Set(files.filter((f) => f.merge === 'managed-block').map((f) => f.path));
    const before = await this.#owned.load();
    const stale = before.paths.filter((p) => !want.has(p));
    // A shared file (/etc/hosts) no longer rendered loses muster's block, never the file.
    const emptied = stale.filter((p) => before.blocks.has(p)).map((path): FileSpec => ({ path, mode: 0o644, content: '', merge: 'managed-block' }));
    const r = await applyChangeSet(this.#o.root, [...files, ...emptied], {
      remove: stale.filter((p) => !before.blocks.has(p)),
      written: before.written,
      pending: before.pending,
      // Widened before the first write, with what is there and what is about to be: a pass killed
      // half-way leaves every file it may have written listed with a hash a later removal accepts.
      // A file holding what an earlier killed pass was about to write is muster's: that becomes
      // its `written`, as this pass's `pending` takes the slot.
      beforeWrites: (next, now) => {
        const written = new Map(before.written);
        for (const [p, h] of now) if (h !== null && (h === before.written.get(p) || h === before.pending.get(p))) written.set(p, h);
        return this.#owned.save([...before.paths, ...want], [...before.blocks, ...blocks], written, new Map([...before.pending, ...next]));
      },
      beforeStep: o.beforeStep,
    });
    // Files written elsewhere (the PKI) keep the hash recorded last time unless they just changed:
    // a removal later must recognise them as muster's, and re-reading them every pass costs.
    const also = o.alsoOwned ?? [];
    const rehash = also.filter((p) => !o.alsoOwnedChanged || o.alsoOwnedChanged.has(p) || !before.written.has(p));
    const unchangedAlso = new Map(also.filter((p) => !rehash.includes(p)).map((p) => [p, before.written.get(p)!]));
    await this.#owned.save(want, blocks, new Map([...r.hashes, ...unchangedAlso, ...(await this.#hashes(rehash))]));
    const kept = r.kept.map((k) => `${k.path} (${k.reason})`);
    if (kept.length) this.#o.log.warn(`left ${kept.length} file(s) the node no longer needs in place, and no longer owns them: ${kept.join('; ')}; remove them by hand if they are muster's`);
    const drift = files.filter((f) => {
      const last = before.written.get(f.path);
      const now = r.before.get(f.path);
      return last !== undefined && now !== last && now !== before.pending.get(f.path);
    }).map((f) => f.path);
    const actions = actionsFor(r.changed, o.restart);
    const ran: string[] = [];
    for (const a of actions) {
      await this.#o.services.run(a);
      ran.push(describeAction(a));
    }
    if (r.removed.length) this.#o.log.info(`removed ${r.removed.length} file(s) the node no longer needs: ${r.removed.join(', ')}`);
    return { files: r.files, changed: r.changed.map((f) => f.path), removed: r.removed, kept, actions: ran, drift };
  }

  /** Hashes of files written elsewhere in the agent (alsoOwned), as they are now: what a later removal checks. */
  async #hashes(paths: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const p of paths) {
      const d = await readOnDisk(await resolveUnderRoot(this.#o.root, p)).catch(() => null);
      if (d && d.link === undefined) out.set(p, onDiskHash(d));
    }
    return out;
  }

  /** Removes every file muster owns (decommissioning): `removed`, and `kept` -- files changed since muster wrote them, with why. */
  async removeAll(): Promise<{ removed: string[]; kept: string[] }> {
    const owned = await this.#owned.load();
    const emptied = owned.paths.filter((p) => owned.blocks.has(p)).map((path): FileSpec => ({ path, mode: 0o644, content: '', merge: 'managed-block' }));
    const r = await applyChangeSet(this.#o.root, emptied, { remove: owned.paths.filter((p) => !owned.blocks.has(p)), written: owned.written, pending: owned.pending });
    await this.#owned.save([]);
    return { removed: [...r.removed, ...r.changed.map((f) => `${f.path} (muster's block)`)], kept: r.kept.map((k) => `${k.path} (${k.reason})`) };
  }

  /** The dry run: a unified diff per file that would change (secrets: that they differ, not how). */
  async diff(files: readonly FileSpec[], alsoOwned: readonly string[] = []): Promise<{ path: string; diff: string }[]> {
    const out: { path: string; diff: string }[] = [];
    for (const f of files) {
      const cur = await readOnDisk(await resolveUnderRoot(this.#o.root, f.path));
      if (cur?.link !== undefined) {
        out.push({ path: f.path, diff: `${f.path}: a symbolic link (to ${cur.link}) would be replaced by muster's file\n` });
        continue;
      }
      const old = cur ? cur.bytes.toString('utf8') : null;
      const next = wantedContent(f, old);
      const modeChange = cur && cur.mode !== f.mode && f.merge !== 'managed-block' ? `mode ${cur.mode.toString(8)} -> ${f.mode.toString(8)}\n` : '';
      if (old === next && !modeChange) continue;
      if (f.secret) {
        out.push({ path: f.path, diff: `${f.path}: ${old === null ? 'would be created' : 'differs'} (secret: content not shown)\n${modeChange}` });
        continue;
      }
      const patch = old === next ? '' : createTwoFilesPatch(old === null ? '/dev/null' : f.path, f.path, old ?? '', next, '', '', { context: 3 });
      out.push({ path: f.path, diff: `${modeChange}${patch}` });
    }
    const want = new Set([...files.map((f) => f.path), ...alsoOwned]);
    const owned = await this.#owned.load();
    for (const p of owned.paths) {
      if (want.has(p)) continue;
      const cur = await resolveUnderRoot(this.#o.root, p).then(readOnDisk).catch(() => undefined);
      if (cur === null) continue;
      const removable = cur !== undefined && cur.link === undefined && [owned.written.get(p), owned.pending.get(p)].includes(onDiskHash(cur));
      out.push({
        path: p,
        diff: owned.blocks.has(p) ? `${p}: muster's block would be removed (the rest of the file stays)\n`
          : removable ? `${p}: would be removed (no longer rendered)\n`
          : `${p}: no longer rendered, but would be left in place: it is not what muster wrote there\n`,
      });
    }
    return out;
  }
}
