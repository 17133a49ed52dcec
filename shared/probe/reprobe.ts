// When the coordinator asks a held-back node to probe again. Probe results are a snapshot: a
// node blocked by one noisy round, or waiting for results that never came (the agent restarted,
// the report was lost), would otherwise wait until its probe plan changed for some other reason.
// So such a node gets a new plan id (same targets) after a backoff: exponential, 5 s doubling
// to 5 min, with equal jitter (half the ceiling fixed, half random). The jitter keeps a fleet
// blocked at once (one slow etcd member) from re-probing in lockstep; the fixed half gives an
// agent that is still running a round time to answer before it is asked again.
//
// A round that confirms a slow latency (shared/preflight/latency-rounds.ts: a slow verdict needs
// several rounds) goes out after `confirmMs` instead: it decides whether the node may install.
import { compileRetry, type CompiledRetry } from '../retry.ts';
import type { Timers } from './timers.ts';

export interface ReprobeOptions {
  /** Ceiling of the first re-probe delay. @default 5000 */
  initialMs?: number;
  /** Largest ceiling. @default 300000 (5 min) */
  maxMs?: number;
  /** Growth of the ceiling per re-probe. @default 2 */
  multiplier?: number;
  /** Delay of a round that confirms a slow latency verdict. @default 1000 */
  confirmMs?: number;
  /** Random source in [0,1); tests pass a fixed one. @default Math.random */
  random?: () => number;
}

export interface CompiledReprobe extends CompiledRetry {
  confirmMs: number;
}

export function compileReprobeOptions(o: ReprobeOptions = {}): CompiledReprobe {
  const r = compileRetry({ initialMs: o.initialMs ?? 5000, maxMs: o.maxMs ?? 300_000, multiplier: o.multiplier, random: o.random });
  const confirmMs = o.confirmMs ?? 1000;
  if (!(confirmMs >= 0)) throw new RangeError(`invalid re-probe confirmMs ${confirmMs}`);
  return { ...r, confirmMs };
}

/** The ceiling before re-probe number `attempt` (0 for the first): initial * multiplier^attempt, capped. */
export function reprobeCeilingMs(c: CompiledReprobe, attempt: number): number {
  return Math.min(c.maxMs, c.initialMs * c.multiplier ** Math.max(0, attempt));
}

/** Equal jitter: uniform in [ceiling / 2, ceiling). */
export function reprobeDelayMs(c: CompiledReprobe, attempt: number): number {
  const ceiling = reprobeCeilingMs(c, attempt);
  return Math.floor(ceiling / 2 + c.random() * (ceiling / 2));
}

/** 'backoff': the next step of the node's backoff; 'confirm': a confirming round, soon. */
export type ReprobeKind = 'backoff' | 'confirm';

interface Due {
  /** Backoff re-probes fired since the node last needed none. */
  attempt: number;
  timer: { kind: ReprobeKind; atMs: number; cancel: () => void } | null;
}

/**
 * Per-node re-probe timers. The owner says what each node needs after every evaluation (`arm`
 * or `reset`, both idempotent); when a timer fires, `fire(name)` issues the new plan.
 */
export class ReprobeSchedule {
  readonly #c: CompiledReprobe;
  readonly #timers: Timers;
  readonly #clock: () => number;
  readonly #fire: (name: string) => void;
  readonly #nodes = new Map<string, Due>();

  constructor(o: { options: CompiledReprobe; timers: Timers; clock: () => number; fire: (name: string) => void }) {
    this.#c = o.options;
    this.#timers = o.timers;
    this.#clock = o.clock;
    this.#fire = o.fire;
  }

  /**
   * Makes sure a re-probe of `name` is due. An armed timer is kept (a node that stays blocked is
   * not pushed back by every report), unless a confirming round would come sooner than its backoff.
   */
  arm(name: string, kind: ReprobeKind): void {
    let d = this.#nodes.get(name);
    if (!d) this.#nodes.set(name, (d = { attempt: 0, timer: null }));
    // A confirming round on its way wins: once it fired, the owner arms again if still needed.
    if (d.timer && (d.timer.kind === kind || d.timer.kind === 'confirm')) return;
    const delay = kind === 'confirm' ? this.#c.confirmMs : reprobeDelayMs(this.#c, d.attempt);
    const atMs = this.#clock() + delay;
    if (d.timer && d.timer.atMs <= atMs) return;
    d.timer?.cancel();
    const due = d;
    due.timer = {
      kind,
      atMs,
      cancel: this.#timers.after(delay, () => {
        due.timer = null;
        if (kind === 'backoff') due.attempt++;
        this.#fire(name);
      }),
    };
  }

  /** `name` needs no re-probe (passed, installed, gone): cancel, and start from the first step next time. */
  reset(name: string): void {
    const d = this.#nodes.get(name);
    if (!d) return;
    d.timer?.cancel();
    this.#nodes.delete(name);
  }

  /** The next re-probe of `name`: when (clock ms), why, and how many backoff steps came before. */
  due(name: string): { atMs: number; kind: ReprobeKind; attempt: number } | null {
    const d = this.#nodes.get(name);
    return d?.timer ? { atMs: d.timer.atMs, kind: d.timer.kind, attempt: d.attempt } : null;
  }

  close(): void {
    for (const d of this.#nodes.values()) d.timer?.cancel();
    this.#nodes.clear();
  }
}
