// A clock and timers that move only when a test says so (shared/probe/timers.ts): backoff, hold
// and coalescing delays are tested without sleeping, so a loaded machine cannot change what the
// test sees.
import type { Timers } from '../../shared/probe/timers.ts';

interface Pending {
  atMs: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeTime implements Timers {
  #now: number;
  #seq = 0;
  #queue: Pending[] = [];

  constructor(startMs = 1_000_000) {
    this.#now = startMs;
  }

  /** The clock, for options that take `clock: () => number`. */
  readonly now = (): number => this.#now;

  after(ms: number, fn: () => void): () => void {
    const p: Pending = { atMs: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#queue.push(p);
    return () => void (p.cancelled = true);
  }

  /** Timers armed and not yet run or cancelled. */
  get pending(): number {
    return this.#queue.filter((p) => !p.cancelled).length;
  }

  /** Milliseconds until the next timer is due, or null when none is armed. */
  nextInMs(): number | null {
    const next = this.#next();
    return next ? next.atMs - this.#now : null;
  }

  /**
   * Moves the clock forward by `ms`, running each timer that falls due on the way at its own
   * time (timers they arm run too if due in the window). Bounded, so a timer that keeps re-arming
   * itself at 0 ms fails the test instead of hanging it.
   */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (let i = 0; ; i++) {
      if (i > 10_000) throw new Error('FakeTime.advance: more than 10000 timers ran; a timer re-arms itself without delay');
      const next = this.#next();
      if (!next || next.atMs > until) break;
      this.#queue = this.#queue.filter((p) => p !== next);
      this.#now = next.atMs;
      next.fn();
    }
    this.#now = until;
  }

  #next(): Pending | null {
    this.#queue = this.#queue.filter((p) => !p.cancelled);
    let best: Pending | null = null;
    for (const p of this.#queue) if (!best || p.atMs < best.atMs || (p.atMs === best.atMs && p.seq < best.seq)) best = p;
    return best;
  }
}
