// Runs a static pod manifest the way the kubelet would, as one process on the test machine: the
// container's command and args with every path mapped to its hostPath inside the node root, the
// manifest's environment, the probes polled with the manifest's timings. Issue 13's proof that a
// rendered control plane boots needs exactly what the kubelet would run, so what cannot be
// reproduced is refused (StaticPodRefused, from static-pod-spec.ts, which also lists what is ignored).
//
//   const pod = await runStaticPod(join(root, 'etc/kubernetes/manifests/etcd.yaml'), { root, programs: { 'registry.k8s.io/etcd': etcdProgram('etcd') } });
//   await pod.ready();   // the manifest's own startup then readiness probe
//   await pod.stop();    // SIGTERM, then SIGKILL after the pod's grace period
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { createInterface } from 'node:readline';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { processSpec, StaticPodRefused, type HttpProbeSpec, type ProcessSpec, type ProgramTable } from './static-pod-spec.ts';
import { httpProbe, type HttpProbeTarget, type ProbeResult } from './static-pod-probe.ts';

export { StaticPodRefused } from './static-pod-spec.ts';

export interface StaticPodOptions {
  /** The node root: hostPath /x is root/x. */
  root: string;
  /** Program per image name, e.g. { 'registry.k8s.io/etcd': etcdProgram('etcd') }; see ProgramTable. */
  programs: ProgramTable;
  /** Extra environment the test adds (not the manifest's; a name the manifest sets is refused). */
  env?: Record<string, string>;
  /** An existing network namespace (`ip netns add NAME`) to run the process, and its probes, in. */
  netns?: string;
  /**
   * Bound on ready(). @default the kubelet's own allowance: the startup probe's initial delay plus
   * failureThreshold periods, plus the readiness (or liveness) probe's (4 min 20 s for kubeadm's pods).
   */
  readyTimeoutMs?: number;
}

export interface PodExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningPod {
  readonly name: string;
  readonly pid: number;
  /** What was run: program, mapped args, env, probes. */
  readonly spec: ProcessSpec;
  /** stdout and stderr as they came, the last LOG_KEEP characters. */
  readonly logs: string;
  /** Settles when the process ends, however it ends. */
  readonly exited: Promise<PodExit>;
  /** Resolves when the readiness probe (or, without one, the liveness or startup probe) succeeds; rejects with the log's tail if the process exits, the kubelet would restart it, or the bound passes. */
  ready(): Promise<void>;
  /** SIGTERM, then SIGKILL after the pod's terminationGracePeriodSeconds (the kubelet's order). */
  stop(): Promise<PodExit>;
  /** Node paths under read-only mounts whose file changed (or appeared, or went) since the start. */
  changedReadOnlyPaths(): string[];
}

/** The PATH a container image would set (the kubelet passes the image's env, the manifest's over it). */
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const LOG_KEEP = 2_000_000;
const LOG_TAIL_LINES = 40;
/** A read-only directory mount bigger than this is not watched (the PKI and CA dirs are small). */
const READ_ONLY_WALK_LIMIT = 5_000;

function loadManifest(m: string | object): unknown {
  if (typeof m !== 'string') return m;
  return parse(readFileSync(m, 'utf8'));
}

/** The kubelet's hostPath checks and creations (pkg/volume/hostpath), inside the node root. */
function prepareVolumes(s: ProcessSpec, root: string): void {
  for (const v of s.volumes) {
    const at = join(root, v.hostPath);
    let st: Stats | undefined;
    try { st = statSync(at); } catch { st = undefined; }
    switch (v.type) {
      case 'DirectoryOrCreate':
        if (!st) mkdirSync(at, { recursive: true, mode: 0o755 });
        else if (!st.isDirectory()) throw new StaticPodRefused(s.pod, `hostPath ${v.hostPath} (DirectoryOrCreate) exists and is not a directory`);
        break;
      case 'FileOrCreate':
        if (!st) {
          mkdirSync(posix.dirname(at), { recursive: true });
          writeFileSync(at, '', { mode: 0o644 });
        } else if (!st.isFile()) throw new StaticPodRefused(s.pod, `hostPath ${v.hostPath} (FileOrCreate) exists and is not a file`);
        break;
      // The kubelet would not start the container; it would wait for the path. A test that starts
      // a pod before its files are written has an ordering bug, so say so at once.
      case 'Directory':
        if (!st?.isDirectory()) throw new StaticPodRefused(s.pod, `hostPath ${v.hostPath} (Directory) is not a directory under ${root}`);
        break;
      case 'File':
        if (!st?.isFile()) throw new StaticPodRefused(s.pod, `hostPath ${v.hostPath} (File) is not a file under ${root}`);
        break;
      case '':
        break;
    }
  }
}

