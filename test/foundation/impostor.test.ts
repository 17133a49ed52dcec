// The attack the trust domains exist for: a node that joined takes its own key and certificate
// and serves on the coordinator's address (the real coordinator is down, or the node won the
// address). It answers GetCA with the genuine server CA (public), so the pin matches; after that
// it must get nothing: no token from a joining agent, no Report from an existing one, no forged
// assignment applied, and `muster status` refuses it with a clear message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { tempDir, testCoordinator, threeNodePlan, runAgent, waitFor, captureLogger, type RunningAgent } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { rejects } from '../helpers/assert.ts';
import { join as joinCoordinator } from '../../agent/client/join.ts';
import { musterV1 } from '../../shared/wire/proto.ts';
import { main } from '../../coordinator/cli/main.ts';
import type { CliIO } from '../../shared/cli/io.ts';

const net = addressBlock(import.meta.url);

interface Impostor {
  calls: string[];
  tokens: string[];
  close(): Promise<void>;
}

/** A gRPC server on `address` with a node's key and certificate, answering every service as the coordinator would. */
async function startImpostor(address: string, id: { keyPem: string; certPem: string }, genuineServerCaPem: string): Promise<Impostor> {
  const calls: string[] = [];
  const tokens: string[] = [];
  const server = new grpc.Server();
  const forged = { node_name: 'node-2', revision: 999_999, roles: ['etcd', 'master'], cluster_name: 'owned', kubernetes_version: 'v1.36.0' };
  const ok = <T>(name: string, res: T) => (call: { request: unknown }, cb: (e: null, r: T) => void) => {
    calls.push(name);
    cb(null, res);
  };
  server.addService(musterV1.Bootstrap.service, {
    GetCA: ok('GetCA', { ca_cert_pem: genuineServerCaPem }),
    Join: (call: { request: { token: string } }, cb: (e: null, r: unknown) => void) => {
      calls.push('Join');
      tokens.push(call.request.token);
      cb(null, { cert_pem: id.certPem, ca_cert_pem: genuineServerCaPem, node_name: 'x' });
    },
  });
  server.addService(musterV1.Agent.service, {
    Report: ok('Report', { server_time_ms: Date.now(), need_full_facts: false }),
    WatchAssignment: ok('WatchAssignment', { changed: true, assignment: forged }),
    ReportApply: ok('ReportApply', {}),
    RenewIdentity: ok('RenewIdentity', {}),
  });
  server.addService(musterV1.Admin.service, { Status: ok('Status', { cluster_name: 'owned', plan_revision: 1, nodes: [{ name: 'evil', state: 'applied' }] }) } as never);
  const creds = grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(id.keyPem), cert_chain: Buffer.from(id.certPem) }], false);
  await new Promise<void>((resolve, reject) => server.bindAsync(address, creds, (e) => (e ? reject(e) : resolve())));
  return { calls, tokens, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

test("a node's certificate serving on the coordinator's address gets no token, no report, no applied assignment, and `muster status` refuses it", async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'coord');
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, threeNodePlan('real', '', { addresses: [net.host(2), net.host(3), net.host(4)] }));
  let c = await testCoordinator(dataDir, { planFile, listen: `${net.host(1)}:0` });
  const address = c.address;
  const pin = c.identity.caPin;
  const serverCaPem = c.identity.serverCa.certPem;
  let agent: RunningAgent | null = null;
  let impostor: Impostor | null = null;
  try {
    const { token } = await c.state.tokens.create({});
    // An existing node, applied.
    agent = runAgent({ coordinator: address, token, caHash: pin, nodeName: 'node-2', address: net.host(3), stateDir: join(dir, 'node-2/state'), root: join(dir, 'node-2/root') });
    await waitFor('node-2 applied', () => agent!.agent.appliedRevision > 0);
    const appliedBefore = agent.agent.appliedRevision;
    const fileBefore = readFileSync(join(dir, 'node-2/root/etc/muster/assignment.yaml'), 'utf8');
    // The attacker: a node that joined as "localhost"-ish names is refused now; it joins as itself.
    const attacker = await joinCoordinator(
      { coordinator: address, token, caHash: pin, insecureSkipCaVerification: false, nodeName: 'node-evil', machineId: 'm-evil', address: net.host(66), labels: {}, agentVersion: 'test' },
      captureLogger('attacker'),
    );
    const newToken = (await c.state.tokens.create({ description: 'for a new node' })).token;

    // The real coordinator goes away; the attacker serves on its address with its node identity.
    await c.close();
    impostor = await startImpostor(address, attacker, serverCaPem);

    // 1. A new agent with the right pin: the pin matches (GetCA answers the genuine CA), but the
    //    pinned channel refuses the impostor's certificate before the token is sent.
    const e = await rejects(() =>
      joinCoordinator(
        { coordinator: address, token: newToken, caHash: pin, insecureSkipCaVerification: false, nodeName: 'node-new', machineId: 'm-new', address: net.host(70), labels: {}, agentVersion: 'test' },
        captureLogger('new agent'),
      ),
    );
    assert.is(e.reason, 'coordinator-unverified', e.message);
    assert.match(e.message, new RegExp(`the server at ${address.replaceAll('.', '\\.')} is not the muster coordinator this node or config trusts: TLS verification failed`));
    assert.equal(impostor.tokens, [], 'the impostor received a token');
    assert.ok(!impostor.calls.includes('Join'));

    // 2. The existing agent: it keeps retrying with a warning, sends nothing, applies nothing.
    await waitFor('two refused connections', () => agent!.log.lines.filter((l) => / warn .*is not the muster coordinator/.test(l)).length >= 2, 20_000);
    assert.equal(impostor.calls.filter((n) => n !== 'GetCA'), [], 'the impostor received calls from a node');
    assert.is(agent.agent.appliedRevision, appliedBefore);
    assert.is(readFileSync(join(dir, 'node-2/root/etc/muster/assignment.yaml'), 'utf8'), fileBefore);
    assert.not.equal(agent.agent.phase, 'failed');

    // 3. The admin CLI: refused, with a clear message and no stack trace.
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t), ask: null, env: {}, cwd: dir };
    const code = await main(['status', '--data-dir', dataDir], io);
    assert.is(code, 1, err.join('\n'));
    assert.match(err.join('\n'), /is not the muster coordinator this node or config trusts/);
    assert.not.match(err.join('\n'), /\n\s+at /);
    assert.equal(out, []);
    assert.ok(!impostor.calls.includes('Status'));

    // The real coordinator comes back on its address: the agent carries on where it was.
    await impostor.close();
    impostor = null;
    c = await testCoordinator(dataDir, { planFile, listen: address });
    await waitFor('node-2 watching again', () => agent!.agent.phase === 'watching', 20_000);
    assert.is(agent.agent.appliedRevision, appliedBefore);
  } finally {
    await agent?.stop();
    await impostor?.close();
    await c.close();
  }
});

test.run();
