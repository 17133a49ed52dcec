// Every way a join can be refused, with the exact error a user reads; authorization of agent and
// admin calls. All over real gRPC and TLS on 127.0.0.x.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { tempDir, testCoordinator, threeNodePlan, runAgent, waitFor } from '../helpers/cluster.ts';
import { rejects } from '../helpers/assert.ts';
import { join as joinCoordinator } from '../../agent/client/join.ts';
import { agentClient } from '../../agent/client/channels.ts';
import { captureLogger } from '../helpers/cluster.ts';
import { unary } from '../../shared/wire/status.ts';
import { musterV1 } from '../../shared/wire/proto.ts';
import { createCa, createCsr, parseCsr, signCsr } from '../../shared/pki/x509.ts';
import { loadAdminConfig } from '../../coordinator/admin/config.ts';
import { connectAdmin } from '../../coordinator/admin/client.ts';

const dir = tempDir();
const planFile = join(dir, 'plan.yaml');
writeFileSync(planFile, threeNodePlan());
let c: Awaited<ReturnType<typeof testCoordinator>>;
const log = captureLogger('agent');

const params = (token: string, over: Partial<Parameters<typeof joinCoordinator>[0]> = {}) => ({
  coordinator: c.address,
  token,
  caHash: c.identity.caPin,
  insecureSkipCaVerification: false,
  nodeName: 'node-9',
  machineId: 'm-9',
  address: '127.0.0.9',
  labels: {},
  agentVersion: 'test',
  ...over,
});

test.before(async () => {
  c = await testCoordinator(join(dir, 'coord'), { planFile });
});
test.after(async () => {
  await c.close();
});

test('CA pin mismatch names both hashes and sends nothing', async () => {
  const { token } = await c.state.createToken({});
  const wrong = `sha256:${'0'.repeat(64)}`;
  const e = await rejects(() => joinCoordinator(params(token, { caHash: wrong }), log));
  assert.is(e.reason, 'ca-pin-mismatch');
  assert.ok(e.message.includes(wrong) && e.message.includes(c.identity.caPin), e.message);
  assert.is(c.state.listTokens().find((t) => t.id === token.slice(0, 6))!.uses, 0, 'token not used');
});

test('no pin: refused unless --insecure-skip-ca-verification, which warns', async () => {
  const { token } = await c.state.createToken({});
  await rejects(() => joinCoordinator(params(token, { caHash: null }), log), /no --ca-hash given/);
  const id = await joinCoordinator(params(token, { caHash: null, insecureSkipCaVerification: true, nodeName: 'node-insecure' }), log);
  assert.is(id.nodeName, 'node-insecure');
  assert.ok(log.lines.some((l) => / warn .*WITHOUT verification/.test(l)));
});

test('token unknown, expired (says when), used up, revoked, malformed', async () => {
  await rejects(() => joinCoordinator(params('abcdef.0123456789abcdef'), log), 'bootstrap token abcdef is not known to this coordinator');
  const exp = await c.state.createToken({ ttlMs: 1 });
  await new Promise((r) => setTimeout(r, 5));
  const e = await rejects(() => joinCoordinator(params(exp.token), log), /bootstrap token [a-z0-9]{6} expired at \d{4}-\d\d-\d\dT/);
  assert.is(e.reason, 'token-expired');
  const once = await c.state.createToken({ uses: 1 });
  await joinCoordinator(params(once.token, { nodeName: 'node-once', machineId: 'm-once' }), log);
  await rejects(() => joinCoordinator(params(once.token, { nodeName: 'node-twice', machineId: 'm-twice' }), log), /is used up \(1 of 1 joins\)/);
  const rev = await c.state.createToken({});
  await c.state.revokeToken(rev.record.id);
  await rejects(() => joinCoordinator(params(rev.token), log), /was revoked/);
  // The secret never reaches the coordinator's log.
  assert.not.ok(c.log.lines.some((l) => l.includes(once.token.slice(7))));
});

test('a taken name from another machine is refused; the same machine may re-join', async () => {
  const { token } = await c.state.createToken({});
  await joinCoordinator(params(token, { nodeName: 'node-dup', machineId: 'machine-a' }), log);
  await rejects(() => joinCoordinator(params(token, { nodeName: 'node-dup', machineId: 'machine-b' }), log), /already registered by another machine/);
  await joinCoordinator(params(token, { nodeName: 'node-dup', machineId: 'machine-a' }), log);
});

