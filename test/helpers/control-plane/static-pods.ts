// What the kubelet does with ROOT/etc/kubernetes/manifests, for one node of the test network: every
// manifest there runs as processes (test/helpers/static-pod-runner.ts) inside the node's
// namespace, and a manifest whose content changes -- a renewed certificate changes its
// muster.io/certificates-hash annotation -- is stopped and started again, as the kubelet restarts a
// static pod whose manifest changed. A removed manifest stops its pod. Changes are noticed by
// fs.watch on the directory (with a rescan each second as the kubelet's own file source does, at
// a shorter period, in case an event is lost).
import { readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { runStaticPod, type RunningPod } from '../static-pod-runner.ts';
import type { ProgramTable } from '../static-pod-spec.ts';

const MANIFESTS = 'etc/kubernetes/manifests';
const RESCAN_MS = 1_000;

export interface PodStart {
  pod: string;
  at: number;
  /** How many times this pod has been started (1 = first). */
  generation: number;
}

export interface NodePods {
  readonly node: string;
  /** Running pods by name (the manifest's metadata.name without the node suffix: kube-apiserver...). */
  readonly pods: ReadonlyMap<string, RunningPod>;
  /** Every start, in order. */
  readonly starts: readonly PodStart[];
  /** Resolves with the pod once one of that name runs whose start came after `after` (ms since epoch). */
  started(name: string, after?: number, ms?: number): Promise<RunningPod>;
  /** Errors met when starting a manifest (a refusal, a program that would not start). */
  readonly errors: readonly string[];
  /**
   * How long a running pod goes on after its manifest changed before it is replaced: 0 by
   * default; the kubelet can be that late (its file source rescans every fileCheckFrequency,
   * 20 s, when an inotify event is not acted on at once). Tests of what an agent waits for set it.
   */
  lagMs: number;
  stop(): Promise<void>;
}

export function superviseStaticPods(o: { node: string; root: string; netns: string; programs: ProgramTable }): NodePods {
  const dir = join(o.root, MANIFESTS);
  const pods = new Map<string, RunningPod>();
  const content = new Map<string, string>();
  const starts: PodStart[] = [];
  const errors: string[] = [];
  const waiters = new Set<() => void>();
  let stopped = false;
  let lagMs = 0;
  let busy: Promise<void> = Promise.resolve();

  const podName = (file: string) => file.replace(/\.yaml$/, '');
  const sync = async () => {
    let files: string[];
    try { files = readdirSync(dir).filter((f) => f.endsWith('.yaml')); } catch { files = []; }
    const seen = new Set<string>();
    for (const f of files) {
      if (stopped) return;
      const name = podName(f);
      seen.add(name);
      let text: string;
      try { text = readFileSync(join(dir, f), 'utf8'); } catch { continue; }
      if (content.get(name) === text) continue;
      const old = pods.get(name);
      if (old && lagMs > 0) await new Promise((r) => setTimeout(r, lagMs));
      if (old) {
        pods.delete(name);
        await old.stop();
      }
      content.set(name, text);
      try {
        const pod = await runStaticPod(join(dir, f), { root: o.root, programs: o.programs, netns: o.netns });
        pods.set(name, pod);
        starts.push({ pod: name, at: Date.now(), generation: starts.filter((s) => s.pod === name).length + 1 });
      } catch (err) {
        errors.push(`${o.node} ${name}: ${(err as Error).message}`);
      }
    }
    for (const [name, pod] of pods) {
      if (!seen.has(name)) {
        pods.delete(name);
        content.delete(name);
        await pod.stop();
      }
    }
    for (const w of waiters) w();
  };
  const schedule = () => {
    busy = busy.then(sync, sync);
  };
  let watcher: FSWatcher | undefined;
  const tryWatch = () => {
    if (watcher) return;
    try { watcher = watch(dir, () => schedule()); } catch { /* not there yet */ }
  };
  const timer = setInterval(() => {
    tryWatch();
    schedule();
  }, RESCAN_MS);
  tryWatch();
  schedule();

  return {
    node: o.node,
    pods,
    starts,
    errors,
    get lagMs() {
      return lagMs;
    },
    set lagMs(ms: number) {
      lagMs = ms;
    },
    started(name, after = 0, ms = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const s = [...starts].reverse().find((x) => x.pod === name);
          const p = pods.get(name);
          if (s && s.at >= after && p) return done(() => resolve(p));
          const e = errors.find((x) => x.startsWith(`${o.node} ${name}:`));
          if (e) return done(() => reject(new Error(e)));
        };
        const t = setTimeout(() => done(() => reject(new Error(`${o.node}: static pod ${name} not started within ${ms} ms (running: ${[...pods.keys()].join(', ') || 'none'})`))), ms);
        const done = (f: () => void) => {
          clearTimeout(t);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      watcher?.close();
      await busy.catch(() => {});
      await Promise.all([...pods.values()].map((p) => p.stop()));
      pods.clear();
    },
  };
}
