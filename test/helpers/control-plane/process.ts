// A program run inside a test network namespace (`ip netns exec NS ...`, which execs it, so the
// pid is the program's own), its output kept (bounded) for assertions and failure messages, and
// killed when the test process exits however it exits.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const LOG_KEEP = 1_000_000;

export interface NsProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** stdout and stderr together, the last LOG_KEEP characters. */
  readonly logs: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first match of `re` in the output; rejects if the process exits first or after `ms`. */
  waitForOutput(re: RegExp, ms: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  tail(lines?: number): string;
}

export function spawnInNetns(ns: string, name: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): NsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    logs += d.toString('utf8');
    if (logs.length > LOG_KEEP * 1.5) logs = logs.slice(-LOG_KEEP);
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      for (const l of listeners) l();
      resolve(exit);
    });
    child.on('error', (err) => {
      logs += `\n${err.message}\n`;
      exit = { code: -1, signal: null };
      resolve(exit);
    });
  });
  const kill = () => child.kill('SIGKILL');
  process.on('exit', kill);
  void exited.then(() => process.off('exit', kill));
  const tail = (lines = 30) => logs.split('\n').slice(-lines).join('\n');
  return {
    name,
    child,
    get logs() { return logs; },
    exited,
    tail,
    waitForOutput(re, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(logs);
          if (m) return done(() => resolve(m));
          if (exit) return done(() => reject(new Error(`${name} exited (${exit!.code ?? exit!.signal}) before printing ${re}; log tail:\n${tail()}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${name}: no ${re} within ${ms} ms; log tail:\n${tail()}`))), ms);
        const done = (f: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      });
    },
    async stop(graceMs = 10_000) {
      if (exit) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Runs a command to its end inside a namespace; rejects with its output when it fails. */
export function execInNetns(ns: string, argv: readonly string[], o: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', ['netns', 'exec', ns, ...argv], { timeout: o.timeoutMs ?? 60_000, env: o.env ?? process.env, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(new Error(`${argv.join(' ')} (in ${ns}) failed: ${err.message}\n${stdout}\n${stderr}`), { stdout, stderr, code: (err as { code?: unknown }).code }));
      else resolve({ stdout, stderr });
    });
    if (o.input !== undefined) child.stdin!.end(o.input);
  });
}

export { once };
