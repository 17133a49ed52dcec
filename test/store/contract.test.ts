// The Store contract (coordinator/store/store.ts), one set of tests run against every store:
// sqlite on a temp file, memory, and FaultyStore with no faults (it must be transparent).
// Sqlite-only behaviour (durability, pragmas, the lock, commit failure) is in sqlite.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Op, Store, WatchEvent } from '../../coordinator/store/store.ts';
import { SqliteStore } from '../../coordinator/store/sqlite.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { StoreClosedError } from '../../coordinator/store/errors.ts';
import { FaultyStore } from '../helpers/faulty-store.ts';
import { rejects } from '../helpers/assert.ts';

interface Subject {
  name: string;
  open(): { store: Store; cleanup(): void };
}

const subjects: Subject[] = [
  {
    name: 'SqliteStore',
    open() {
      const dir = mkdtempSync(join(tmpdir(), 'muster-store-'));
      return { store: new SqliteStore(join(dir, 'state.db')), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  { name: 'MemoryStore', open: () => ({ store: new MemoryStore(), cleanup() {} }) },
  { name: 'FaultyStore(MemoryStore)', open: () => ({ store: new FaultyStore(new MemoryStore()), cleanup() {} }) },
];

const put = (key: string, value: string): Op => ({ type: 'put', key, value });
const del = (key: string): Op => ({ type: 'delete', key });

/** Collects every watch event of a store. */
function recorder(store: Store): { events: WatchEvent[]; stop: () => void } {
  const events: WatchEvent[] = [];
  const stop = store.watch((e) => events.push(e));
  return { events, stop };
}

for (const subject of subjects) {
  const test = suite(subject.name);
  let store: Store;
  let cleanup: () => void;
  test.before.each(() => {
    ({ store, cleanup } = subject.open());
  });
  test.after.each(async () => {
    await store.close();
    cleanup();
  });

  test('an empty store: revision 0, nothing to get or list', async () => {
    assert.is(await store.revision(), 0);
    assert.is(await store.get('a'), undefined);
    assert.equal(await store.list(''), []);
  });

  test('list returns the keys with the prefix, in key order, and no others', async () => {
    // Submitted out of order; "nodes0" is the first key past "nodes/" ('0' follows '/').
    const keys = ['pools/a', 'nodes/b', 'nodes0', 'nodes/a/x', 'node', 'nodes/a', 'nodesX'];
    await store.txn(keys.map((k) => put(k, `v-${k}`)));
    const keysOf = async (prefix: string) => (await store.list(prefix)).map((e) => e.key);
    assert.equal(await keysOf('nodes/'), ['nodes/a', 'nodes/a/x', 'nodes/b']);
    assert.equal(await keysOf('nodes/a'), ['nodes/a', 'nodes/a/x']);
    assert.equal(await keysOf('nodes/a/'), ['nodes/a/x']);
    assert.equal(await keysOf('node'), ['node', 'nodes/a', 'nodes/a/x', 'nodes/b', 'nodes0', 'nodesX']);
    assert.equal(await keysOf(''), ['node', 'nodes/a', 'nodes/a/x', 'nodes/b', 'nodes0', 'nodesX', 'pools/a']);
    assert.equal(await keysOf('nodes/c'), []);
    assert.equal(await keysOf('zzz'), []);
    const [first] = await store.list('nodes/a/');
    assert.equal(first, { key: 'nodes/a/x', value: 'v-nodes/a/x', createRevision: 1, modRevision: 1 });
  });

  test('values are opaque text and come back byte for byte', async () => {
    const values = ['', '{"name":"nød-1","note":"☃ \\u0000 \'quoted\'"}', 'x'.repeat(100_000)];
    await store.txn(values.map((v, i) => put(`v/${i}`, v)));
    for (const [i, v] of values.entries()) assert.is((await store.get(`v/${i}`))?.value, v);
  });

  test('each successful txn is the next revision, and revision() agrees', async () => {
    for (let want = 1; want <= 4; want++) {
      const r = await store.txn([put(`k${want}`, 'v')]);
      assert.equal(r, { ok: true, revision: want });
      assert.is(await store.revision(), want);
    }
    // Every successful transaction counts, even one that writes nothing.
    assert.equal(await store.txn([]), { ok: true, revision: 5 });
    assert.is(await store.revision(), 5);
  });

  test('createRevision stays, modRevision follows writes; delete ends the key', async () => {
    await store.txn([put('k', '1')]);
    await store.txn([put('k', '2')]);
    await store.txn([put('other', 'x')]);
    assert.equal(await store.get('k'), { key: 'k', value: '2', createRevision: 1, modRevision: 2 });
    const r = await store.txn([del('k')]);
    assert.equal(r, { ok: true, revision: 4 });
    assert.is(await store.get('k'), undefined);
    assert.equal((await store.list('')).map((e) => e.key), ['other']);
    // Created again: a new life, a new createRevision.
    await store.txn([put('k', '3')]);
    assert.equal(await store.get('k'), { key: 'k', value: '3', createRevision: 5, modRevision: 5 });
    // Deleting a key that is not there is still a successful transaction.
    assert.equal(await store.txn([del('never')]), { ok: true, revision: 6 });
  });

  test('ops of one txn apply in order, at one revision', async () => {
    const r = await store.txn([put('a', '1'), put('a', '2'), put('b', '1'), del('b'), put('c', '1')]);
    assert.equal(r, { ok: true, revision: 1 });
    assert.equal(await store.list(''), [
      { key: 'a', value: '2', createRevision: 1, modRevision: 1 },
      { key: 'c', value: '1', createRevision: 1, modRevision: 1 },
    ]);
  });

  test('guards: modRevision must match, 0 means absent', async () => {
    assert.equal(await store.txn([put('k', '1')], [{ key: 'k', modRevision: 0 }]), { ok: true, revision: 1 });
    assert.equal(await store.txn([put('k', '2')], [{ key: 'k', modRevision: 1 }]), { ok: true, revision: 2 });
    assert.equal(await store.txn([put('k', '3')], [{ key: 'k', modRevision: 1 }]), { ok: false, revision: 2 });
    assert.equal(await store.txn([put('k', '3')], [{ key: 'k', modRevision: 0 }]), { ok: false, revision: 2 });
    assert.equal(await store.txn([put('j', '1')], [{ key: 'j', modRevision: 0 }, { key: 'k', modRevision: 2 }]), { ok: true, revision: 3 });
    await store.txn([del('j')]);
    assert.equal(await store.txn([put('j', '2')], [{ key: 'j', modRevision: 0 }]), { ok: true, revision: 5 });
    assert.is((await store.get('k'))?.value, '2');
  });

  test('a failing guard writes nothing, keeps the revision, emits no event', async () => {
    await store.txn([put('k', '1'), put('x', '1')]);
    const rec = recorder(store);
    const r = await store.txn([put('k', '2'), del('x'), put('new', '1')], [{ key: 'x', modRevision: 1 }, { key: 'k', modRevision: 7 }]);
    assert.equal(r, { ok: false, revision: 1 });
    assert.is(await store.revision(), 1);
    assert.equal((await store.list('')).map((e) => [e.key, e.value, e.modRevision]), [['k', '1', 1], ['x', '1', 1]]);
    // A later successful txn proves the watch is alive: only its event arrives.
    await store.txn([put('z', '1')]);
    assert.equal(rec.events.map((e) => e.revision), [2]);
  });

  test('txns submitted in one turn: consecutive revisions, later guards see earlier writes', async () => {
    await store.txn([put('base', '1')]);
    const rec = recorder(store);
    const results = await Promise.all([
      store.txn([put('k', 'a')], [{ key: 'k', modRevision: 0 }]),
      store.txn([put('k', 'b')], [{ key: 'k', modRevision: 2 }]), // the first one's write
      store.txn([put('k', 'c')], [{ key: 'k', modRevision: 0 }]), // k exists now
      store.txn([put('m', 'd')]),
    ]);
    assert.equal(results, [
      { ok: true, revision: 2 },
      { ok: true, revision: 3 },
      { ok: false, revision: 3 },
      { ok: true, revision: 4 },
    ]);
    assert.equal(await store.get('k'), { key: 'k', value: 'b', createRevision: 2, modRevision: 3 });
    assert.equal(rec.events.map((e) => e.revision), [2, 3, 4]);
  });

  test('watch: every commit once, in revision order, with its ops, before its txn resolves', async () => {
    const log: string[] = [];
    const seen: WatchEvent[] = [];
    store.watch((e) => {
      seen.push(e);
      log.push(`event ${e.revision}`);
    });
    const submit = (ops: Op[]) => store.txn(ops).then((r) => (log.push(`resolved ${r.revision}`), r));
    const first = [submit([put('a', '1')]), submit([put('b', '1'), del('a')])];
    await Promise.all(first);
    const r3 = await store.txn([put('c', '1')]);
    // Awaiting txn() is enough to have seen its event.
    assert.ok(log.includes(`event ${r3.revision}`), log.join(', '));
    log.push(`resolved ${r3.revision}`);
    assert.equal(log.filter((l) => l.startsWith('event')), ['event 1', 'event 2', 'event 3']);
    for (const rev of [1, 2, 3]) assert.ok(log.indexOf(`event ${rev}`) < log.indexOf(`resolved ${rev}`), log.join(', '));
    assert.equal(
      seen.map((e) => ({ revision: e.revision, ops: [...e.ops] })),
      [
        { revision: 1, ops: [put('a', '1')] },
        { revision: 2, ops: [put('b', '1'), del('a')] },
        { revision: 3, ops: [put('c', '1')] },
      ],
    );
  });

  test('watch shows the ops as submitted, even if the caller reuses its array', async () => {
    const rec = recorder(store);
    const ops = [put('a', '1')];
    const p = store.txn(ops);
    ops.push(put('b', 'late'));
    (ops[0] as { value: string }).value = 'changed';
    await p;
    assert.equal([...rec.events[0]!.ops], [put('a', '1')]);
    assert.is((await store.get('a'))?.value, '1');
    assert.is(await store.get('b'), undefined);
  });

  test('unsubscribing stops that watcher only', async () => {
    const a = recorder(store);
    const b = recorder(store);
    await store.txn([put('k', '1')]);
    a.stop();
    a.stop(); // twice is harmless
    await store.txn([put('k', '2')]);
    assert.equal(a.events.map((e) => e.revision), [1]);
    assert.equal(b.events.map((e) => e.revision), [1, 2]);
  });

  test('a watcher that throws does not stop the others or the commit, and is not swallowed', async () => {
    const thrown: unknown[] = [];
    const onUncaught = (err: unknown) => thrown.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const boom = new Error('watcher bug');
      store.watch(() => {
        throw boom;
      });
      const rec = recorder(store);
      assert.equal(await store.txn([put('k', '1')]), { ok: true, revision: 1 });
      assert.equal(rec.events.map((e) => e.revision), [1]);
      assert.is((await store.get('k'))?.value, '1');
      assert.equal(thrown, [boom]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  test('close commits what was already submitted; afterwards the store refuses', async () => {
    const p = store.txn([put('k', '1')]);
    await store.close();
    assert.equal(await p, { ok: true, revision: 1 });
    const e = await rejects(() => store.txn([put('k', '2')]), 'is closed');
    assert.instance(e, StoreClosedError);
    await rejects(() => store.get('k'), 'is closed');
    await rejects(() => store.list(''), 'is closed');
    await store.close(); // twice is harmless
  });

  test.run();
}
