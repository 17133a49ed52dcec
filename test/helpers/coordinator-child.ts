// A coordinator in a child process (test/helpers/coordinator-process.ts), for what needs a
// second process: a real SIGKILL, two processes on one data dir. Output is collected so a test
// waits for a line (`until`) rather than sleeping; every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { COORDINATOR_NODE_FLAGS } from '../../shared/constants.ts';

const PROGRAM = join(import.meta.dirname, 'coordinator-process.ts');

export interface CoordinatorChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Resolves when the output matches `pattern`; rejects on exit or after timeoutMs, with the output. */
  until(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
  /** Exit code (null when killed by a signal) and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for an exit the test expects (a refused start); SIGKILLs and rejects after timeoutMs. */
  exitWithin(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (a clean shutdown), and wait for the exit; SIGKILL after timeoutMs. */
  stop(timeoutMs?: number): Promise<void>;
}

/** `muster coordinator serve ARGS` in its own Node process. */
export function spawnCoordinator(args: string[]): CoordinatorChild {
  const child = spawn(process.execPath, [...COORDINATOR_NODE_FLAGS, PROGRAM, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d;
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      for (const l of [...listeners]) l();
      resolve({ code, signal });
    }),
  );
  const self: CoordinatorChild = {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    until(pattern, timeoutMs = 30_000) {
      const hit = () => (typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out));
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (hit()) finish(null);
          else if (done) finish(new Error(`coordinator (pid ${child.pid}) exited before printing ${pattern}; output:\n${out}`));
        };
        const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for the coordinator (pid ${child.pid}) to print ${pattern}; output:\n${out}`)), timeoutMs);
        const finish = (err: Error | null) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolve();
        };
        listeners.add(check);
        check();
      });
    },
    async exitWithin(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`coordinator (pid ${child.pid}) still running after ${timeoutMs} ms; killed; output:\n${out}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
    async stop(timeoutMs = 10_000) {
      if (done) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  return self;
}

export { freePort } from '../../shared/net/free-port.ts';
