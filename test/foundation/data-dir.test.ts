// Data-dir safety, against the real embedded store (node:sqlite) in a temp data dir: a start
// refuses what would silently lose the cluster (state gone while the CAs remain, a corrupt row,
// a second coordinator), says which data dir and what to do, and rewrites nothing that is right.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startCoordinator } from '../../coordinator/server/coordinator.ts';
import { loadAdminConfig } from '../../coordinator/admin/config.ts';
import { connectAdmin } from '../../coordinator/admin/client.ts';
import { main } from '../../coordinator/cli/main.ts';
import { memoryIO } from '../../shared/cli/io.ts';
import { join as joinCoordinator } from '../../agent/client/join.ts';
import { agentClient } from '../../agent/client/channels.ts';
import { unary } from '../../shared/wire/status.ts';
import { COORDINATOR_DATA } from '../../shared/constants.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { tempDir, testCoordinator, captureLogger } from '../helpers/cluster.ts';
import { rejects } from '../helpers/assert.ts';
import { freePort, spawnCoordinator } from '../helpers/coordinator-child.ts';

const net = addressBlock(import.meta.url);
const HOST = net.host(1);
const OTHER_HOST = net.host(2);
const NODE = net.host(21);

function newDataDir(): string {
  return join(tempDir('muster-data-dir-'), 'coord');
}

/** A data dir that has been through one start: CAs, admin.yaml, a token, one joined node. */
async function initialisedDataDir() {
  const dataDir = newDataDir();
  const c = await testCoordinator(dataDir, { listen: `${HOST}:0` });
  try {
    const { token, record } = await c.state.tokens.create({ description: 'before' });
    const identity = await joinCoordinator(
      { coordinator: c.address, token, caHash: c.identity.caPin, insecureSkipCaVerification: false, nodeName: 'node-1', machineId: 'm-1', address: NODE, labels: {}, agentVersion: 'test' },
      captureLogger('node-1'),
    );
    return { dataDir, token, tokenId: record.id, identity, caPin: c.identity.caPin };
  } finally {
    await c.close();
  }
}

const db = (dataDir: string) => join(dataDir, COORDINATOR_DATA.database);

for (const [what, damage] of [
  ['deleted', (dataDir: string) => rmSync(db(dataDir))],
  ['empty (0 bytes)', (dataDir: string) => writeFileSync(db(dataDir), '')],
] as const) {
  test(`a data dir with CAs whose state.db is ${what} refuses to start, naming the data dir and --reinitialize`, async () => {
    const { dataDir } = await initialisedDataDir();
    damage(dataDir);
    const e = await rejects(() => startCoordinator({ dataDir, listen: `${HOST}:0`, logger: captureLogger() }));
    assert.is(e.kind, 'failed-precondition');
    assert.ok(e.message.includes(`data dir ${dataDir}`), `names the data dir: ${e.message}`);
    assert.ok(e.message.includes(db(dataDir)), `names the database: ${e.message}`);
    assert.match(e.message, /--reinitialize/);
    assert.match(e.message, /Restore state\.db from a backup/);
    // Refusing wrote nothing: still no state, so the next start refuses just the same.
    assert.is(existsSync(db(dataDir)) ? statSync(db(dataDir)).size : -1, what === 'deleted' ? -1 : 0);
  });
}

test('--reinitialize starts on a data dir whose state is gone, warns, and every node must join again', async () => {
  const { dataDir, token, tokenId, identity, caPin } = await initialisedDataDir();
  rmSync(db(dataDir));
  const c = await testCoordinator(dataDir, { listen: `${HOST}:0`, reinitialize: true });
  try {
    assert.ok(
      c.log.lines.some((l) => / WARN /i.test(l) && l.includes(`data dir ${dataDir}`) && l.includes('--reinitialize') && l.includes('every node must join again')),
      `warned:\n${c.log.lines.join('\n')}`,
    );
    assert.is(c.identity.caPin, caPin, 'the CAs are kept');
    assert.is(c.identity.created, false);
    assert.equal(c.state.tokens.list(), [], 'the old tokens are gone');
    // The node that had joined is unknown now: its identity is refused, and so is its old token.
    const client = agentClient(c.address, identity);
    try {
      const e = await rejects(() => unary(c.address, client, 'WatchAssignment', { applied_revision: 0, hold_ms: 0, probe_plan_id: 0 }, 5000));
      assert.is(e.kind, 'permission-denied');
      assert.match(e.message, /node node-1 is not registered with this coordinator/);
    } finally {
      client.close();
    }
    const join = (t: string) =>
      joinCoordinator({ coordinator: c.address, token: t, caHash: caPin, insecureSkipCaVerification: false, nodeName: 'node-1', machineId: 'm-1', address: NODE, labels: {}, agentVersion: 'test' }, captureLogger('node-1'));
    const refused = await rejects(() => join(token));
    assert.match(refused.message, new RegExp(tokenId));
    // Joining again with a new token works.
    const fresh = await c.state.tokens.create({});
    const again = await join(fresh.token);
    assert.is(again.nodeName, 'node-1');
    assert.equal(c.state.status().map((r) => r.name), ['node-1']);
  } finally {
    await c.close();
  }
  // The reinitialised state is the state now: a plain start takes it.
  const c2 = await testCoordinator(dataDir, { listen: `${HOST}:0` });
  assert.equal(c2.state.status().map((r) => r.name), ['node-1']);
  await c2.close();
});

