// The cluster PKI inside the agent's loop, against the fake coordinator: an assignment with roles
// gets its certificates before anything else and lists them in its apply report; a refusal fails
// the apply with the kind named and is retried like any failed apply; renewal happens on the
// loop's own schedule without a new assignment; a restarted agent checks at once.
import { NoServices } from '../../agent/apply/services.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { addressBlock } from '../helpers/addresses.ts';
import { runAgent, tempDir, waitFor } from '../helpers/cluster.ts';
import { startFakeCoordinator } from './agent-fake-coordinator.ts';
import { assignment } from './agent-helpers.ts';
import { IdentityStore } from '../../agent/identity/identity-store.ts';
import { certKind, kindsForRoles } from '../../shared/pki/catalogue.ts';
import { certInfo } from '../../shared/pki/x509.ts';
import type { AgentPhase } from '../../agent/loop/agent.ts';

const net = addressBlock(import.meta.url);

async function setup(nodeName: string, ip: string, roles = ['worker']) {
  const dir = tempDir('muster-agent-pki-loop-');
  const fake = await startFakeCoordinator(net.host(1));
  fake.knobs.addresses = [ip];
  fake.knobs.assignment = assignment({ node_name: nodeName, roles, node_ip: ip, revision: 7, api_server_endpoint: `${net.host(100)}:6443` });
  const stateDir = join(dir, 'state');
  const root = join(dir, 'root');
  await new IdentityStore(stateDir).save(await fake.identity(nodeName));
  const services = new NoServices(null, 'test');
  const start = (deps: { renewRandom?: () => number } = {}) => runAgent({ coordinator: fake.address, nodeName, address: ip, stateDir, root, watchHoldMs: 1000 }, undefined, { applyRetryMs: 200, services, ...deps });
  return { fake, root, start, services };
}

test('an assignment with roles gets its certificates first; the apply report lists them; the services using them are restarted', async () => {
  const { fake, root, start, services } = await setup('node-1', net.host(10));
  const a = start();
  try {
    await waitFor('an apply report', () => fake.reports.length > 0);
    const r = fake.reports[0]!;
    assert.ok(r.ok, r.error);
    assert.is(r.revision, 7);
    assert.is(fake.issued.length, 1, 'one call');
    const paths = r.files.map((f) => f.path);
    for (const k of kindsForRoles(['worker'])) {
      assert.ok(paths.includes(`/${k.certPath}`) && paths.includes(`/${k.keyPath}`), k.kind);
      assert.ok(existsSync(join(root, k.certPath)));
    }
    assert.ok(paths.includes('/etc/kubernetes/kubelet.conf') && paths.includes('/etc/kubernetes/pki/ca.crt') && paths.includes('/etc/muster/assignment.yaml'));
    assert.ok(r.files.every((f) => f.changed));
    assert.equal(a.agent.restartPending, [], 'handed to the service manager');
    const restarts = services.skipped.filter((x) => x.kind === 'restart').map((x) => (x as { unit: string }).unit);
    assert.equal(restarts, ['containerd.service', 'kubelet.service', 'kube-proxy.service'], 'the runtime, then the kubelet, then kube-proxy');
    assert.equal(services.skipped[0], { kind: 'daemon-reload' }, 'new units: daemon-reload first');
    const c = certInfo(readFileSync(join(root, certKind('kubelet-client')!.certPath)));
    assert.ok(a.agent.certificatesRenewAt > c.notBefore.getTime() && a.agent.certificatesRenewAt < c.notAfter.getTime());
  } finally {
    await a.stop();
    await fake.close();
  }
});

test('a refusal fails the apply with the kind named, and the apply is retried until it is issued', async () => {
  const { fake, start } = await setup('node-2', net.host(11));
  fake.knobs.refuse.add('kubelet-serving');
  const a = start();
  try {
    await waitFor('a failed apply report', () => fake.reports.length > 0);
    const r = fake.reports[0]!;
    assert.not.ok(r.ok);
    assert.match(r.error, /kubelet-serving: not allowed for node node-2/);
    assert.match(r.error, /did not issue the cluster certificates kubelet-client, kubelet-serving, kube-proxy/);
    assert.is(a.agent.appliedRevision, 0);
    assert.ok(a.log.lines.some((l) => l.includes('cannot apply revision 7') && l.includes('kubelet-serving')));
    fake.knobs.refuse.clear();
    await waitFor('a successful retry', () => fake.reports.some((x) => x.ok));
    assert.is(a.agent.appliedRevision, 7);
  } finally {
    await a.stop();
    await fake.close();
  }
});

test('the loop renews a short-lived certificate at its point of the window without a new assignment, then keeps going', async () => {
  const { fake, root, start } = await setup('node-3', net.host(12));
  // 4 s, renewed at 70% (renewRandom 0): well within the test, with room on a busy machine.
  fake.knobs.ttlMs['kube-proxy'] = 4000;
  const phases: AgentPhase[] = [];
  const a = start({ renewRandom: () => 0 });
  a.agent.onPhase((p) => phases.push(p));
  try {
    await waitFor('applied', () => a.agent.appliedRevision === 7);
    const first = certInfo(readFileSync(join(root, certKind('kube-proxy')!.certPath)));
    assert.is(a.agent.certificatesRenewAt, first.notBefore.getTime() + Math.floor((first.notAfter.getTime() - first.notBefore.getTime()) * 0.7));
    await waitFor('a renewal call', () => fake.issued.length >= 2, 20_000);
    assert.equal(fake.issued[1]!.requests.map((q) => q.kind), ['kube-proxy']);
    await waitFor('the renewed certificate on disk', () => certInfo(readFileSync(join(root, certKind('kube-proxy')!.certPath))).serial !== first.serial);
    assert.ok(phases.includes('renewing-certificates'), phases.join(','));
    assert.is(fake.reports.length, 1, 'a renewal is not an apply');
    assert.ok(a.log.lines.some((l) => l.includes('requesting cluster certificates: kube-proxy (due for renewal since')));
    assert.not.equal(a.agent.phase, 'failed');
  } finally {
    await a.stop();
    await fake.close();
  }
});

test('a restarted agent checks its certificates at once and asks for what went missing meanwhile', async () => {
  const { fake, root, start } = await setup('node-4', net.host(13));
  let a = start();
  try {
    // Applied and reported (the agent counts a revision applied before its report is answered).
    await waitFor('applied and reported', () => a.agent.appliedRevision === 7 && fake.reports.length >= 1);
    await a.stop();
    rmSync(join(root, certKind('kubelet-client')!.certPath));
    a = start();
    await waitFor('a second call', () => fake.issued.length >= 2);
    assert.equal(fake.issued[1]!.requests.map((q) => q.kind), ['kubelet-client']);
    await waitFor('the certificate back', () => existsSync(join(root, certKind('kubelet-client')!.certPath)));
    // No new apply: the restarted agent only says again what it applied (revision 7, no files written).
    await waitFor('the restarted agent says what it applied', () => fake.reports.length >= 2);
    assert.is(fake.reports.length, 2);
    assert.is(Number(fake.reports[1]!.revision), 7);
    assert.equal(fake.reports[1]!.files, []);
  } finally {
    await a.stop();
    await fake.close();
  }
});

test.run();
