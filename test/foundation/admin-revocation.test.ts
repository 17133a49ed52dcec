// Admin credentials: issued per operator, listed, revoked as a lineage (renewals included), the
// data dir's own never revocable, unrecorded ones refused unless legacy, revocations durable.
// Real coordinator on this file's loopback block, real TLS; the CLI through its entry (main) and
// once as its own process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tempDir, testCoordinator, waitFor } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { rejects } from '../helpers/assert.ts';
import { main } from '../../coordinator/cli/main.ts';
import { loadAdminConfig, type AdminConfig } from '../../coordinator/admin/config.ts';
import { connectAdmin } from '../../coordinator/admin/client.ts';
import { SqliteStore } from '../../coordinator/store/sqlite.ts';
import { ADMIN_CERTS_PREFIX, ADMIN_CREDENTIALS_PREFIX } from '../../coordinator/state/admins.ts';
import { certInfo, createCsr, issueLeaf } from '../../shared/pki/x509.ts';
import { ADMIN_CN, ADMIN_ORG, COORDINATOR_DATA } from '../../shared/constants.ts';
import type { CliIO } from '../../shared/cli/io.ts';

const net = addressBlock(import.meta.url);
const dir = tempDir();
const dataDir = join(dir, 'coord');
let c: Awaited<ReturnType<typeof testCoordinator>>;
// A restart keeps the port: issued configs name the address.
const start = async () => (c = await testCoordinator(dataDir, { listen: `${net.host(1)}:${c?.port ?? 0}` }));
test.after(async () => {
  await c?.close();
});

type Captured = CliIO & { stdout: string; stderr: string };
const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  const io: Captured = {
    stdout: '',
    stderr: '',
    out: (t) => void (io.stdout += `${t}\n`),
    err: (t) => void (io.stderr += `${t}\n`),
    ask: null,
    env: {},
    cwd: dir,
  };
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
};
const asDataDir = ['--data-dir', dataDir];
const listJson = async (...how: string[]) => {
  const r = await cli('admin', 'list', '--json', ...(how.length ? how : asDataDir));
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Array<{ id: string; kind: string; label: string; serial: string; revoked: boolean; caller: boolean; last_used: string; certificates: { serial: string; renewed_from: string }[] }>;
};
const issue = async (name: string) => {
  const file = join(dir, `${name}.yaml`);
  const r = await cli('admin', 'issue', '--name', name, '-o', file, ...asDataDir);
  assert.is(r.code, 0, r.stderr);
  const id = /admin credential ([0-9a-f]{8}) /.exec(r.stdout)?.[1];
  assert.ok(id, r.stdout);
  return { file, id: id!, cfg: await loadAdminConfig({ config: file, env: {} }) };
};
/** One Status call with a config, in this process (no renewal, no file written). */
const statusWith = async (cfg: AdminConfig) => {
  const a = connectAdmin(cfg);
  try {
    return await a.call('Status', {}, 5000);
  } finally {
    a.close();
  }
};
/** RenewAdmin with a config: the renewed config (not written anywhere). */
const renewWith = async (cfg: AdminConfig): Promise<AdminConfig> => {
  const { keyPem, csrPem } = await createCsr(ADMIN_CN);
  const a = connectAdmin(cfg);
  try {
    const res = await a.call('RenewAdmin', { csr_pem: csrPem }, 5000);
    return { ...cfg, client_cert: res.cert_pem, client_key: keyPem };
  } finally {
    a.close();
  }
};

