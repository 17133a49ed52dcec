// Every way a join can be refused, with the exact error a user reads; the takeover rules; the
// trust domains; authorization of agent and admin calls. All over real gRPC and TLS on this
// file's loopback block, each test performing the attack it guards against.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { tempDir, testCoordinator, threeNodePlan, runAgent, waitFor, captureLogger } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { rejects } from '../helpers/assert.ts';
import { requireTool } from '../helpers/tools.ts';
import { join as joinCoordinator } from '../../agent/client/join.ts';
import { agentClient } from '../../agent/client/channels.ts';
import { IdentityStore } from '../../agent/identity/identity-store.ts';
import { unary } from '../../shared/wire/status.ts';
import { musterV1 } from '../../shared/wire/proto.ts';
import { certInfo, createCa, createCsr, createKey, parseCsr, signCsr } from '../../shared/pki/x509.ts';
import { loadAdminConfig } from '../../coordinator/admin/config.ts';
import { connectAdmin } from '../../coordinator/admin/client.ts';
import { COORDINATOR_DATA } from '../../shared/constants.ts';

const net = addressBlock(import.meta.url);
const dir = tempDir();
const dataDir = join(dir, 'coord');
const planFile = join(dir, 'plan.yaml');
writeFileSync(planFile, threeNodePlan('test', '', { addresses: [net.host(2), net.host(3), net.host(4)] }));
let c: Awaited<ReturnType<typeof testCoordinator>>;
const log = captureLogger('agent');

const params = (token: string, over: Partial<Parameters<typeof joinCoordinator>[0]> = {}) => ({
  coordinator: c.address,
  token,
  caHash: c.identity.caPin,
  insecureSkipCaVerification: false,
  nodeName: 'node-9',
  machineId: 'm-9',
  address: net.host(9),
  labels: {},
  agentVersion: 'test',
  ...over,
});

const watch = (id: { caCertPem: string; keyPem: string; certPem: string }) => {
  const client = agentClient(c.address, id);
  return unary(c.address, client, 'WatchAssignment', { applied_revision: 0, hold_ms: 0 }, 5000).finally(() => client.close());
};

test.before(async () => {
  c = await testCoordinator(dataDir, { planFile, listen: `${net.host(1)}:0` });
});
test.after(async () => {
  await c.close();
});

test('CA pin mismatch names both hashes and sends nothing', async () => {
  const { token } = await c.state.tokens.create({});
  const wrong = `sha256:${'0'.repeat(64)}`;
  const e = await rejects(() => joinCoordinator(params(token, { caHash: wrong }), log));
  assert.is(e.reason, 'ca-pin-mismatch');
  assert.ok(e.message.includes(wrong) && e.message.includes(c.identity.caPin), e.message);
  assert.is(c.state.tokens.list().find((t) => t.id === token.slice(0, 6))!.uses, 0, 'token not used');
});

test('no pin: refused unless --insecure-skip-ca-verification, which warns', async () => {
  const { token } = await c.state.tokens.create({});
  await rejects(() => joinCoordinator(params(token, { caHash: null }), log), /no --ca-hash given/);
  const id = await joinCoordinator(params(token, { caHash: null, insecureSkipCaVerification: true, nodeName: 'node-insecure', address: net.host(20) }), log);
  assert.is(id.nodeName, 'node-insecure');
  assert.ok(log.lines.some((l) => / warn .*WITHOUT verification/.test(l)));
});

