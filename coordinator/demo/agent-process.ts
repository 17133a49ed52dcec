// One demo agent as a child process: `muster-agent run ...`, its output forwarded line by line
// with the node's name in front, the last lines kept for the message when it dies, and a stop
// that always ends it (SIGTERM, then SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process';
import type { AgentProgram } from './agent-program.ts';

/** How an agent process ended. */
export interface AgentExit {
  node: string;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Its last output lines (stderr and stdout, unprefixed), oldest first. */
  lastLines: string[];
}

export interface AgentProcessOptions {
  node: string;
  program: AgentProgram;
  /** The agent's own arguments, after `run`. */
  args: string[];
  env: Record<string, string | undefined>;
  /** Receives every output line, already prefixed with the node name. */
  onLine: (line: string) => void;
  /** Lines kept for AgentExit.lastLines. @default 8 */
  keepLines?: number;
}

/** After SIGTERM, how long an agent may take to stop before SIGKILL. */
export const STOP_GRACE_MS = 5_000;
/** After SIGKILL, or after exit, how long to wait for the last output. */
const AFTER_EXIT_MS = 5_000;

export class AgentProcess {
  readonly node: string;
  /** Resolves once the process has exited and its output is read, whoever ended it. */
  readonly exited: Promise<AgentExit>;
  readonly #child: ChildProcess;
  readonly #last: string[] = [];

  constructor(o: AgentProcessOptions) {
    this.node = o.node;
    const keep = o.keepLines ?? 8;
    let done = false;
    const line = (l: string) => {
      // Nothing after the exit is reported: a late line would land after the demo's last words.
      if (done) return;
      this.#last.push(l);
      if (this.#last.length > keep) this.#last.shift();
      o.onLine(`${o.node} | ${l}`);
    };
    // Its own process group: a Ctrl-C on the terminal reaches only the demo, which then stops
    // the agents itself, so an agent that stops first is never mistaken for one that died.
    this.#child = spawn(o.program.command, [...o.program.args, 'run', ...o.args], { env: o.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const streams = [this.#child.stdout!, this.#child.stderr!].map((s) => forwardLines(s, line));
    this.exited = new Promise((resolve) => {
      let spawnError: Error | undefined;
      let finished = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (finished) return;
        finished = true;
        // A grandchild holding the pipes open must not keep the demo waiting for the last lines.
        void within(Promise.all(streams), AFTER_EXIT_MS).then(() => {
          if (spawnError) line(`cannot run ${o.program.path}: ${spawnError.message}`);
          done = true;
          resolve({ node: o.node, pid: this.#child.pid, code, signal, lastLines: [...this.#last] });
        });
      };
      this.#child.once('exit', finish);
      this.#child.once('error', (err) => {
        spawnError = err;
        // A process that never started emits no 'exit'.
        if (this.#child.pid === undefined) finish(null, null);
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.pid !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** SIGTERM, wait up to graceMs, then SIGKILL to its whole process group; resolves when it is gone. */
  async stop(graceMs = STOP_GRACE_MS): Promise<AgentExit> {
    if (this.running) {
      this.#child.kill('SIGTERM');
      if ((await within(this.exited, graceMs)) === 'timeout') {
        this.kill();
        await within(this.exited, AFTER_EXIT_MS);
      }
    }
    return this.exited;
  }

  /** SIGKILL now, to the process group (what the agent started goes too); safe in an 'exit' handler. */
  kill(): void {
    if (!this.running) return;
    try {
      process.kill(-this.#child.pid!, 'SIGKILL');
    } catch {
      this.#child.kill('SIGKILL');
    }
  }
}

/** Calls onLine for each line of the stream; resolves when it ends. */
function forwardLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const l of lines) onLine(l.replace(/\r$/, ''));
    });
    const end = () => {
      if (partial) onLine(partial);
      partial = '';
      resolve();
    };
    stream.once('end', end);
    stream.once('close', end);
  });
}

/** The promise's value, or 'timeout' after ms (the timer does not keep the process alive). */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms).unref()))]).finally(() => clearTimeout(timer));
}