test('issue writes a 0600 admin config that works, is listed with its label and serial, and is never overwritten without --force', async () => {
  await start();
  const alice = await issue('alice laptop');
  assert.is(statSync(alice.file).mode & 0o777, 0o600);
  assert.is(certInfo(alice.cfg.client_cert).orgs.join(), ADMIN_ORG);
  assert.is(alice.cfg.ca_hash, c.identity.caPin);
  const st = await cli('status', '--config', alice.file);
  assert.is(st.code, 0, st.stderr);

  const again = await cli('admin', 'issue', '--name', 'someone else', '-o', alice.file, ...asDataDir);
  assert.is(again.code, 1);
  assert.match(again.stderr, /exists; .*pass --force to replace it/);
  assert.is((await loadAdminConfig({ config: alice.file, env: {} })).client_cert, alice.cfg.client_cert, 'file untouched');

  const rows = await listJson('--config', alice.file);
  const row = rows.find((r) => r.id === alice.id)!;
  assert.is(row.kind, 'issued');
  assert.is(row.label, 'alice laptop');
  assert.is(row.serial, certInfo(alice.cfg.client_cert).serial);
  assert.is(row.revoked, false);
  assert.is(row.caller, true, 'the listing call was made with it');
  assert.ok(row.last_used, 'last used is known');
  const own = rows.find((r) => r.kind === 'data-dir')!;
  assert.is(own.id, 'data-dir');
  assert.is(own.label, 'coordinator data dir');
  assert.is(own.serial, certInfo((await loadAdminConfig({ dataDir, env: {} })).client_cert).serial, "the data dir's own admin.yaml is recorded");
  assert.not.ok(rows.some((r) => r.kind === 'legacy'), 'a fresh data dir has no legacy credentials');
  // The table names every column.
  const table = await cli('admin', 'list', ...asDataDir);
  assert.match(table.stdout, /^ID +KIND +LABEL +SERIAL +EXPIRES +STATE +LAST USED/);
  assert.match(table.stdout, new RegExp(`${alice.id} +issued +alice laptop +${row.serial} +\\d{4}-.* valid`));
});

test('a revoked credential is refused with PERMISSION_DENIED saying so; its renewals, earlier and later, are refused too', async () => {
  const bob = await issue('bob');
  // A renewal made before the revoke: the same lineage, recorded as renewed from the first serial.
  const bob2 = await renewWith(bob.cfg);
  await statusWith(bob2);
  const row = (await listJson()).find((r) => r.id === bob.id)!;
  assert.equal(row.certificates.map((x) => x.renewed_from), ['', certInfo(bob.cfg.client_cert).serial]);
  assert.is(row.certificates[1]!.serial, certInfo(bob2.client_cert).serial);

  const r = await cli('admin', 'revoke', bob.id, ...asDataDir);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`admin credential ${bob.id} \\(bob\\) revoked`));

  for (const cfg of [bob.cfg, bob2]) {
    const e = await rejects(() => statusWith(cfg));
    assert.is(e.kind, 'permission-denied');
    assert.is(e.reason, 'admin-credential-revoked');
    assert.match(e.message, new RegExp(`admin credential ${bob.id} \\(bob\\) was revoked at \\d{4}-.* by admin data-dir \\(coordinator data dir, serial [0-9a-f]+\\): .*ask an operator for a new one \\(\`muster admin issue`));
    const renew = await rejects(() => renewWith(cfg));
    assert.is(renew.reason, 'admin-credential-revoked');
  }
  // Through the CLI: exit 1 with the same words, not "keeps working until it expires".
  const cliUse = await cli('status', '--config', bob.file);
  assert.is(cliUse.code, 1);
  assert.match(cliUse.stderr, /was revoked at .*muster admin issue/);
  assert.not.match(cliUse.stderr, /keeps working/);
  // Revoking again changes nothing and says so.
  const twice = await cli('admin', 'revoke', bob.id, ...asDataDir);
  assert.match(twice.stdout, /was revoked already/);
  // The data dir's credential keeps working.
  assert.is((await cli('status', ...asDataDir)).code, 0);
  assert.ok(c.log.lines.some((l) => / warn .*admin credential [0-9a-f]{8} \(bob\) revoked by admin data-dir/.test(l)));
});

