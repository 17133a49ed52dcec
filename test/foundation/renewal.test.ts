// Identity renewal: nodes re-key through their current identity (never a token), at their point
// in 70-90% of the lifetime; the coordinator renews its serving certificate and admin credential
// while running; a node offline past expiry comes back only through a token an operator bound
// to it. Certificates here live seconds, so renewals happen within the test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { tempDir, testCoordinator, threeNodePlan, runAgent, waitFor, captureLogger } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { rejects } from '../helpers/assert.ts';
import { join as joinCoordinator, renewIdentity } from '../../agent/client/join.ts';
import { agentClient } from '../../agent/client/channels.ts';
import { IdentityStore } from '../../agent/identity/identity-store.ts';
import { unary } from '../../shared/wire/status.ts';
import { certInfo, createCsr } from '../../shared/pki/x509.ts';
import { main } from '../../coordinator/cli/main.ts';
import type { CliIO } from '../../shared/cli/io.ts';
import { AGENT_STATE, COORDINATOR_DATA } from '../../shared/constants.ts';

const net = addressBlock(import.meta.url);
const plan = (dir: string) => {
  const f = join(dir, 'plan.yaml');
  writeFileSync(f, threeNodePlan('renew', '', { addresses: [net.host(2), net.host(3), net.host(4)] }));
  return f;
};
const io = (sink: string[]): CliIO => ({ out: (t) => sink.push(t), err: (t) => sink.push(t), ask: null, env: {}, cwd: '/' });

test('RenewIdentity re-keys through the current identity; the old certificate works until the new one is used, then never again', async () => {
  const dir = tempDir();
  const c = await testCoordinator(join(dir, 'coord'), { listen: `${net.host(1)}:0` });
  try {
    const { token } = await c.state.tokens.create({});
    const a = await joinCoordinator({ coordinator: c.address, token, caHash: c.identity.caPin, insecureSkipCaVerification: false, nodeName: 'node-r', machineId: 'm', address: net.host(10), labels: {}, agentVersion: 't' }, captureLogger());
    const watch = (id: { caCertPem: string; keyPem: string; certPem: string }) => {
      const client = agentClient(c.address, id);
      return unary(c.address, client, 'WatchAssignment', { applied_revision: 0, hold_ms: 0 }, 5000).finally(() => client.close());
    };
    const clientA = agentClient(c.address, a);
    // A CSR for another node's name is refused.
    const other = await createCsr('node-other');
    assert.is((await rejects(() => unary(c.address, clientA, 'RenewIdentity', { csr_pem: other.csrPem }, 5000))).kind, 'invalid-argument');
    const fresh = await renewIdentity(c.address, clientA, 'node-r');
    clientA.close();
    const b = { ...a, ...fresh };
    assert.is(certInfo(b.certPem).subjectCN, 'node-r');
    assert.not.equal(certInfo(b.certPem).keyId, certInfo(a.certPem).keyId);
    // Not used yet: the old one still works (an agent that died before saving is not locked out).
    await watch(a);
    await watch(b);
    await c.state.idle();
    const e = await rejects(() => watch(a));
    assert.is(e.reason, 'cert-superseded');
    await watch(b);
    assert.is(c.state.nodes.get('node-r')!.certSerial, certInfo(b.certPem).serial);
  } finally {
    await c.close();
  }
});

test('an agent renews its identity at its point of the 70-90% window, saves it 0600, and carries on with it; no token is used', async () => {
  const dir = tempDir();
  const c = await testCoordinator(join(dir, 'coord'), { planFile: plan(dir), listen: `${net.host(1)}:0`, certTtlMs: { node: 3000 } });
  const { token, record } = await c.state.tokens.create({});
  const stateDir = join(dir, 'node-2/state');
  const a = runAgent({ coordinator: c.address, token, caHash: c.identity.caPin, nodeName: 'node-2', address: net.host(3), stateDir, root: join(dir, 'node-2/root') }, undefined, { renewRandom: () => 0 });
  try {
    await waitFor('node-2 applied', () => a.agent.appliedRevision > 0, 20_000);
    const first = certInfo((await new IdentityStore(stateDir).load())!.certPem);
    // renewRandom 0: at 70% of the lifetime.
    assert.is(a.agent.renewAt, first.notBefore.getTime() + Math.floor((first.notAfter.getTime() - first.notBefore.getTime()) * 0.7));
    await waitFor('a renewal', () => a.log.lines.some((l) => l.includes('renewed the identity certificate of node node-2')), 20_000);
    const saved = (await new IdentityStore(stateDir).load())!;
    const now = certInfo(saved.certPem);
    assert.not.equal(now.serial, first.serial);
    assert.is(statSync(join(stateDir, AGENT_STATE.identity)).mode & 0o777, 0o600);
    // The coordinator takes the new certificate as the node's only one once the agent uses it.
    await waitFor('coordinator uses the renewed serial', () => {
      const serial = certInfo(readFileSync(join(stateDir, AGENT_STATE.identity), 'utf8')).serial;
      return c.state.nodes.get('node-2')?.certSerial === serial && !c.state.nodes.get('node-2')?.pending;
    }, 20_000);
    assert.ok(['watching', 'reporting', 'applying'].includes(a.agent.phase), a.agent.phase);
    assert.is(c.state.tokens.get(record.id)!.uses, 1, 'renewal never goes through a token');
    assert.is(c.state.status().find((r) => r.name === 'node-2')!.state, 'applied');
  } finally {
    await a.stop();
    await c.close();
  }
});

