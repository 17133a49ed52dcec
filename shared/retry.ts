// One retry policy for every call an agent or the CLI makes to the coordinator: exponential
// backoff with full jitter (AWS architecture blog), so a fleet that lost its coordinator does
// not come back in lockstep.
export interface RetryOptions {
  /** First backoff ceiling, ms. @default 500 */
  initialMs?: number;
  /** Largest backoff ceiling, ms. @default 30000 */
  maxMs?: number;
  /** Growth per attempt. @default 2 */
  multiplier?: number;
  /** Random source in [0,1); tests pass a fixed one. @default Math.random */
  random?: () => number;
}

export interface CompiledRetry {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  random: () => number;
}

export function compileRetry(o: RetryOptions = {}): CompiledRetry {
  const c = { initialMs: o.initialMs ?? 500, maxMs: o.maxMs ?? 30_000, multiplier: o.multiplier ?? 2, random: o.random ?? Math.random };
  if (!(c.initialMs > 0 && c.maxMs >= c.initialMs && c.multiplier >= 1)) throw new RangeError(`invalid retry options ${JSON.stringify(o)}`);
  return c;
}

/** Delay before retry number `attempt` (1-based): uniform in [0, min(max, initial * mult^(attempt-1))). */
export function backoffMs(r: CompiledRetry, attempt: number): number {
  const ceiling = Math.min(r.maxMs, r.initialMs * r.multiplier ** Math.max(0, attempt - 1));
  return Math.floor(r.random() * ceiling);
}

function hintOf(err: unknown): number | undefined {
  const hint = (err as { retryAfterMs?: unknown } | null | undefined)?.retryAfterMs;
  return typeof hint === 'number' && Number.isFinite(hint) && hint > 0 ? hint : undefined;
}

/**
 * Delay before retry number `attempt` after `err`: the jittered backoff, but never less than the
 * server's own hint (`retryAfterMs`, from a RESOURCE_EXHAUSTED answer): retrying sooner would
 * only be refused again and spend the caller's budget. Above the hint it is jittered too,
 * uniform in [hint, 2 x hint): every caller refused in the same moment gets the same hint, and
 * without the spread they would all come back in the same moment.
 */
export function retryDelayMs(r: CompiledRetry, attempt: number, err?: unknown): number {
  const backoff = backoffMs(r, attempt);
  const hint = hintOf(err);
  return hint !== undefined && hint > backoff ? Math.ceil(hint + r.random() * hint) : backoff;
}

/**
 * The first retry after a connection that worked was lost (the coordinator restarted): uniform
 * in [0, windowMs) instead of the first backoff step (500 ms), so a fleet that lost its
 * coordinator in one moment reconnects spread over the window. Later retries, and any with a
 * server hint, are `retryDelayMs`'s.
 */
export function reconnectDelayMs(r: CompiledRetry, attempt: number, err: unknown, windowMs: number): number {
  if (attempt !== 1 || windowMs <= 0 || hintOf(err) !== undefined) return retryDelayMs(r, attempt, err);
  return Math.floor(r.random() * Math.max(windowMs, r.initialMs));
}

/** A start-up delay: uniform in [0, windowMs) (full jitter), 0 for a window of 0. */
export function startupDelayMs(windowMs: number, random: () => number = Math.random): number {
  return windowMs > 0 ? Math.floor(random() * windowMs) : 0;
}

/** Resolves after ms, or rejects with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