test('token unknown, wrong secret (same message), expired (says when), used up, revoked, malformed', async () => {
  const unknown = await rejects(() => joinCoordinator(params('abcdef.0123456789abcdef'), log), 'bootstrap token abcdef is not known to this coordinator');
  const real = await c.state.tokens.create({});
  const wrongSecret = await rejects(() => joinCoordinator(params(`${real.record.id}.0123456789abcdef`), log));
  assert.is(wrongSecret.message.replace(real.record.id, 'ID'), unknown.message.replace('abcdef', 'ID'), 'unknown id and wrong secret must read the same');
  assert.is(wrongSecret.reason, unknown.reason);
  const exp = await c.state.tokens.create({ ttlMs: 1000 });
  await waitFor('token expired', () => Date.now() > exp.record.expiresAtMs, 5000);
  const e = await rejects(() => joinCoordinator(params(exp.token), log), /bootstrap token [a-z0-9]{6} expired at \d{4}-\d\d-\d\dT/);
  assert.is(e.reason, 'token-expired');
  const once = await c.state.tokens.create({ uses: 1 });
  await joinCoordinator(params(once.token, { nodeName: 'node-once', machineId: 'm-once', address: net.host(21) }), log);
  await rejects(() => joinCoordinator(params(once.token, { nodeName: 'node-twice', machineId: 'm-twice', address: net.host(22) }), log), /is used up \(1 of 1 joins\)/);
  const rev = await c.state.tokens.create({});
  await c.state.tokens.revoke(rev.record.id);
  await rejects(() => joinCoordinator(params(rev.token), log), /was revoked/);
  // The secret never reaches the coordinator's log.
  assert.not.ok(c.log.lines.some((l) => l.includes(once.token.slice(7))));
});

test('a live node name is never taken by a join, whatever machine id the joiner sends; the holder keeps working', async () => {
  const { token } = await c.state.tokens.create({});
  const holder = await joinCoordinator(params(token, { nodeName: 'node-dup', machineId: 'machine-a', address: net.host(30) }), log);
  for (const machineId of ['', 'machine-b', 'machine-a']) {
    const e = await rejects(() => joinCoordinator(params(token, { nodeName: 'node-dup', machineId, address: net.host(31) }), log));
    assert.is(e.kind, 'already-exists', `machine id ${JSON.stringify(machineId)}`);
    assert.match(e.message, new RegExp(`node name node-dup is held by the node at ${net.host(30).replaceAll('.', '\\.')} \\(last contact \\d+s ago, at \\d{4}-`));
    assert.match(e.message, /`muster node remove node-dup`/);
    assert.match(e.message, /--node-name/);
    assert.match(e.message, /`muster token create --node node-dup`/);
  }
  // Not locked out: the holder's identity still works.
  await watch(holder);
});

test('a join repeated with the same token, name and key gets the same certificate and does not use the token again', async () => {
  const once = await c.state.tokens.create({ uses: 1 });
  const keyPem = await createKey();
  const a = await joinCoordinator(params(once.token, { nodeName: 'node-retry', address: net.host(32), keyPem }), log);
  // The agent died before saving its identity and tries again with its saved join key.
  const b = await joinCoordinator(params(once.token, { nodeName: 'node-retry', address: net.host(32), keyPem }), log);
  assert.is(b.certPem, a.certPem);
  assert.is(c.state.tokens.get(once.record.id)!.uses, 1);
  // Another key under the same token and name is not a retry: the token's one use is spent.
  assert.is((await rejects(() => joinCoordinator(params(once.token, { nodeName: 'node-retry', address: net.host(32) }), log))).reason, 'token-used-up');
  // And with a token that has uses left, the name is held.
  const more = await c.state.tokens.create({});
  assert.is((await rejects(() => joinCoordinator(params(more.token, { nodeName: 'node-retry', address: net.host(32), keyPem }), log))).kind, 'already-exists');
});