test('the coordinator renews its serving certificate and its admin credential while running', async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'coord');
  const c = await testCoordinator(dataDir, { listen: `${net.host(1)}:0`, certTtlMs: { server: 4000, admin: 4000 } });
  try {
    const servedSerial = () =>
      new Promise<string>((resolve, reject) => {
        const [host, port] = [c.address.slice(0, c.address.lastIndexOf(':')), Number(c.address.slice(c.address.lastIndexOf(':') + 1))];
        const s = connect({ host, port, ca: c.identity.serverCa.certPem, checkServerIdentity: () => undefined, ALPNProtocols: ['h2'] }, () => {
          const serial = s.getPeerCertificate().serialNumber.toLowerCase().replace(/^0+/, '');
          s.destroy();
          resolve(serial);
        });
        s.once('error', reject);
      });
    const firstServer = certInfo(c.serverCertPem()).serial;
    assert.is(await servedSerial(), firstServer);
    const firstAdmin = readFileSync(join(dataDir, COORDINATOR_DATA.adminConfig), 'utf8');
    await waitFor('serving certificate renewed', () => c.log.lines.some((l) => l.includes('the coordinator serving certificate renewed')), 20_000);
    await waitFor('admin credential renewed', () => c.log.lines.some((l) => / the admin credential in .* renewed/.test(l)), 20_000);
    const nextServer = certInfo(c.serverCertPem()).serial;
    assert.not.equal(nextServer, firstServer);
    // New connections get the new certificate, without a restart.
    assert.is(await servedSerial(), nextServer);
    assert.is(readFileSync(join(dataDir, COORDINATOR_DATA.serverCert), 'utf8'), c.serverCertPem());
    assert.not.equal(readFileSync(join(dataDir, COORDINATOR_DATA.adminConfig), 'utf8'), firstAdmin);
    const out: string[] = [];
    assert.is(await main(['status', '--data-dir', dataDir], io(out)), 0, out.join('\n'));
  } finally {
    await c.close();
  }
});

test('a node offline past expiry comes back only through a token an operator bound to its name', async () => {
  const dir = tempDir();
  const c = await testCoordinator(join(dir, 'coord'), { planFile: plan(dir), listen: `${net.host(1)}:0`, certTtlMs: { node: 4000 } });
  const stateDir = join(dir, 'node-3/state');
  const opts = { coordinator: c.address, caHash: c.identity.caPin, nodeName: 'node-3', address: net.host(4), stateDir, root: join(dir, 'node-3/root') };
  try {
    const { token } = await c.state.tokens.create({});
    const first = runAgent({ ...opts, token });
    await waitFor('node-3 applied', () => first.agent.appliedRevision > 0, 20_000);
    await first.stop();
    const expires = certInfo((await new IdentityStore(stateDir).load())!.certPem).notAfter.getTime();
    await waitFor('the saved identity expired', () => Date.now() > expires, 15_000);

    // No token: the agent says what the operator must do.
    const noToken = runAgent(opts);
    const e1 = await rejects(() => noToken.done);
    assert.match(e1.message, /the identity of node node-3 in .* expired at \d{4}-.*`muster token create --node node-3`/);
    // An ordinary token does not take a held name.
    const plain = runAgent({ ...opts, token });
    const e2 = await rejects(() => plain.done);
    assert.is(e2.kind, 'already-exists');
    // A token bound to node-3: it joins again with a new key, and works.
    const bound = await c.state.tokens.create({ nodeName: 'node-3' });
    const back = runAgent({ ...opts, token: bound.token });
    try {
      await waitFor('node-3 back and applied', () => back.log.lines.some((l) => l.includes('joined') && l.includes('as node node-3')) && c.state.status().find((r) => r.name === 'node-3')?.state === 'applied', 40_000).catch((e: Error) => {
        const row = c.state.status().find((r) => r.name === 'node-3');
        throw new Error(`${e.message}; node-3: ${JSON.stringify(row)}\nagent:\n${back.log.lines.slice(-15).join('\n')}\ncoordinator:\n${c.log.lines.slice(-10).join('\n')}`);
      });
      assert.not.equal(back.agent.phase, 'failed', back.log.lines.slice(-10).join('\n'));
      assert.ok(c.log.lines.some((l) => / warn .*node node-3 taken over by a join with token/.test(l)));
      assert.ok(back.log.lines.some((l) => / warn .*the identity of node node-3 expired at/.test(l)));
    } finally {
      await back.stop();
    }
  } finally {
    await c.close();
  }
});

test.run();
