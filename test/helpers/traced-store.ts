// A FaultyStore whose log a test can wait on and write into. FaultyStore's `events` say what the
// store did; `timeline` holds those same lines plus the test's own marks ("test: CreateToken
// resolved"), in the one order they happened, so a test proves "no acknowledgement before the
// commit" by comparing positions instead of by sleeping and hoping.
import type { Guard, Op, Store, TxnResult } from '../../coordinator/store/store.ts';
import { FaultyStore } from './faulty-store.ts';

interface Waiter {
  from: number;
  match: (line: string) => boolean;
  resolve: (index: number) => void;
}

export class TracedStore extends FaultyStore {
  /** Every FaultyStore event and every `mark`, in order. */
  readonly timeline: string[] = [];
  /** The keys each transaction ("t3") writes, to tell a join's commit from a last-seen flush. */
  readonly keysOf = new Map<string, string[]>();
  readonly #waiters = new Set<Waiter>();

  constructor(inner: Store) {
    super(inner);
    // FaultyStore appends to `events` from its private #log; hook the array so every line also
    // lands in the timeline and wakes whoever waits for it.
    const events = this.events;
    events.push = (...lines: string[]) => {
      const n = Array.prototype.push.apply(events, lines);
      for (const l of lines) this.#record(l);
      return n;
    };
  }

  override txn(ops: Op[], guards?: Guard[]): Promise<TxnResult> {
    const p = super.txn(ops, guards);
    // super.txn logs "txn-submitted tN" before its first await, so the newest such line is this one.
    const id = lastSubmitted(this.events);
    if (id) this.keysOf.set(id, ops.map((o) => o.key));
    return p;
  }

  /** Adds the test's own line ("test: ..."); returns its position. */
  mark(line: string): number {
    this.#record(`test: ${line}`);
    return this.timeline.length - 1;
  }

  /** Position of the first line matching `pattern` (at or after `from`); -1 when there is none. */
  indexOf(pattern: RegExp | string, from = 0): number {
    const m = matcher(pattern);
    for (let i = from; i < this.timeline.length; i++) if (m(this.timeline[i]!)) return i;
    return -1;
  }

  /** Resolves with the position of the first line matching `pattern` at or after `from`; rejects after timeoutMs. */
  until(pattern: RegExp | string, from = 0, timeoutMs = 15_000): Promise<number> {
    const have = this.indexOf(pattern, from);
    if (have >= 0) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        from,
        match: matcher(pattern),
        resolve: (i) => {
          clearTimeout(timer);
          this.#waiters.delete(w);
          resolve(i);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(w);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for store event ${pattern}; timeline:\n  ${this.timeline.join('\n  ')}`));
      }, timeoutMs);
      this.#waiters.add(w);
    });
  }

  /** The first transaction submitted at or after timeline position `from` that writes a key starting with `keyPrefix`. */
  async untilTxnWriting(keyPrefix: string, from = 0, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (let at = from; ; ) {
      const i = await this.until(/^txn-submitted t\d+$/, at, Math.max(1, deadline - Date.now()));
      const id = this.timeline[i]!.slice('txn-submitted '.length);
      // keysOf is filled right after the line is logged, in the same synchronous step as the submit.
      await Promise.resolve();
      if (this.keysOf.get(id)?.some((k) => k.startsWith(keyPrefix))) return id;
      at = i + 1;
    }
  }

  #record(line: string): void {
    this.timeline.push(line);
    const i = this.timeline.length - 1;
    for (const w of [...this.#waiters]) if (i >= w.from && w.match(line)) w.resolve(i);
  }
}

function matcher(pattern: RegExp | string): (line: string) => boolean {
  return typeof pattern === 'string' ? (l) => l === pattern : (l) => pattern.test(l);
}

function lastSubmitted(events: readonly string[]): string | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const l = events[i]!;
    if (l.startsWith('txn-submitted ')) return l.slice('txn-submitted '.length);
  }
  return undefined;
}
