// Running the actions of a change set on the node, behind a small interface: systemd when it is
// PID 1 (sd_booted's test: /run/systemd/system exists), otherwise nothing -- the agent says so
// once, clearly, and still writes the files (containers, chroots, the demo's simulated nodes).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Logger } from '../../shared/log/logger.ts';
import { describeAction, type Action } from './actions.ts';

export interface ServiceManager {
  /** Runs one action; rejects with the command's own error output. */
  run(action: Action): Promise<void>;
  /** What this manager does, for the apply log ("systemd", "none: ..."). */
  readonly kind: string;
}

const TIMEOUT_MS = 120_000;

function exec(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: TIMEOUT_MS, encoding: 'utf8' }, (err, _out, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${(stderr || err.message).trim()}`));
      else resolve();
    });
  });
}

export type Exec = (cmd: string, args: string[]) => Promise<void>;

/** The command an action is, on a systemd machine. */
export function commandOf(a: Action): [string, string[]] {
  switch (a.kind) {
    case 'daemon-reload':
      return ['systemctl', ['daemon-reload']];
    case 'enable':
      return ['systemctl', ['enable', a.unit]];
    case 'sysctl':
      return ['sysctl', ['--system']];
    case 'modules':
      return ['systemctl', ['restart', 'systemd-modules-load.service']];
    case 'restart':
      return ['systemctl', ['restart', a.unit]];
  }
}

export class SystemdServices implements ServiceManager {
  readonly kind = 'systemd';
  readonly #exec: Exec;
  constructor(run: Exec = exec) {
    this.#exec = run;
  }
  run(a: Action): Promise<void> {
    const [cmd, args] = commandOf(a);
    return this.#exec(cmd, args);
  }
}

/** No systemd: records what would have run, logs the first time. */
export class NoServices implements ServiceManager {
  readonly kind: string;
  readonly skipped: Action[] = [];
  #said = false;
  readonly #log: Logger | null;

  constructor(log: Logger | null, why = 'systemd is not PID 1 on this machine') {
    this.#log = log;
    this.kind = `none (${why})`;
  }

  async run(a: Action): Promise<void> {
    this.skipped.push(a);
    if (!this.#said) {
      this.#said = true;
      this.#log?.warn(`${this.kind}: files are written, but services are not reloaded or restarted (first skipped: ${describeAction(a)})`);
    }
  }
}

/** The node's service manager: systemd when it runs the machine. */
export function detectServices(log: Logger, root: string): ServiceManager {
  // A simulated node (--root other than /) never touches the host's services.
  if (root !== '/') return new NoServices(log, `the node root is ${root}, not /`);
  return existsSync('/run/systemd/system') ? new SystemdServices() : new NoServices(log);
}