test('two coordinators in one process on one data dir: the second is refused with "in use by pid N"; the first keeps its lock', async () => {
  const dataDir = newDataDir();
  const c1 = await testCoordinator(dataDir, { listen: `${HOST}:0` });
  let c1Open = true;
  try {
    const e = await rejects(() => startCoordinator({ dataDir, listen: `${HOST}:0`, logger: captureLogger() }));
    assert.is(e.reason, 'data-dir-in-use');
    assert.ok(e.message.includes(`in use by pid ${process.pid}`), e.message);
    assert.ok(e.message.includes(db(dataDir)), e.message);
    // The refused attempt did not drop the first one's lock (closing any descriptor of the file
    // drops a process's fcntl locks): another process is refused just the same.
    const other = spawnCoordinator(['--data-dir', dataDir, '--listen', `${HOST}:0`, '--log-level', 'error']);
    const { code } = await other.exitWithin();
    assert.is.not(code, 0, other.output());
    assert.ok(other.output().includes(`in use by pid ${process.pid}`), other.output());
    // And the first still commits and serves.
    const admin = connectAdmin(await loadAdminConfig({ dataDir, env: {} }));
    try {
      const { info } = await admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'still mine' });
      assert.ok((await admin.call('ListTokens', {})).tokens.some((t) => t.id === info!.id));
    } finally {
      admin.close();
    }
    await c1.close();
    c1Open = false;
    const c2 = await testCoordinator(dataDir, { listen: `${HOST}:0` });
    assert.ok(c2.state.tokens.list().some((t) => t.description === 'still mine'));
    await c2.close();
  } finally {
    if (c1Open) await c1.close();
  }
});

test('two coordinator processes on one data dir: the second is refused with the first one\'s pid; after SIGKILL of the first a new one starts', async () => {
  const dataDir = newDataDir();
  const port = await freePort(HOST);
  const args = ['--data-dir', dataDir, '--listen', `${HOST}:${port}`, '--log-level', 'warn'];
  const first = spawnCoordinator(args);
  try {
    await first.until('Join nodes');
    const second = spawnCoordinator(args);
    const { code } = await second.exitWithin();
    assert.is.not(code, 0);
    assert.ok(second.output().includes(`in use by pid ${first.pid}`), second.output());
    assert.ok(second.output().includes(db(dataDir)), second.output());
    const e = await rejects(() => startCoordinator({ dataDir, listen: `${HOST}:0`, logger: captureLogger() }));
    assert.ok(e.message.includes(`in use by pid ${first.pid}`), e.message);
    assert.ok(!first.child.killed && first.child.exitCode === null, 'the first is still running');

    await first.kill();
    // The kernel dropped the dead process's lock; the pid file it left names a dead process and is no lock.
    const c = await testCoordinator(dataDir, { listen: `${HOST}:${port}` });
    try {
      assert.ok(c.state.tokens.list().some((t) => t.description === 'created at first start'), 'the state the first one committed is there');
    } finally {
      await c.close();
    }
  } finally {
    await first.kill();
  }
});

/** mtime, inode and size of every file under pki/ and of admin.yaml. */
function snapshot(dataDir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p, { bigint: true });
      if (st.isDirectory()) walk(p);
      else out.set(relative(dataDir, p), `mtime ${st.mtimeNs} ino ${st.ino} size ${st.size}`);
    }
  };
  walk(join(dataDir, 'pki'));
  const admin = statSync(join(dataDir, COORDINATOR_DATA.adminConfig), { bigint: true });
  out.set(COORDINATOR_DATA.adminConfig, `mtime ${admin.mtimeNs} ino ${admin.ino} size ${admin.size}`);
  return out;
}

function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

