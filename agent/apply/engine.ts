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
import { underRoot } from '../../shared/fs/node-root.ts';
import { applyChangeSet, type AppliedFile, type ChangeSetOptions } from './transaction.ts';
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
  async apply(files: readonly FileSpec[], o: { alsoOwned?: readonly string[]; restart?: readonly string[] } & Pick<ChangeSetOptions, 'beforeStep'> = {}): Promise<NodeApplyResult> {
    const want = new Set([...files.map((f) => f.path), ...(o.alsoOwned ?? [])]);
    const blocks = new Set(files.filter((f) => f.merge === 'managed-block').map((f) => f.path));
    const before = await this.#owned.load();
    const stale = before.paths.filter((p) => !want.has(p));
    // A shared file (/etc/hosts) no longer rendered loses muster's block, never the file.
    const emptied = stale.filter((p) => before.blocks.has(p)).map((path): FileSpec => ({ path, mode: 0o644, content: '', merge: 'managed-block' }));
    const r = await applyChangeSet(this.#o.root, [...files, ...emptied], {
      remove: stale.filter((p) => !before.blocks.has(p)),
      // Widened only when something is written or removed: a pass that changes nothing leaves
      // the manifest as it is (the save below then finds the same bytes and writes nothing).
      beforeChanges: () => this.#owned.save([...before.paths, ...want], [...before.blocks, ...blocks]),
      beforeStep: o.beforeStep,
    });
    await this.#owned.save(want, blocks, r.hashes);
    const drift = files.filter((f) => {
      const last = before.written.get(f.path);
      return last !== undefined && r.before.get(f.path) !== last;
    }).map((f) => f.path);
    const actions = actionsFor(r.changed, o.restart);
    const ran: string[] = [];
    for (const a of actions) {
      await this.#o.services.run(a);
      ran.push(describeAction(a));
    }
    if (r.removed.length) this.#o.log.info(`removed ${r.removed.length} file(s) the node no longer needs: ${r.removed.join(', ')}`);
    return { files: r.files, changed: r.changed.map((f) => f.path), removed: r.removed, actions: ran, drift };
  }

  /** Removes every file muster owns (decommissioning); returns what was removed. */
  async removeAll(): Promise<string[]> {
    const owned = await this.#owned.load();
    const emptied = owned.paths.filter((p) => owned.blocks.has(p)).map((path): FileSpec => ({ path, mode: 0o644, content: '', merge: 'managed-block' }));
    const r = await applyChangeSet(this.#o.root, emptied, { remove: owned.paths.filter((p) => !owned.blocks.has(p)) });
    await this.#owned.save([]);
    return [...r.removed, ...r.changed.map((f) => `${f.path} (muster's block)`)];
  }

  /** The dry run: a unified diff per file that would change (secrets: that they differ, not how). */
  async diff(files: readonly FileSpec[], alsoOwned: readonly string[] = []): Promise<{ path: string; diff: string }[]> {
    const out: { path: string; diff: string }[] = [];
    for (const f of files) {
      const cur = await readOnDisk(underRoot(this.#o.root, f.path));
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
      if (want.has(p) || !(await readOnDisk(underRoot(this.#o.root, p)))) continue;
      out.push({ path: p, diff: owned.blocks.has(p) ? `${p}: muster's block would be removed (the rest of the file stays)\n` : `${p}: would be removed (no longer rendered)\n` });
    }
    return out;
  }
}
