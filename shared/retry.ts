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

/**
 * Delay before retry number `attempt` after `err`: the jittered backoff, but never less than the
 * server's own hint (`retryAfterMs`, from a RESOURCE_EXHAUSTED answer): retrying sooner would
 * only be refused again and spend the caller's budget.
 */
export function retryDelayMs(r: CompiledRetry, attempt: number, err?: unknown): number {
  const backoff = backoffMs(r, attempt);
  const hint = (err as { retryAfterMs?: unknown } | null | undefined)?.retryAfterMs;
  return typeof hint === 'number' && Number.isFinite(hint) && hint > backoff ? Math.ceil(hint) : backoff;
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
