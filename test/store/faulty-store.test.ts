// FaultyStore (test/helpers/faulty-store.ts) does what tests will lean on: holds commits before
// or after the inner commit, fails the next n, delays, and logs it all in order. Without faults
// it passes the Store contract (contract.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import type { Op } from '../../coordinator/store/store.ts';
import { FaultyStore } from '../helpers/faulty-store.ts';
import { rejects } from '../helpers/assert.ts';

const put = (key: string, value = 'v'): Op => ({ type: 'put', key, value });

/**
 * Lets the event loop go round `n` times. MemoryStore commits within one turn, so an unheld
 * txn submitted before this is settled after it: what is still pending was held.
 */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn();
}

/** A FaultyStore over a MemoryStore, and a log the test writes to alongside the store's own. */
function setup() {
  const inner = new MemoryStore();
  const store = new FaultyStore(inner);
  const log: string[] = [];
  store.watch((e) => log.push(`watch ${e.revision}`));
  const innerLog: number[] = [];
  inner.watch((e) => innerLog.push(e.revision));
  const track = <T>(name: string, p: Promise<T>) =>
    p.then(
      (r) => (log.push(`resolved ${name}`), r),
      (e: Error) => {
        log.push(`rejected ${name}: ${e.message}`);
        throw e;
      },
    );
  return { inner, store, log, innerLog, track };
}

test('hold (before-commit): nothing reaches the inner store, no event, no result, until release', async () => {
  const { inner, store, log, innerLog, track } = setup();
  await store.txn([put('a')]);
  store.hold();
  const p = track('b', store.txn([put('b')]));
  await turns();
  assert.equal(log, ['watch 1']);
  assert.is(await inner.revision(), 1);
  assert.is(await store.get('b'), undefined);
  assert.equal(innerLog, [1]);
  store.release();
  assert.equal(await p, { ok: true, revision: 2 });
  assert.equal(log, ['watch 1', 'watch 2', 'resolved b']);
  assert.equal(store.events, [
    'txn-submitted t1',
    'txn-started t1',
    'txn-committed t1 rev 1',
    'watch 1',
    'txn-resolved t1',
    'hold before-commit',
    'txn-submitted t2',
    'release',
    'txn-started t2',
    'txn-committed t2 rev 2',
    'watch 2',
    'txn-resolved t2',
  ]);
});

test('hold (after-commit): the inner store commits, but the event and the result wait for release', async () => {
  const { inner, store, log, innerLog, track } = setup();
  store.hold('after-commit');
  const p = track('a', store.txn([put('a', '1')]));
  await turns();
  assert.equal(innerLog, [1], 'durable in the inner store');
  assert.is((await inner.get('a'))?.value, '1');
  assert.equal(log, [], 'but not shown, not acknowledged');
  store.release();
  await p;
  assert.equal(log, ['watch 1', 'resolved a']);
  assert.equal(store.events, ['hold after-commit', 'txn-submitted t1', 'txn-started t1', 'txn-committed t1 rev 1', 'release', 'watch 1', 'txn-resolved t1']);
});

test('held txns are released in submission order, as one batch: consecutive revisions, guards in order', async () => {
  const { store, log, innerLog, track } = setup();
  store.hold();
  const ps = [
    track('t1', store.txn([put('k', 'a')], [{ key: 'k', modRevision: 0 }])),
    track('t2', store.txn([put('k', 'b')], [{ key: 'k', modRevision: 1 }])),
    track('t3', store.txn([put('k', 'c')], [{ key: 'k', modRevision: 0 }])),
  ];
  await turns();
  assert.equal(innerLog, []);
  store.release();
  assert.equal(await Promise.all(ps), [
    { ok: true, revision: 1 },
    { ok: true, revision: 2 },
    { ok: false, revision: 2 },
  ]);
  assert.equal(log.filter((l) => l.startsWith('watch')), ['watch 1', 'watch 2']);
  assert.equal(log.filter((l) => l.startsWith('resolved')), ['resolved t1', 'resolved t2', 'resolved t3']);
  assert.ok(log.indexOf('watch 1') < log.indexOf('resolved t1') && log.indexOf('watch 2') < log.indexOf('resolved t2'), log.join(', '));
  // All three were started before any committed: one group commit in the inner store.
  const started = store.events.filter((e) => /^txn-(started|committed|guard-failed)/.test(e));
  assert.equal(started, ['txn-started t1', 'txn-started t2', 'txn-started t3', 'txn-committed t1 rev 1', 'txn-committed t2 rev 2', 'txn-guard-failed t3 rev 2']);
});