test('a restart with the same options rewrites no file of the PKI nor admin.yaml; a new --advertise changes only admin.yaml and the server certificate', async () => {
  const dataDir = newDataDir();
  const port = await freePort(HOST);
  const start = async (advertise?: string) => (await testCoordinator(dataDir, { listen: `${HOST}:${port}`, ...(advertise ? { advertise } : {}) })).close();
  await start();
  const first = snapshot(dataDir);
  assert.ok(first.size >= 11, `PKI files: ${[...first.keys()].join(', ')}`);
  assert.ok(first.has(COORDINATOR_DATA.serverCert) && first.has(COORDINATOR_DATA.adminKey) && first.has(COORDINATOR_DATA.nodeCaKey));

  await start();
  assert.equal(changed(first, snapshot(dataDir)), [], 'files rewritten by a restart with the same options');

  await start(`${OTHER_HOST}:${port}`);
  const moved = snapshot(dataDir);
  assert.equal(changed(first, moved), [COORDINATOR_DATA.adminConfig, COORDINATOR_DATA.serverCert, COORDINATOR_DATA.serverKey].sort());
  const cfg = await loadAdminConfig({ dataDir, env: {} });
  assert.is(cfg.coordinator, `${OTHER_HOST}:${port}`);

  await start(`${OTHER_HOST}:${port}`);
  assert.equal(changed(moved, snapshot(dataDir)), [], 'and a restart with the new address rewrites nothing again');
});

/** A data dir whose token row holds invalid JSON; returns the key. */
async function corruptDataDir(): Promise<{ dataDir: string; key: string }> {
  const dataDir = newDataDir();
  const c = await testCoordinator(dataDir, { listen: `${HOST}:0` });
  const { record } = await c.state.tokens.create({ description: 'to be corrupted' });
  await c.close();
  const key = `tokens/${record.id}`;
  // Only now, with the coordinator closed: another descriptor of the file in a process that
  // holds it would drop that process's lock.
  const sql = new DatabaseSync(db(dataDir));
  try {
    const r = sql.prepare('UPDATE kv SET value = ? WHERE key = ?').run('{"id": "x", truncated', key);
    assert.is(Number(r.changes), 1, `row ${key} exists`);
  } finally {
    sql.close();
  }
  return { dataDir, key };
}

test('a corrupt row in state.db: the start fails with an error that names the key', async () => {
  const { dataDir, key } = await corruptDataDir();
  const e = await rejects(() => startCoordinator({ dataDir, listen: `${HOST}:0`, logger: captureLogger() }));
  assert.ok(e.message.includes(JSON.stringify(key)), `names the key: ${e.message}`);
  assert.match(e.message, /not valid JSON/);
  // The failed start released the database: the error is the same again, not "in use".
  const again = await rejects(() => startCoordinator({ dataDir, listen: `${HOST}:0`, logger: captureLogger() }));
  assert.ok(again.message.includes(JSON.stringify(key)), again.message);
});

/** `muster coordinator serve` in-process; what it printed and its exit code. */
async function serve(dataDir: string) {
  const io = memoryIO();
  // Bounded: a start that wrongly succeeded would serve until SIGTERM.
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    main(['coordinator', 'serve', '--data-dir', dataDir, '--listen', `${HOST}:0`, '--log-level', 'error'], io),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`muster coordinator serve did not exit within 30 s (it started?): ${io.stdout}`)), 30_000))),
  ]).finally(() => clearTimeout(timer));
  return { code, stderr: io.stderr, stdout: io.stdout };
}

function assertOneLine(stderr: string, mustInclude: string[]): void {
  const lines = stderr.trimEnd().split('\n');
  assert.is(lines.length, 1, `one line, got:\n${stderr}`);
  assert.match(lines[0]!, /^muster: /);
  assert.not.match(stderr, /\n\s+at /, 'no stack trace');
  assert.not.match(stderr, /unexpected error/);
  for (const m of mustInclude) assert.ok(lines[0]!.includes(m), `mentions ${m}: ${lines[0]}`);
}

test('`muster coordinator serve` on a data dir whose state.db is gone prints one line, no stack, and exits non-zero', async () => {
  const { dataDir } = await initialisedDataDir();
  rmSync(db(dataDir));
  const r = await serve(dataDir);
  assert.is.not(r.code, 0);
  assert.is(r.stdout, '');
  assertOneLine(r.stderr, [dataDir, '--reinitialize']);
});

test('`muster coordinator serve` on a data dir with a corrupt row prints one line naming the key, no stack, and exits non-zero', async () => {
  const { dataDir, key } = await corruptDataDir();
  const r = await serve(dataDir);
  assert.is.not(r.code, 0);
  assert.is(r.stdout, '');
  assertOneLine(r.stderr, [key]);
});

test.run();
