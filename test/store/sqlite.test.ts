// What only the sqlite store promises: it survives close and SIGKILL, runs with WAL +
// synchronous=FULL, belongs to one process (an OS lock that dies with its holder), and a commit
// that cannot reach the disk rejects its whole batch and shows nothing. The shared Store
// contract is in contract.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../coordinator/store/sqlite.ts';
import { StoreInUseError } from '../../coordinator/store/errors.ts';
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

test('pragmas read back from SQLite: WAL, synchronous=FULL, exclusive locking; also after reopen', async () => {
  const path = dbPath();
  for (let i = 0; i < 2; i++) {
    const s = new SqliteStore(path);
    try {
      assert.equal(s.pragmas(), { journalMode: 'wal', synchronous: 2, lockingMode: 'exclusive' });
    } finally {
      await s.close();
    }
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