test('an agent that died between the coordinator\'s commit and saving its identity joins again with its saved key, without a second token use', async () => {
  const once = await c.state.tokens.create({ uses: 1 });
  const stateDir = join(dir, 'node-crashed', 'state');
  // What the agent does before it sends its join: save the key it will ask for.
  const store = new IdentityStore(stateDir);
  const keyPem = await store.joinKey(createKey);
  // The join reaches the coordinator and commits; the agent dies before saving the answer.
  await joinCoordinator(params(once.token, { nodeName: 'node-crashed', address: net.host(35), keyPem }), log);
  const a = runAgent({ coordinator: c.address, token: once.token, caHash: c.identity.caPin, nodeName: 'node-crashed', address: net.host(35), stateDir, root: join(dir, 'node-crashed', 'root') });
  try {
    await waitFor('the restarted agent joined', () => a.log.lines.some((l) => l.includes('joined') && l.includes('as node node-crashed')) || a.agent.phase === 'failed');
    assert.not.equal(a.agent.phase, 'failed', a.log.lines.join('\n'));
    assert.is(c.state.tokens.get(once.record.id)!.uses, 1);
  } finally {
    await a.stop();
  }
});

test('only a token an operator bound to the name takes it over; that is logged at warn and the old identity is refused', async () => {
  const { token } = await c.state.tokens.create({});
  const old = await joinCoordinator(params(token, { nodeName: 'node-reimaged', address: net.host(33) }), log);
  const bound = await c.state.tokens.create({ nodeName: 'node-reimaged' });
  assert.is(bound.record.usesAllowed, 1);
  // A bound token joins as its node only.
  const other = await rejects(() => joinCoordinator(params(bound.token, { nodeName: 'node-elsewhere', address: net.host(34) }), log));
  assert.is(other.reason, 'token-bound');
  const fresh = await joinCoordinator(params(bound.token, { nodeName: 'node-reimaged', address: net.host(33) }), log);
  assert.ok(c.log.lines.some((l) => / warn .*node node-reimaged taken over by a join with token [a-z0-9]{6}, which an operator bound to that name/.test(l)));
  const e = await rejects(() => watch(old));
  assert.is(e.reason, 'cert-superseded');
  await watch(fresh);
});