type Snapshot = Map<string, string>;

function fingerprint(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** Every file under the read-only mounts, by node path, with inode, size and mtime. */
function readOnlySnapshot(s: ProcessSpec, root: string): Snapshot {
  const out: Snapshot = new Map();
  const visit = (nodePath: string) => {
    if (out.size > READ_ONLY_WALK_LIMIT) return;
    let st: Stats;
    try { st = lstatSync(join(root, nodePath)); } catch { return; }
    if (st.isDirectory()) for (const e of readdirSync(join(root, nodePath)).sort()) visit(posix.join(nodePath, e));
    else out.set(nodePath, fingerprint(st));
  };
  for (const v of s.volumes) if (v.readOnly) visit(v.hostPath);
  return out;
}

function diffSnapshots(a: Snapshot, b: Snapshot): string[] {
  const changed = new Set<string>();
  for (const [p, f] of a) if (b.get(p) !== f) changed.add(p);
  for (const p of b.keys()) if (!a.has(p)) changed.add(p);
  return [...changed].sort();
}

/** The probe agent inside a namespace: requests answered in order over stdin/stdout lines. */
class NetnsProber {
  private child: ChildProcess | undefined;
  private waiting: ((r: ProbeResult) => void)[] = [];
  private readonly netns: string;
  constructor(netns: string) {
    this.netns = netns;
  }

  probe(t: HttpProbeTarget): Promise<ProbeResult> {
    if (!this.child) {
      const agent = new URL('./static-pod-probe.ts', import.meta.url).pathname;
      const child = spawn('ip', ['netns', 'exec', this.netns, process.execPath, agent], { stdio: ['pipe', 'pipe', 'inherit'] });
      createInterface({ input: child.stdout! }).on('line', (line) => this.waiting.shift()?.(JSON.parse(line) as ProbeResult));
      child.on('exit', (code) => {
        for (const w of this.waiting.splice(0)) w({ ok: false, detail: `probe agent in netns ${this.netns} exited (${code})` });
        this.child = undefined;
      });
      child.stdin!.on('error', () => {});
      this.child = child;
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child!.stdin!.write(`${JSON.stringify(t)}\n`);
    });
  }

  close(): void {
    this.child?.stdin?.end();
  }
}

function target(p: HttpProbeSpec): HttpProbeTarget {
  return { host: p.host, port: p.port, path: p.path, scheme: p.scheme, headers: p.headers, timeoutMs: p.timeoutMs };
}

/** The kubelet's allowance for getting ready: startup's, then readiness's (or liveness's). */
function defaultReadyBound(s: ProcessSpec): number {
  const budget = (p?: HttpProbeSpec) => (p ? p.initialDelayMs + p.failureThreshold * (p.periodMs + p.timeoutMs) : 0);
  return budget(s.probes.startup) + budget(s.probes.readiness ?? s.probes.liveness);
}

