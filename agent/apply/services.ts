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

export class SystemdServices implements ServiceManager {
  readonly kind = 'systemd';
  run(a: Action): Promise<void> {
    switch (a.kind) {
      case 'daemon-reload':
        return exec('systemctl', ['daemon-reload']);
      case 'enable':
        return exec('systemctl', ['enable', a.unit]);
      case 'sysctl':
        return exec('sysctl', ['--system']);
      case 'modules':
        return exec('systemctl', ['restart', 'systemd-modules-load.service']);
      case 'restart':
        return exec('systemctl', ['restart', a.unit]);
    }
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
