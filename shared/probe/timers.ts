// Timers behind a small interface, so code that waits (the coordinator's probe re-planning and
// re-probe backoff) can be driven by a test's fake clock instead of real sleeps.

export interface Timers {
  /** Runs `fn` once after `ms`; the returned function cancels it (a no-op once it ran). */
  after(ms: number, fn: () => void): () => void;
}

/**
 * setTimeout, unref'd: a re-probe that is due in five minutes must not keep a coordinator that
 * is shutting down (or a test process) alive.
 */
export const realTimers: Timers = {
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};
