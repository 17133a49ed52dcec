// A coordinator-wide budget for expensive work: the CSR checks and signing of Join, identity
// renewal and cluster-certificate issuance. At most `concurrency` run at once; up to `maxQueue`
// more wait in order; beyond that the caller is answered RESOURCE_EXHAUSTED with a retry-after
// hint from the queue's drain rate (queued work x the mean time one item has taken / the
// concurrency), so a fleet booting together is told how long the backlog really is instead of
// piling up promises and memory. The per-source Join budget (./join-budget.ts) bounds one
// source; this bounds the coordinator.
//
// A call whose work ends in a durable commit (cluster-certificate issuance: sign, then record)
// holds its slot for the CPU part only (`runThen`): the commit is a wait for the disk, and calls
// committing together share one fsync (coordinator/store/group-commit.ts). Holding the slot across
// it left the CPU idle during every fsync and made batches of at most `concurrency`; a call that
// is committing still counts against `maxQueue`, so the calls the coordinator holds stay bounded.
import { ConfigError, ResourceExhaustedError } from '../../../shared/errors/index.ts';

export interface WorkBudgetOptions {
  /** Expensive calls running at once. Signing is synchronous CPU; a few keep both cores busy while the store commits. @default 8 */
  concurrency?: number;
  /** Calls waiting beyond those; a full queue is answered RESOURCE_EXHAUSTED with a hint. @default 1024 */
  maxQueue?: number;
  /** Shortest retry-after hint, ms. @default 100 */
  minRetryAfterMs?: number;
  /** Longest retry-after hint, ms. @default 30000 */
  maxRetryAfterMs?: number;
  /** Monotonic ms; tests pass a fake. @default performance.now */
  clock?: () => number;
}

export interface CompiledWorkBudget {
  concurrency: number;
  maxQueue: number;
  minRetryAfterMs: number;
  maxRetryAfterMs: number;
  clock: () => number;
}

export function compileWorkBudgetOptions(o: WorkBudgetOptions = {}): CompiledWorkBudget {
  const c = {
    concurrency: o.concurrency ?? 8,
    maxQueue: o.maxQueue ?? 1024,
    minRetryAfterMs: o.minRetryAfterMs ?? 100,
    maxRetryAfterMs: o.maxRetryAfterMs ?? 30_000,
    clock: o.clock ?? (() => performance.now()),
  };
  for (const [name, v, min] of [['concurrency', c.concurrency, 1], ['maxQueue', c.maxQueue, 0], ['minRetryAfterMs', c.minRetryAfterMs, 1], ['maxRetryAfterMs', c.maxRetryAfterMs, 1]] as const) {
    if (!Number.isInteger(v) || v < min || v > 2 ** 31 - 1) throw new ConfigError(`work budget: ${name} must be an integer >= ${min}, got ${v}`);
  }
  if (c.maxRetryAfterMs < c.minRetryAfterMs) throw new ConfigError(`work budget: maxRetryAfterMs (${c.maxRetryAfterMs}) is below minRetryAfterMs (${c.minRetryAfterMs})`);
  return c;
}

/** What the metrics read (coordinator/metrics). */
export interface WorkBudgetStats {
  readonly running: number;
  readonly queued: number;
  /** Calls refused because the queue was full, since start. */
  readonly rejected: number;
  /** Calls past their CPU part, waiting for their commit (runThen); they count against the queue bound. */
  readonly finishing: number;
}

/** Weight of the newest sample in the mean service time (an exponentially weighted mean). */
const EWMA_WEIGHT = 0.1;

export class WorkBudget implements WorkBudgetStats {
  readonly #c: CompiledWorkBudget;
  readonly #waiting: Array<() => void> = [];
  #running = 0;
  #rejected = 0;
  #finishing = 0;
  /** Mean ms one item held a slot; 0 until the first completes. */
  #meanMs = 0;

  /** Compiled options pass through compileWorkBudgetOptions unchanged. */
  constructor(options: WorkBudgetOptions = {}) {
    this.#c = compileWorkBudgetOptions(options);
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  get rejected(): number {
    return this.#rejected;
  }

  get finishing(): number {
    return this.#finishing;
  }

  /** The wait a caller refused now is told: the backlog ahead of it drained at the measured rate. */
  retryAfterMs(): number {
    const mean = this.#meanMs || this.#c.minRetryAfterMs;
    const ms = Math.ceil(((this.#waiting.length + this.#running + 1) * mean) / this.#c.concurrency);
    return Math.min(this.#c.maxRetryAfterMs, Math.max(this.#c.minRetryAfterMs, ms));
  }

  /** Runs `fn` within the budget (now, or after those queued before it); throws ResourceExhaustedError when the queue is full. */
  run<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
    return this.runThen(what, fn, (v) => v);
  }

  /**
   * Runs `cpu` within the budget, then `then` with its result outside it: the slot passes on as
   * soon as `cpu` is done, while `then` (a commit) still counts against the queue bound until it
   * settles. Throws ResourceExhaustedError when the queue is full.
   */
  async runThen<P, T>(what: string, cpu: () => Promise<P> | P, then: (p: P) => Promise<T> | T): Promise<T> {
    if (this.#running >= this.#c.concurrency) {
      if (this.#waiting.length + this.#finishing >= this.#c.maxQueue) {
        this.#rejected++;
        const retryAfterMs = this.retryAfterMs();
        throw new ResourceExhaustedError('coordinator-busy', `the coordinator is busy (${this.#running} ${what} calls running, ${this.#waiting.length} queued, ${this.#finishing} committing); try again in ${(retryAfterMs / 1000).toFixed(1)}s`, { retryAfterMs });
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    const started = this.#c.clock();
    let done: P;
    try {
      done = await cpu();
    } finally {
      const took = Math.max(0, this.#c.clock() - started);
      this.#meanMs = this.#meanMs === 0 ? took : this.#meanMs + EWMA_WEIGHT * (took - this.#meanMs);
      // The slot passes straight to the next in line (running stays the same), or is freed.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
    this.#finishing++;
    try {
      return await then(done);
    } finally {
      this.#finishing--;
    }
  }
}
