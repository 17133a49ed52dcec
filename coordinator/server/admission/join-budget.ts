// A per-source budget for Join: one token bucket per peer address. Join is the one method a
// stranger can call that costs the coordinator real work (CSR parsing, signing, a store write),
// and the token it carries is a secret worth guessing; so each source gets a burst and a steady
// refill, and a caller over budget is told how long to wait (RESOURCE_EXHAUSTED with
// `retry-after-ms`, see shared/wire/status.ts) instead of being served.
//
// The number of tracked sources is bounded (least recently used evicted first): an attacker who
// rotates addresses can push old entries out, which only hands each new address a fresh burst --
// the same as it would get anyway -- while memory stays fixed.
import { isIP } from 'node:net';
import { ConfigError, ResourceExhaustedError } from '../../../shared/errors/index.ts';

export interface JoinBudgetOptions {
  /**
   * Joins a source may make at once, from a full bucket. A fleet behind one NAT boots together;
   * the costly part of a join (the CSR) comes after the token check, so the budget bounds work,
   * not access. @default 200
   */
  burst?: number;
  /** Joins per second a source regains: 1,000 nodes behind one NAT join within about 16 s. @default 50 */
  refillPerSecond?: number;
  /** Sources tracked at once; the least recently seen is forgotten beyond this. @default 10000 */
  maxSources?: number;
  /** ms since the epoch; tests pass a fake. @default Date.now */
  clock?: () => number;
}

export interface CompiledJoinBudget {
  burst: number;
  refillPerMs: number;
  maxSources: number;
  clock: () => number;
}

export function compileJoinBudgetOptions(o: JoinBudgetOptions = {}): CompiledJoinBudget {
  const burst = o.burst ?? 200;
  const perSecond = o.refillPerSecond ?? 50;
  const maxSources = o.maxSources ?? 10_000;
  if (!(burst >= 1) || !(perSecond > 0) || !Number.isInteger(maxSources) || maxSources < 1) {
    throw new ConfigError(`join budget: burst must be >= 1, refillPerSecond > 0 and maxSources a positive integer (got ${JSON.stringify({ burst, refillPerSecond: perSecond, maxSources })})`);
  }
  return { burst, refillPerMs: perSecond / 1000, maxSources, clock: o.clock ?? Date.now };
}

export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class JoinBudget {
  readonly #c: CompiledJoinBudget;
  /** Map order is recency order: a touched source is deleted and set again, so the first key is the stalest. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: JoinBudgetOptions | CompiledJoinBudget = {}) {
    this.#c = 'refillPerMs' in options ? options : compileJoinBudgetOptions(options);
  }

  /** Spends one join from `source`'s bucket, or says how long until one is there. */
  take(source: string): TakeResult {
    const now = this.#c.clock();
    const b = this.#buckets.get(source);
    let tokens: number;
    if (b) {
      this.#buckets.delete(source);
      // A clock that steps back must not mint tokens or make the wait negative.
      tokens = Math.min(this.#c.burst, b.tokens + Math.max(0, now - b.at) * this.#c.refillPerMs);
    } else {
      tokens = this.#c.burst;
      while (this.#buckets.size >= this.#c.maxSources) this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    if (tokens >= 1) {
      this.#buckets.set(source, { tokens: tokens - 1, at: now });
      return { ok: true };
    }
    this.#buckets.set(source, { tokens, at: now });
    return { ok: false, retryAfterMs: Math.ceil((1 - tokens) / this.#c.refillPerMs) };
  }

  /** Like `take`, but throws the error the Join handler should answer with. */
  charge(source: string): void {
    const r = this.take(source);
    if (!r.ok) throw joinBudgetExhausted(source, r.retryAfterMs);
  }

  /** Sources currently tracked (for tests and metrics). */
  get size(): number {
    return this.#buckets.size;
  }
}

export function joinBudgetExhausted(source: string, retryAfterMs: number): ResourceExhaustedError {
  return new ResourceExhaustedError(
    'join-rate-limited',
    `too many join attempts from ${source}; try again in ${(retryAfterMs / 1000).toFixed(1)}s`,
    { retryAfterMs },
  );
}

/**
 * The source address of a call from grpc-js's `call.getPeer()`: "10.0.0.5:51234" -> "10.0.0.5",
 * "::1:51234" or "[::1]:51234" -> "::1" (grpc-js joins an IPv6 address and port without brackets),
 * "::ffff:10.0.0.5:1" -> "10.0.0.5" (one host, one budget, whichever socket family it came in on).
 */
export function peerSource(peer: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(peer);
  let host = bracketed ? bracketed[1]! : peer;
  // grpc-js always appends the port for a TCP peer, so a trailing ":digits" that leaves an
  // address behind is the port.
  const withoutPort = host.replace(/:\d+$/, '');
  if (!bracketed && withoutPort !== host && isIP(withoutPort)) host = withoutPort;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return (mapped ? mapped[1]! : host).toLowerCase();
}
