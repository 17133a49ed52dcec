// A Store wrapper for deterministic fault injection: hold commits until the test says so, fail
// the next n transactions, slow every commit down. Every step is logged in `events`, so a test
// can compare it with its own log and prove what happened in which order.
//
// Watch events from the inner store are forwarded only when the transaction that made them is
// delivered to its caller, so "event before resolve" still holds while a commit is held.
// FaultyStore must be the only writer of the inner store (events written past it are forwarded
// when no transaction of its own is in flight).
//
// Log lines ("t3" is the third txn() call on this store):
//   hold before-commit | hold after-commit | release | fail-next 2 | delay 50 | close
//   txn-submitted t3      txn() was called
//   txn-started t3        handed to the inner store
//   txn-committed t3 rev 7 | txn-guard-failed t3 rev 6 | txn-failed t3: <message>
//   watch 7               event forwarded to this store's watchers
//   txn-resolved t3       the caller's promise resolved (txn-failed lines reject it)
import { setTimeout as sleep } from 'node:timers/promises';
import type { Entry, Guard, Op, Store, TxnResult, WatchEvent } from '../../coordinator/store/store.ts';
import { Watchers } from '../../coordinator/store/group-commit.ts';

/**
 * before-commit: held transactions are not handed to the inner store until release() (a crash
 * now loses them). after-commit: they commit in the inner store at once, but their watch events
 * and results are withheld until release() (durable, not yet acknowledged).
 */
export type HoldStage = 'before-commit' | 'after-commit';

interface Gate {
  readonly stage: HoldStage;
  readonly passed: Promise<void>;
  open(): void;
  fail(err: Error): void;
}

export class FaultyStore implements Store {
  readonly events: string[] = [];
  readonly #inner: Store;
  readonly #watchers = new Watchers();
  readonly #unwatchInner: () => void;
  /** Inner events not yet forwarded, in revision order. */
  #queued: WatchEvent[] = [];
  #inflight = 0;
  #gate: Gate | null = null;
  #failures: { error: unknown }[] = [];
  #delay = 0;
  #seq = 0;
  #closed = false;

  constructor(inner: Store) {
    this.#inner = inner;
    this.#unwatchInner = inner.watch((e) => {
      this.#queued.push(e);
      if (this.#inflight === 0) this.#forward(Infinity);
    });
  }

  /** Holds every transaction submitted from now until release(). */
  hold(stage: HoldStage = 'before-commit'): void {
    if (this.#gate) {
      if (this.#gate.stage !== stage) throw new Error(`FaultyStore: already holding ${this.#gate.stage}, cannot hold ${stage}`);
      return;
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    promise.catch(() => {}); // a gate nobody waits on may still be failed by close()
    this.#gate = { stage, passed: promise, open: () => resolve(), fail: reject };
    this.#log(`hold ${stage}`);
  }

  /** Lets every held transaction go, in submission order (those held before-commit in one batch). */
  release(): void {
    const gate = this.#gate;
    this.#gate = null;
    this.#log('release');
    gate?.open();
  }

  /** The next n transactions reject with `err` without writing anything. */
  failNext(n = 1, err: unknown = new Error('injected commit failure')): void {
    for (let i = 0; i < n; i++) this.#failures.push({ error: err });
    this.#log(`fail-next ${n}`);
  }

  /** Every transaction submitted from now waits `ms` before it is handed to the inner store; 0 stops. */
  delayMs(ms: number): void {
    this.#delay = ms;
    this.#log(`delay ${ms}`);
  }

  get(key: string): Promise<Entry | undefined> {
    return this.#inner.get(key);
  }

  list(prefix: string): Promise<Entry[]> {
    return this.#inner.list(prefix);
  }

  revision(): Promise<number> {
    return this.#inner.revision();
  }

  onCommit(cb: (ms: number, transactions: number) => void): () => void {
    return this.#inner.onCommit?.(cb) ?? (() => undefined);
  }

  watch(cb: (event: WatchEvent) => void): () => void {
    return this.#watchers.add(cb);
  }

  async txn(ops: Op[], guards: Guard[] = []): Promise<TxnResult> {
    const id = `t${++this.#seq}`;
    const gate = this.#gate;
    const failure = this.#failures.shift();
    const delay = this.#delay;
    this.#log(`txn-submitted ${id}`);
    this.#inflight++;
    try {
      // No await before the inner txn() unless a fault asks for one: an unfaulted FaultyStore
      // batches exactly like the store it wraps.
      if (gate?.stage === 'before-commit') await gate.passed;
      if (delay > 0) await sleep(delay);
      let outcome: { ok: true; result: TxnResult } | { ok: false; error: unknown };
      if (failure) {
        outcome = { ok: false, error: failure.error };
        this.#log(`txn-failed ${id}: ${message(failure.error)}`);
      } else {
        this.#log(`txn-started ${id}`);
        try {
          const result = await this.#inner.txn(ops, guards);
          this.#log(`${result.ok ? 'txn-committed' : 'txn-guard-failed'} ${id} rev ${result.revision}`);
          outcome = { ok: true, result };
        } catch (error) {
          this.#log(`txn-failed ${id}: ${message(error)}`);
          outcome = { ok: false, error };
        }
      }
      if (gate?.stage === 'after-commit') await gate.passed;
      if (!outcome.ok) throw outcome.error;
      this.#forward(outcome.result.revision);
      this.#log(`txn-resolved ${id}`);
      return outcome.result;
    } finally {
      this.#inflight--;
      if (this.#inflight === 0) this.#forward(Infinity);
    }
  }

  /** Held transactions reject and never reach the inner store (before-commit) or their callers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#log('close');
    this.#gate?.fail(new Error('FaultyStore closed while the commit was held'));
    this.#gate = null;
    this.#unwatchInner();
    await this.#inner.close();
  }

  #forward(upTo: number): void {
    if (this.#closed) return;
    while (this.#queued.length && this.#queued[0]!.revision <= upTo) {
      const e = this.#queued.shift()!;
      this.#log(`watch ${e.revision}`);
      this.#watchers.emit(e);
    }
  }

  #log(line: string): void {
    this.events.push(line);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