test('coordinator unreachable: agent keeps retrying, logging "waiting for coordinator" at info', async () => {
  const a = runAgent({ coordinator: '127.0.0.1:1', token: 'abcdef.0123456789abcdef', caHash: c.identity.caPin, nodeName: 'node-x', address: '127.0.0.10', stateDir: join(dir, 'x/state'), root: join(dir, 'x/root') });
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

test('an agent sees only its own assignment; forged and missing certificates are refused', async () => {
  const { token } = await c.state.createToken({});
  const run = (name: string, address: string) =>
    runAgent({ coordinator: c.address, token, caHash: c.identity.caPin, nodeName: name, address, stateDir: join(dir, name, 'state'), root: join(dir, name, 'root') });
  const a2 = run('node-2', '127.0.0.3');
  await waitFor('node-2 applied', () => a2.agent.appliedRevision > 0);
  await a2.stop();
  const id = (await import('../../agent/identity/identity-store.ts')).IdentityStore;
  const ident = (await new id(join(dir, 'node-2', 'state')).load())!;
  const client = agentClient(c.address, ident);
  const res = await unary(c.address, client, 'WatchAssignment', { applied_revision: 0, hold_ms: 0 }, 5000);
  assert.is(res.assignment!.node_name, 'node-2');
  assert.equal(res.assignment!.roles, ['worker']);
  // Agent certificate on an admin method.
  const adminWithNodeCert = new musterV1.Admin(c.address, grpc.credentials.createSsl(Buffer.from(ident.caCertPem), Buffer.from(ident.keyPem), Buffer.from(ident.certPem)));
  const e1 = await rejects(() => unary(c.address, adminWithNodeCert, 'Status', {}, 5000));
  assert.is(e1.kind, 'permission-denied');
  assert.match(e1.message, /may not call admin methods/);
  // No certificate at all: agent and admin methods refused.
  const noCert = new musterV1.Agent(c.address, grpc.credentials.createSsl(Buffer.from(ident.caCertPem)));
  const e2 = await rejects(() => unary(c.address, noCert, 'WatchAssignment', { applied_revision: 0, hold_ms: 0 }, 5000));
  assert.is(e2.kind, 'unauthenticated');
  const adminNoCert = new musterV1.Admin(c.address, grpc.credentials.createSsl(Buffer.from(ident.caCertPem)));
  assert.is((await rejects(() => unary(c.address, adminNoCert, 'Status', {}, 5000))).kind, 'unauthenticated');
  // A certificate for node-1 from a foreign CA is no identity.
  const evil = await createCa('evil', 1);
  const { keyPem, csrPem } = await createCsr('node-1');
  const forged = await signCsr(evil, await parseCsr(csrPem), { cn: 'node-1', orgs: ['muster:nodes'], usages: ['client'], days: 1 });
  const forgedClient = agentClient(c.address, { caCertPem: ident.caCertPem, keyPem, certPem: forged });
  assert.is((await rejects(() => unary(c.address, forgedClient, 'WatchAssignment', { applied_revision: 0, hold_ms: 0 }, 5000))).kind, 'unauthenticated');
  for (const x of [client, adminWithNodeCert, noCert, adminNoCert, forgedClient]) x.close();
});

test('a removed node is refused on its next call with the reason; the agent stops', async () => {
  const { token } = await c.state.createToken({});
  const a = runAgent({ coordinator: c.address, token, caHash: c.identity.caPin, nodeName: 'node-3', address: '127.0.0.4', stateDir: join(dir, 'node-3r', 'state'), root: join(dir, 'node-3r', 'root') });
  await waitFor('node-3 applied', () => a.agent.appliedRevision > 0);
  const admin = connectAdmin(await loadAdminConfig({ dataDir: join(dir, 'coord'), env: {} }));
  await admin.call('RemoveNode', { name: 'node-3' });
  admin.close();
  const e = await rejects(() => a.done);
  assert.is(e.kind, 'permission-denied');
  assert.match(e.message, /node node-3 was removed by an operator at .*; to bring it back, delete the agent's state dir and join again/);
  assert.is(a.agent.phase, 'failed');
  const row = c.state.status().find((r) => r.name === 'node-3')!;
  assert.is(row.state, 'removed');
});

test.run();