test('revoking the credential in use is refused without --force (you would lock yourself out); the data dir one never', async () => {
  const carol = await issue('carol');
  const self = await cli('admin', 'revoke', carol.id, '--config', carol.file);
  assert.is(self.code, 1);
  assert.match(self.stderr, new RegExp(`admin credential ${carol.id} \\(carol\\) is the one this command is using: revoking it would lock you out.*--force`));
  await statusWith(carol.cfg);

  for (const how of [asDataDir, ['--config', carol.file]]) {
    for (const force of [[], ['--force']]) {
      const own = await cli('admin', 'revoke', 'data-dir', ...force, ...how);
      assert.is(own.code, 1);
      assert.match(own.stderr, /is the coordinator data dir's own .*cannot be revoked.*the remedy is a new coordinator data dir/);
    }
  }
  const unknown = await cli('admin', 'revoke', 'ffffffff', ...asDataDir);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /admin credential ffffffff does not exist; see `muster admin list`/);

  const forced = await cli('admin', 'revoke', carol.id, '--force', '--config', carol.file);
  assert.is(forced.code, 0, forced.stderr);
  assert.is((await rejects(() => statusWith(carol.cfg))).reason, 'admin-credential-revoked');
  assert.is((await cli('status', ...asDataDir)).code, 0);
});

test("the data dir's credential is not renewed over the wire (a copy of it cannot extend itself)", async () => {
  const own = await loadAdminConfig({ dataDir, env: {} });
  const e = await rejects(() => renewWith(own));
  assert.is(e.reason, 'admin-data-dir-copy');
  assert.match(e.message, /only the coordinator renews; .*muster admin issue/);
});

test('a certificate from the admin CA the coordinator has no record of is refused (no legacy on a fresh data dir)', async () => {
  const forged = await issueLeaf(c.identity.adminCa, { cn: ADMIN_CN, orgs: [ADMIN_ORG], usages: ['client'], days: 0, ttlMs: 3600_000 });
  const cfg = { ...(await loadAdminConfig({ dataDir, env: {} })), client_cert: forged.certPem, client_key: forged.keyPem };
  const e = await rejects(() => statusWith(cfg));
  assert.is(e.kind, 'permission-denied');
  assert.is(e.reason, 'admin-credential-unknown');
  assert.match(e.message, new RegExp(`admin credential serial ${certInfo(forged.certPem).serial} is not known to this coordinator`));
});

test('revocations survive a restart; the CLI as its own process reads them', async () => {
  const before = await listJson();
  await c.close();
  await start();
  const after = await listJson();
  assert.equal(
    after.map((r) => [r.id, r.revoked, r.certificates.length]),
    before.map((r) => [r.id, r.revoked, r.certificates.length]),
  );
  const bob = after.find((r) => r.label === 'bob')!;
  const bobCfg = await loadAdminConfig({ config: join(dir, 'bob.yaml'), env: {} });
  assert.is((await rejects(() => statusWith(bobCfg))).reason, 'admin-credential-revoked');
  assert.is(bob.revoked, true);
  const alice = await loadAdminConfig({ config: join(dir, 'alice laptop.yaml'), env: {} });
  await statusWith(alice);

  // The real entry point in a process of its own.
  const run = promisify(execFile);
  const entry = join(import.meta.dirname, '../../coordinator/cli/main.ts');
  const ok = await run(process.execPath, [entry, 'admin', 'list', '--data-dir', dataDir], { timeout: 30_000 });
  assert.match(ok.stdout, new RegExp(`${bob.id} +issued +bob +.* revoked \\d{4}-`));
  const refused = await run(process.execPath, [entry, 'status', '--config', join(dir, 'bob.yaml')], { timeout: 30_000 }).then(
    () => null,
    (e: { code: number; stderr: string }) => e,
  );
  assert.ok(refused, 'a revoked config must fail');
  assert.is(refused!.code, 1);
  assert.match(refused!.stderr, /muster: admin credential [0-9a-f]{8} \(bob\) was revoked at/);
});