export async function runStaticPod(manifest: string | object, o: StaticPodOptions): Promise<RunningPod> {
  const s = processSpec(loadManifest(manifest), o.root, o.programs);
  const clash = Object.keys(o.env ?? {}).filter((k) => k in s.env);
  if (clash.length) throw new StaticPodRefused(s.pod, `the test's env would override the manifest's ${clash.join(', ')}`);
  prepareVolumes(s, o.root);
  const before = readOnlySnapshot(s, o.root);
  const env = { PATH: IMAGE_PATH, ...s.env, ...o.env };
  const [file, argv] = o.netns ? ['ip', ['netns', 'exec', o.netns, s.program, ...s.args]] : [s.program, s.args];
  // cwd: a container starts in its image's working directory, "/" for these images; the node root
  // stands for it. `ip netns exec` execs the program, so the pid is the program's own.
  const child = spawn(file, argv, { cwd: o.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  const onData = (d: Buffer) => {
    logs += d.toString('utf8');
    if (logs.length > LOG_KEEP * 1.5) logs = logs.slice(-LOG_KEEP);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const started = Date.now();
  let exit: PodExit | undefined;
  const exited = new Promise<PodExit>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
  // A test that dies must not leave a control plane running behind it.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  const err = await Promise.race([once(child, 'spawn').then(() => undefined), spawnError]);
  if (err) throw new Error(`static pod ${s.pod}: cannot start ${file}: ${err.message}`);

  const prober = o.netns ? new NetnsProber(o.netns) : undefined;
  const probe = (p: HttpProbeSpec) => (prober ? prober.probe(target(p)) : httpProbe(target(p)));
  const bound = o.readyTimeoutMs ?? defaultReadyBound(s);
  const deadline = started + bound;
  let stopping = false;
  const tail = () => logs.split('\n').slice(-LOG_TAIL_LINES).join('\n');
  const fail = (why: string) => new Error(`static pod ${s.pod}: ${why}; log tail:\n${tail()}`);

  /** Waits until `at` (ms since epoch), or rejects if the process ends or the bound passes first. */
  const sleepUntil = async (at: number): Promise<void> => {
    if (at > deadline) {
      await sleepUntil(deadline);
      throw fail(`not ready within ${bound} ms`);
    }
    let timer: NodeJS.Timeout | undefined;
    const slept = new Promise<'slept'>((r) => { timer = setTimeout(() => r('slept'), Math.max(0, at - Date.now())); });
    const r = await Promise.race([slept, exited]);
    clearTimeout(timer);
    if (r !== 'slept') throw fail(stopping ? 'stopped before ready' : `exited (${r.code ?? r.signal}) before ready`);
  };

  /**
   * The kubelet's worker for one probe: first attempt at initialDelay after the container started,
   * then one per period; `successThreshold` successes in a row pass; `failureThreshold` failures in
   * a row make the kubelet restart the container (startup, liveness) -- a readiness probe just
   * keeps trying, up to the bound.
   */
  const passes = async (p: HttpProbeSpec): Promise<void> => {
    let next = Math.max(Date.now(), started + p.initialDelayMs);
    let ok = 0;
    let failed = 0;
    for (;;) {
      await sleepUntil(next);
      const attempt = Date.now();
      const r = await probe(p);
      if (exit) await sleepUntil(Date.now());
      if (r.ok) {
        failed = 0;
        if (++ok >= (p.kind === 'readiness' ? p.successThreshold : 1)) return;
      } else {
        ok = 0;
        if (++failed >= p.failureThreshold && p.kind !== 'readiness') {
          throw fail(`${p.kind} probe ${p.scheme}://${p.host}:${p.port}${p.path} failed ${failed} times in a row (the kubelet would restart the container); last: ${r.detail}`);
        }
      }
      next = attempt + p.periodMs;
    }
  };

  let readiness: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    readiness ??= (async () => {
      const { startup, readiness: rp, liveness } = s.probes;
      if (!startup && !rp && !liveness) throw fail('has no probe: there is nothing the kubelet would wait on');
      // Readiness and liveness probes start only once the startup probe has passed.
      if (startup) await passes(startup);
      const then = rp ?? liveness;
      if (then) await passes(then);
    })();
    return readiness;
  };
  // The kubelet probes from the container's start whether or not anyone asks.
  void ready().catch(() => {});

  const stop = async (): Promise<PodExit> => {
    stopping = true;
    prober?.close();
    if (exit) return exit;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), s.terminationGraceMs);
    const e = await exited;
    clearTimeout(timer);
    return e;
  };

  return {
    name: s.pod,
    pid: child.pid!,
    spec: s,
    get logs() { return logs; },
    exited,
    ready,
    stop,
    changedReadOnlyPaths: () => diffSnapshots(before, readOnlySnapshot(s, o.root)),
  };
}