test("the coordinator's own names and addresses are refused at join and in reports", async () => {
  const { token } = await c.state.tokens.create({});
  for (const [nodeName, address] of [
    ['localhost', net.host(40)],
    ['node-lo', '127.0.0.1'],
    ['node-adv', net.host(1)],
    ['node-mapped', `::ffff:${net.host(1)}`],
    [net.host(1), net.host(43)],
  ] as const) {
    const e = await rejects(() => joinCoordinator(params(token, { nodeName, address }), log));
    assert.is(e.reason, 'reserved-name', `${nodeName} ${address}: ${e.message}`);
    assert.match(e.message, /one of the coordinator's own (names|addresses)/);
  }
  const id = await joinCoordinator(params(token, { nodeName: 'node-reporter', address: net.host(41) }), log);
  const client = agentClient(c.address, id);
  const e = await rejects(() => unary(c.address, client, 'Report', { full: false, sent_at_ms: Date.now(), address: net.host(1) }, 5000));
  client.close();
  assert.is(e.reason, 'reserved-name');
});

test('addresses that cannot be a node\'s, or that another live node holds, are refused at join and in reports', async () => {
  const { token } = await c.state.tokens.create({});
  for (const address of ['0.0.0.0', '::', '224.0.0.1', '255.255.255.255', 'ff02::1']) {
    const e = await rejects(() => joinCoordinator(params(token, { nodeName: 'node-odd', address }), log));
    assert.is(e.kind, 'invalid-argument', `${address}: ${e.message}`);
    assert.match(e.message, /cannot be a node's address/);
  }
  await joinCoordinator(params(token, { nodeName: 'node-owner', address: net.host(44) }), log);
  const dup = await rejects(() => joinCoordinator(params(token, { nodeName: 'node-copycat', address: net.host(44) }), log));
  assert.is(dup.kind, 'already-exists');
  assert.match(dup.message, /address .* is node node-owner's/);
  const other = await joinCoordinator(params(token, { nodeName: 'node-mover', address: net.host(45) }), log);
  const client = agentClient(c.address, other);
  const e = await rejects(() => unary(c.address, client, 'Report', { full: false, sent_at_ms: Date.now(), address: net.host(44) }, 5000));
  client.close();
  assert.is(e.kind, 'already-exists');
  assert.is(c.state.nodes.get('node-mover')!.address, net.host(45));
});

test('three trust domains: node certificates are client-only from the node CA; only the serving certificate chains to the pinned CA', async () => {
  requireTool('openssl', 'openssl');
  const { token } = await c.state.tokens.create({});
  const id = await joinCoordinator(params(token, { nodeName: 'node-domains', address: net.host(42) }), log);
  const f = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const nodeCert = f('node.crt', id.certPem);
  const text = execFileSync('openssl', ['x509', '-in', nodeCert, '-noout', '-text']).toString();
  assert.match(text, /TLS Web Client Authentication/);
  assert.not.match(text, /Server Authentication/);
  assert.not.match(text, /Subject Alternative Name/);
  assert.match(text, /Issuer: CN ?= ?muster-node-ca/);
  // The pin the join command prints is the server CA's; a node certificate does not chain to it.
  assert.is(id.caCertPem, readFileSync(join(dataDir, COORDINATOR_DATA.serverCaCert), 'utf8'));
  const serverCa = join(dataDir, COORDINATOR_DATA.serverCaCert);
  assert.throws(() => execFileSync('openssl', ['verify', '-CAfile', serverCa, nodeCert], { stdio: 'pipe' }));
  const ok = execFileSync('openssl', ['verify', '-CAfile', serverCa, '-purpose', 'sslserver', join(dataDir, COORDINATOR_DATA.serverCert)]).toString();
  assert.match(ok, /OK/);
  const adminCfg = await loadAdminConfig({ dataDir, env: {} });
  assert.throws(() => execFileSync('openssl', ['verify', '-CAfile', serverCa, f('admin.crt', adminCfg.client_cert)], { stdio: 'pipe' }));
  assert.is(certInfo(adminCfg.client_cert).issuerCN, 'muster-admin-ca');
});

test('an agent sees only its own assignment; forged, foreign and missing certificates are refused', async () => {
  const { token } = await c.state.tokens.create({});
  const a2 = runAgent({ coordinator: c.address, token, caHash: c.identity.caPin, nodeName: 'node-2', address: net.host(3), stateDir: join(dir, 'node-2', 'state'), root: join(dir, 'node-2', 'root') });
  await waitFor('node-2 applied', () => a2.agent.appliedRevision > 0);
  await a2.stop();
  const ident = (await new IdentityStore(join(dir, 'node-2', 'state')).load())!;
  const res = await watch(ident);
  assert.is(res.assignment!.node_name, 'node-2');
  assert.equal(res.assignment!.roles, ['worker']);
  // Node certificate on an admin method.
  const adminWithNodeCert = new musterV1.Admin(c.address, grpc.credentials.createSsl(Buffer.from(ident.caCertPem), Buffer.from(ident.keyPem), Buffer.from(ident.certPem)));
  const e1 = await rejects(() => unary(c.address, adminWithNodeCert, 'Status', {}, 5000));
  assert.is(e1.kind, 'permission-denied');
  assert.match(e1.message, /may not call admin methods/);
  // Admin certificate on an agent method: not a node.
  const adminCfg = await loadAdminConfig({ dataDir, env: {} });
  const agentWithAdminCert = agentClient(c.address, { caCertPem: adminCfg.ca_cert, keyPem: adminCfg.client_key, certPem: adminCfg.client_cert });
  assert.is((await rejects(() => unary(c.address, agentWithAdminCert, 'WatchAssignment', { applied_revision: 0, hold_ms: 0 }, 5000))).reason, 'not-a-node');
  // No certificate at all: agent and admin methods refused.
  const noCert = new musterV1.Agent(c.address, grpc.credentials.createSsl(Buffer.from(ident.caCertPem)));
  const e2 = await rejects(() => unary(c.address, noCert, 'WatchAssignment', { applied_revision: 0, hold_ms: 0 }, 5000));
  assert.is(e2.kind, 'unauthenticated');
  const adminNoCert = new musterV1.Admin(c.address, grpc.credentials.createSsl(Buffer.from(ident.caCertPem)));
  assert.is((await rejects(() => unary(c.address, adminNoCert, 'Status', {}, 5000))).kind, 'unauthenticated');
  // A certificate for node-1 from a foreign CA is no identity.
  const evil = await createCa('evil', 1);
  const { keyPem, csrPem } = await createCsr('node-1');
  const forged = signCsr(evil, await parseCsr(csrPem), { cn: 'node-1', orgs: ['muster:nodes'], usages: ['client'], days: 1 });
  const forgedClient = agentClient(c.address, { caCertPem: ident.caCertPem, keyPem, certPem: forged });
  assert.is((await rejects(() => unary(c.address, forgedClient, 'WatchAssignment', { applied_revision: 0, hold_ms: 0 }, 5000))).kind, 'unauthenticated');
  for (const x of [adminWithNodeCert, agentWithAdminCert, noCert, adminNoCert, forgedClient]) x.close();
});

test('coordinator unreachable: agent keeps retrying, logging "waiting for coordinator" at info', async () => {
  const a = runAgent({ coordinator: '127.0.0.1:1', token: 'abcdef.0123456789abcdef', caHash: c.identity.caPin, nodeName: 'node-x', address: net.host(50), stateDir: join(dir, 'x/state'), root: join(dir, 'x/root') });
  const phases: string[] = [];
  a.agent.onPhase((p) => phases.push(p));
  try {
    await waitFor('three retries', () => a.log.lines.filter((l) => l.includes('waiting for coordinator at 127.0.0.1:1')).length >= 3);
    assert.ok(a.log.lines.filter((l) => l.includes('waiting for coordinator')).every((l) => / info /.test(l)));
    // Between retries it is waiting; during each attempt it is joining again.
    assert.ok(['waiting-for-coordinator', 'joining'].includes(a.agent.phase), a.agent.phase);
    assert.equal([...new Set(phases)].sort(), ['joining', 'waiting-for-coordinator']);
  } finally {
    await a.stop();
  }
  assert.is(a.agent.phase, 'stopped');
});

test('a removed node is refused on its next call with the reason; the agent stops', async () => {
  const { token } = await c.state.tokens.create({});
  const a = runAgent({ coordinator: c.address, token, caHash: c.identity.caPin, nodeName: 'node-3', address: net.host(4), stateDir: join(dir, 'node-3r', 'state'), root: join(dir, 'node-3r', 'root') });
  await waitFor('node-3 applied', () => a.agent.appliedRevision > 0);
  const admin = connectAdmin(await loadAdminConfig({ dataDir, env: {} }));
  await admin.call('RemoveNode', { name: 'node-3' });
  admin.close();
  const e = await rejects(() => a.done);
  assert.is(e.kind, 'permission-denied');
  assert.match(e.message, /node node-3 was removed by an operator at .*; to bring it back, delete the agent.s state dir and join again/, e.message);
  assert.is(a.agent.phase, 'failed');
  const row = c.state.status().find((r) => r.name === 'node-3')!;
  assert.is(row.state, 'removed');
});

test('admin token requests out of range are refused before anything is written', async () => {
  const admin = connectAdmin(await loadAdminConfig({ dataDir, env: {} }));
  try {
    const before = c.state.tokens.list().length;
    for (const req of [{ ttl_ms: 8.64e15 }, { ttl_ms: -5 }, { ttl_ms: 1 }, { ttl_ms: 400 * 86_400_000 }, { uses: 2_000_000 }, { description: 'x'.repeat(300) }, { node_name: 'Not_A_Name' }, { node_name: 'node-a', uses: 3 }]) {
      const e = await rejects(() => admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: '', ...req }));
      assert.is(e.kind, 'invalid-argument', JSON.stringify(req));
    }
    assert.is(c.state.tokens.list().length, before);
  } finally {
    admin.close();
  }
});

test.run();