test('an existing data dir (credentials from before records): its old credentials are legacy, work until `admin revoke legacy`, and the data dir gets a recorded one', async () => {
  await c.close();
  // Turn the data dir into one an older muster made: same CAs and admin.yaml, no records.
  const store = new SqliteStore(join(dataDir, COORDINATOR_DATA.database));
  const keys = [...(await store.list(ADMIN_CREDENTIALS_PREFIX)), ...(await store.list(ADMIN_CERTS_PREFIX))].map((e) => e.key);
  assert.ok(keys.length > 0);
  await store.txn(keys.map((key) => ({ type: 'delete' as const, key })));
  await store.close();
  const oldOwn = await loadAdminConfig({ dataDir, env: {} });
  // A copy an older muster renewed (signed by the admin CA, never recorded).
  const oldCopyCert = await issueLeaf(c.identity.adminCa, { cn: ADMIN_CN, orgs: [ADMIN_ORG], usages: ['client'], days: 0, ttlMs: 3600_000 });
  const oldCopy = { ...oldOwn, client_cert: oldCopyCert.certPem, client_key: oldCopyCert.keyPem };

  await start();
  const newOwn = await loadAdminConfig({ dataDir, env: {} });
  assert.not.equal(certInfo(newOwn.client_cert).serial, certInfo(oldOwn.client_cert).serial, 'the data dir got a fresh, recorded credential');
  const rows = await listJson();
  const legacy = rows.find((r) => r.id === 'legacy')!;
  assert.is(legacy.kind, 'legacy');
  assert.is(rows.find((r) => r.id === 'data-dir')!.serial, certInfo(newOwn.client_cert).serial);
  // Old credentials keep working, and are counted as legacy.
  await statusWith(oldOwn);
  await statusWith(oldCopy);
  // Their renewals are recorded under legacy (so they go with it).
  const renewed = await renewWith(oldCopy);
  await statusWith(renewed);
  assert.equal((await listJson()).find((r) => r.id === 'legacy')!.certificates.map((x) => [x.serial, x.renewed_from]), [[certInfo(renewed.client_cert).serial, certInfo(oldCopyCert.certPem).serial]]);
  assert.ok((await listJson()).find((r) => r.id === 'legacy')!.last_used);

  // An unrecorded certificate that starts after records began is no legacy one. (Certificates
  // are back-dated by a tenth of a short lifetime, 1 s for 10 s, and carry whole seconds.)
  const since = c.state.admins.get('legacy')!.createdAtMs;
  await waitFor('2.5 s past the start of records', () => Date.now() > since + 2500, 10_000);
  const late = await issueLeaf(c.identity.adminCa, { cn: ADMIN_CN, orgs: [ADMIN_ORG], usages: ['client'], days: 0, ttlMs: 10_000 });
  assert.is((await rejects(() => statusWith({ ...oldOwn, client_cert: late.certPem, client_key: late.keyPem }))).reason, 'admin-credential-unknown');

  const r = await cli('admin', 'revoke', 'legacy', ...asDataDir);
  assert.is(r.code, 0, r.stderr);
  for (const cfg of [oldOwn, oldCopy, renewed]) assert.is((await rejects(() => statusWith(cfg))).reason, 'admin-credential-revoked');
  await statusWith(newOwn);
  await c.close();
});

test("the data dir's self-renewals are recorded, each renewed from the one before", async () => {
  const d = join(tempDir(), 'coord');
  const short = await testCoordinator(d, { listen: `${net.host(2)}:0`, certTtlMs: { admin: 3000 } });
  try {
    const first = certInfo((await loadAdminConfig({ dataDir: d, env: {} })).client_cert).serial;
    await waitFor('admin credential renewed', () => short.log.lines.some((l) => / the admin credential in .* renewed/.test(l)), 20_000);
    const certs = short.state.admins.certificates('data-dir');
    assert.ok(certs.length >= 2, JSON.stringify(certs));
    assert.is(certs[0]!.serial, first);
    assert.is(certs[1]!.renewedFrom, first);
    // What the data dir holds now is recorded, and works.
    const now = await loadAdminConfig({ dataDir: d, env: {} });
    assert.ok(short.state.admins.isDataDirSerial(certInfo(now.client_cert).serial));
    const a = connectAdmin(now);
    await a.call('Status', {}, 5000).finally(() => a.close());
  } finally {
    await short.close();
  }
});

test.run();
