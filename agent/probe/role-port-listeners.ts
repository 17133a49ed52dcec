// The agent's temporary role-port listeners across probe rounds. Each probe plan names the role
// ports peers will probe; a port this agent already holds from an earlier round stays open (it is
// not "busy": it is ours), new ones are opened, and all of them close `holdMs` after the latest
// round, or at once when the node applies its assignment (the real components need the ports).
import { openTemporaryListeners, type TemporaryListeners } from './temporary-listeners.ts';

export interface ListenerOutcome {
  opened: number[];
  busy: number[];
  failed: Array<{ port: number; error: string }>;
}

export class RolePortListeners {
  readonly #host: string;
  readonly #held = new Map<number, TemporaryListeners>();
  #timer: NodeJS.Timeout | null = null;

  constructor(host: string) {
    this.#host = host;
  }

  get ports(): number[] {
    return [...this.#held.keys()].sort((a, b) => a - b);
  }

  async ensure(ports: readonly number[], holdMs: number): Promise<ListenerOutcome> {
    const out: ListenerOutcome = { opened: [], busy: [], failed: [] };
    for (const port of [...new Set(ports)]) {
      if (this.#held.has(port)) {
        out.opened.push(port);
        continue;
      }
      const l = await openTemporaryListeners([port], this.#host);
      if (l.opened.length) {
        this.#held.set(port, l);
        out.opened.push(port);
      }
      out.busy.push(...l.busy);
      out.failed.push(...l.failed);
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.close(), holdMs);
    this.#timer.unref();
    return out;
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const all = [...this.#held.values()];
    this.#held.clear();
    await Promise.all(all.map((l) => l.close()));
  }
}