test('failNext(n, err): the next n txns reject with err and write nothing; the one after commits', async () => {
  const { inner, store, log, innerLog, track } = setup();
  const disk = new Error('disk on fire');
  store.failNext(2, disk);
  const a = track('a', store.txn([put('a')]));
  const b = track('b', store.txn([put('b')]));
  const c = track('c', store.txn([put('c')]));
  assert.is(await a.catch((e: unknown) => e), disk);
  assert.is(await b.catch((e: unknown) => e), disk);
  assert.equal(await c, { ok: true, revision: 1 });
  assert.equal(innerLog, [1]);
  assert.equal((await inner.list('')).map((e) => e.key), ['c']);
  assert.equal(log, ['rejected a: disk on fire', 'rejected b: disk on fire', 'watch 1', 'resolved c']);
  assert.ok(store.events.includes('txn-failed t1: disk on fire'));
  assert.not.ok(store.events.includes('txn-started t1'));
  // The default error, once.
  store.failNext();
  await rejects(() => store.txn([put('d')]), 'injected commit failure');
  assert.equal(await store.txn([put('d')]), { ok: true, revision: 2 });
});

test('a failure held with hold() is delivered only at release', async () => {
  const { store, log, innerLog, track } = setup();
  store.hold();
  store.failNext(1);
  const p = track('a', store.txn([put('a')])).catch(() => 'rejected');
  await turns();
  assert.equal(log, []);
  store.release();
  assert.is(await p, 'rejected');
  assert.equal(log, ['rejected a: injected commit failure']);
  assert.equal(innerLog, []);
});

test('delayMs: a txn is not started before the delay has passed', async () => {
  const { store } = setup();
  store.delayMs(40);
  const started = performance.now();
  assert.equal(await store.txn([put('a')]), { ok: true, revision: 1 });
  // Timers never fire early; 1 ms for clock rounding.
  assert.ok(performance.now() - started >= 39, `took ${performance.now() - started} ms`);
  store.delayMs(0);
  const txnStarted = store.events.indexOf('txn-started t1');
  assert.equal(store.events.slice(0, txnStarted + 1), ['delay 40', 'txn-submitted t1', 'txn-started t1']);
});

test('close while held: held txns reject and never reach the inner store or the watchers', async () => {
  const { inner, store, log, innerLog, track } = setup();
  store.hold();
  const before = track('a', store.txn([put('a')])).catch(() => 'rejected');
  await turns();
  await store.close();
  assert.is(await before, 'rejected');
  assert.equal(innerLog, []);
  assert.equal(log, ['rejected a: FaultyStore closed while the commit was held']);
  await rejects(() => inner.revision(), 'is closed');
});

test('close while held after commit: durable in the inner store, never shown or acknowledged', async () => {
  const inner = new MemoryStore();
  const store = new FaultyStore(inner);
  const log: string[] = [];
  store.watch((e) => log.push(`watch ${e.revision}`));
  store.hold('after-commit');
  const p = store.txn([put('a')]).catch((e: Error) => e.message);
  await turns();
  // Read the inner state before close: this is what a restarted coordinator would find.
  assert.is(await inner.revision(), 1);
  await store.close();
  assert.is(await p, 'FaultyStore closed while the commit was held');
  assert.equal(log, []);
});

test.run();
