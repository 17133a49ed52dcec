// What only the sqlite store promises: it survives close and SIGKILL, runs with WAL and
// acknowledges a commit only after its own sync of the WAL (SQLite at synchronous=NORMAL), belongs to one process (an OS lock that dies with its holder), and a commit
// that cannot reach the disk rejects its whole batch and shows nothing. The shared Store
// contract is in contract.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, fstatSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../coordinator/store/sqlite.ts';
import { StoreCommitError, StoreInUseError } from '../../coordinator/store/errors.ts';
import { MusterError } from '../../shared/errors/index.ts';

const dirs: string[] = [];
function dbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'muster-sqlite-'));
  dirs.push(dir);
  return join(dir, 'state.db');
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const storeUrl = pathToFileURL(join(import.meta.dirname, '../../coordinator/store/sqlite.ts')).href;

/**
 * A child node process running `body` with `store` opened on $DB_PATH (or `opened` set to the
 * open error). It reports with JSON lines on stdout; it never outlives 60 s.
 */
function child(body: string, dbFile: string, opts: { fileSizeLimitKb?: number } = {}) {
  const script = `
    import { SqliteStore } from ${JSON.stringify(storeUrl)};
    setTimeout(() => process.exit(3), 60_000).unref();
    const say = (o) => console.log(JSON.stringify(o));
    let store, openError;
    try { store = new SqliteStore(process.env.DB_PATH); } catch (e) { openError = e; }
    ${body}
  `;
  const args = ['--input-type=module', '--no-warnings', '-e', script];
  const env = { ...process.env, DB_PATH: dbFile };
  // ulimit -f: writes past the limit fail with EFBIG (node ignores SIGXFSZ), like a full disk.
  const proc: ChildProcess = opts.fileSizeLimitKb
    ? spawn('bash', ['-c', `ulimit -f ${opts.fileSizeLimitKb} && exec "$0" "$@"`, process.execPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  return {
    proc,
    exited,
    /** The next JSON line the child printed; fails with its stderr if it exits first. */
    async next(): Promise<Record<string, unknown>> {
      const n = await lines.next();
      if (n.done) throw new Error(`child exited without reporting; stderr:\n${stderr}`);
      return JSON.parse(n.value) as Record<string, unknown>;
    },
  };
}

const HOLD = `
  if (openError) { say({ error: openError.message }); process.exit(1); }
  const r = await store.txn([{ type: 'put', key: 'child', value: String(process.pid) }]);
  say({ ready: true, pid: process.pid, revision: r.revision });
  setInterval(() => {}, 1000);
`;
const TRY_OPEN = `
  say(openError ? { refused: true, name: openError.name, reason: openError.reason, message: openError.message } : { refused: false });
  await store?.close();
`;

test('survives close and reopen: entries, revisions, the next revision', async () => {
  const path = dbPath();
  const a = new SqliteStore(path);
  await a.txn([{ type: 'put', key: 'k', value: '1' }]);
  await a.txn([{ type: 'put', key: 'k', value: '2' }, { type: 'put', key: 'j', value: 'x' }]);
  await a.txn([{ type: 'delete', key: 'j' }]);
  await a.close();
  const b = new SqliteStore(path);
  try {
    assert.is(await b.revision(), 3);
    assert.equal(await b.list(''), [{ key: 'k', value: '2', createRevision: 1, modRevision: 2 }]);
    assert.equal(await b.txn([{ type: 'put', key: 'k', value: '3' }]), { ok: true, revision: 4 });
  } finally {
    await b.close();
  }
});

test('pragmas read back from SQLite: WAL, synchronous=NORMAL (the store syncs the WAL itself), exclusive locking; also after reopen', async () => {
  const path = dbPath();
  for (let i = 0; i < 2; i++) {
    const s = new SqliteStore(path);
    try {
      assert.equal(s.pragmas(), { journalMode: 'wal', synchronous: 1, lockingMode: 'exclusive' });
    } finally {
      await s.close();
    }
  }
});

/** A WAL sync the test releases (or fails) by hand; records the descriptors it was asked to sync. */
function heldSync() {
  const calls: { fd: number; done: PromiseWithResolvers<void> }[] = [];
  return {
    calls,
    fn: (fd: number) => {
      const done = Promise.withResolvers<void>();
      calls.push({ fd, done });
      return done.promise;
    },
  };
}
const turn = () => new Promise((r) => setImmediate(r));

test('a commit is shown to watchers and acknowledged only after a WAL sync that began after it; syncs coalesce while one runs', async () => {
  const path = dbPath();
  const sync = heldSync();
  const s = new SqliteStore(path, { syncWal: sync.fn });
  const seen: number[] = [];
  s.watch((e) => seen.push(e.revision));
  const acked: number[] = [];
  try {
    const first = s.txn([{ type: 'put', key: 'a', value: '1' }]).then((r) => acked.push(r.revision));
    await turn();
    assert.is(sync.calls.length, 1, 'the first batch asked for a sync');
    // The descriptor synced is the database's WAL file.
    assert.is(fstatSync(sync.calls[0]!.fd).ino, statSync(`${path}-wal`).ino);
    // Committed to SQLite, not yet synced: nobody sees it.
    await turn();
    assert.equal([seen, acked], [[], []]);
    // Two more batches while the first sync runs: they share the one next sync.
    const second = s.txn([{ type: 'put', key: 'b', value: '2' }]).then((r) => acked.push(r.revision));
    await turn();
    const third = s.txn([{ type: 'put', key: 'c', value: '3' }]).then((r) => acked.push(r.revision));
    await turn();
    assert.is(sync.calls.length, 1, 'no second sync while the first runs');
    sync.calls[0]!.done.resolve();
    await first;
    assert.equal([seen, acked], [[1], [1]]);
    await turn();
    assert.is(sync.calls.length, 2, 'one more sync for the two batches committed meanwhile');
    assert.equal(acked, [1], 'not before their sync');
    sync.calls[1]!.done.resolve();
    await Promise.all([second, third]);
    assert.equal([seen, acked], [[1, 2, 3], [1, 2, 3]]);
  } finally {
    for (const c of sync.calls) c.done.resolve();
    await s.close();
  }
});

test('a failed WAL sync rejects its batch, shows nothing, and the store stays failed (fail-stop)', async () => {
  const path = dbPath();
  const sync = heldSync();
  const s = new SqliteStore(path, { syncWal: sync.fn });
  const seen: number[] = [];
  s.watch((e) => seen.push(e.revision));
  try {
    const t = s.txn([{ type: 'put', key: 'a', value: '1' }]);
    await turn();
    sync.calls[0]!.done.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const err = await t.catch((e: unknown) => e);
    assert.instance(err, StoreCommitError);
    assert.ok((err as Error).message.includes(path), (err as Error).message);
    assert.equal(seen, []);
    const later = await s.txn([{ type: 'put', key: 'b', value: '2' }]).catch((e: unknown) => e);
    assert.instance(later, StoreCommitError, 'nothing is accepted after a failed sync');
    assert.equal(seen, []);
  } finally {
    await s.close();
  }
});

test('a second store in the same process is refused, naming the file and our pid; the first is unharmed', async () => {
  const path = dbPath();
  const first = new SqliteStore(path);
  try {
    assert.is(readFileSync(`${path}.lock`, 'utf8'), `${process.pid}\n`);
    let err: unknown;
    try {
      new SqliteStore(path);
    } catch (e) {
      err = e;
    }
    assert.instance(err, StoreInUseError);
    assert.instance(err, MusterError);
    const e = err as StoreInUseError;
    assert.is(e.kind, 'failed-precondition');
    assert.is(e.reason, 'data-dir-in-use');
    assert.is(e.pid, process.pid);
    assert.ok(e.message.includes(path), e.message);
    assert.ok(e.message.includes(`in use by pid ${process.pid}`), e.message);
    // The refused connection was closed; closing it must not have dropped our lock (fcntl
    // locks are per process): another process is still refused.
    const c = child(TRY_OPEN, path);
    const report = await c.next();
    assert.is(report.refused, true, JSON.stringify(report));
    assert.is(report.reason, 'data-dir-in-use');
    assert.ok(String(report.message).includes(`in use by pid ${process.pid}`), String(report.message));
    await c.exited;
    assert.equal(await first.txn([{ type: 'put', key: 'k', value: '1' }]), { ok: true, revision: 1 });
  } finally {
    await first.close();
  }
  assert.not.ok(existsSync(`${path}.lock`), 'close removes the pid file');
  // Closed means released.
  const again = new SqliteStore(path);
  assert.is(await again.revision(), 1);
  await again.close();
});

test('a child process holding the database excludes us; once it is SIGKILLed, we open it and find its write', async () => {
  const path = dbPath();
  const holder = child(HOLD, path);
  try {
    const ready = await holder.next();
    assert.equal(ready, { ready: true, pid: holder.proc.pid, revision: 1 });
    let err: unknown;
    try {
      new SqliteStore(path);
    } catch (e) {
      err = e;
    }
    assert.instance(err, StoreInUseError);
    assert.ok((err as Error).message.includes(`${path} is in use by pid ${holder.proc.pid}`), (err as Error).message);
  } finally {
    holder.proc.kill('SIGKILL');
  }
  assert.equal(await holder.exited, { code: null, signal: 'SIGKILL' });
  const s = new SqliteStore(path);
  try {
    assert.is(await s.revision(), 1);
    assert.is((await s.get('child'))?.value, String(holder.proc.pid));
    assert.is(readFileSync(`${path}.lock`, 'utf8'), `${process.pid}\n`, 'the stale pid file is taken over');
  } finally {
    await s.close();
  }
});

test('a commit that cannot reach the disk rejects its whole batch, emits nothing, and the store stays failed', async () => {
  const path = dbPath();
  // 512 KiB per file: the schema and a small write fit, a 2 MiB value cannot.
  const c = child(
    `
    const events = [];
    store.watch((e) => events.push(e.revision));
    const small = await store.txn([{ type: 'put', key: 'small', value: '1' }]);
    const outcome = (p) => p.then((r) => ({ ok: r.ok, revision: r.revision }), (e) => ({ rejected: e.name, reason: e.reason, message: e.message }));
    const batch = await Promise.all([
      outcome(store.txn([{ type: 'put', key: 'before', value: 'x' }])),
      outcome(store.txn([{ type: 'put', key: 'big', value: 'x'.repeat(2 * 1024 * 1024) }])),
      outcome(store.txn([{ type: 'put', key: 'after', value: 'x' }])),
    ]);
    const later = await outcome(store.txn([{ type: 'put', key: 'later', value: 'x' }]));
    say({ small: small.revision, batch, later, events, revision: await store.revision() });
    await store.close();
    `,
    path,
    { fileSizeLimitKb: 512 },
  );
  const report = await c.next();
  assert.equal((await c.exited).code, 0);
  assert.is(report.small, 1);
  const outcomes = [...(report.batch as Record<string, unknown>[]), report.later as Record<string, unknown>];
  assert.is(outcomes.length, 4);
  for (const o of outcomes) {
    assert.is(o.rejected, 'StoreCommitError', JSON.stringify(o));
    assert.is(o.reason, 'store-commit-failed');
    assert.ok(String(o.message).includes(path), String(o.message));
  }
  assert.equal(report.events, [1], 'only the commit that reached the disk was shown');
  assert.is(report.revision, 1);
  const s = new SqliteStore(path);
  try {
    assert.is(await s.revision(), 1);
    assert.equal((await s.list('')).map((e) => e.key), ['small']);
  } finally {
    await s.close();
  }
});

test.run();
