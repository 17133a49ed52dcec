// CA rotation and forced renewal end to end with a real coordinator and real agents: the CLI
// starts them, the stages reach nodes through their assignments, agents fetch bundles and new
// certificates and restart what uses them (a recording restarter here; the real one is the
// render/apply engine's), and the coordinator moves on only when every node applied a stage.
// At every restart the files on all nodes are checked to trust each other, which is what keeps a
// real cluster up (etcd-rotation.test.ts shows it with a live etcd).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { tempDir, testCoordinator, runAgent, waitFor, type RunningAgent } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { fleetPlan } from '../helpers/plans.ts';
import { rejects } from '../helpers/assert.ts';
import { freePort } from '../../shared/net/free-port.ts';
import { CLUSTER_CA_PATHS, kindsForRoles, type ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { bundleFingerprints, splitBundle } from '../../shared/pki/bundle.ts';
import { certInfo, issuedBy } from '../../shared/pki/x509.ts';
import { CLUSTER_PKI } from '../../shared/constants.ts';
import { main } from '../../coordinator/cli/main.ts';
import { memoryIO } from '../../shared/cli/io.ts';
import { nextCaPaths, retiredCaPaths } from '../../coordinator/pki/cluster-cas.ts';
import type { ComponentRestarter } from '../../agent/loop/agent.ts';
import type { Coordinator } from '../../coordinator/server/coordinator.ts';
import { opensslVerifies } from './agent-helpers.ts';

const net = addressBlock(import.meta.url);
const NODES = [
  { name: 'node-1', ip: net.host(2), roles: ['etcd', 'master'] },
  { name: 'node-2', ip: net.host(3), roles: ['etcd'] },
  { name: 'node-3', ip: net.host(4), roles: ['etcd'] },
  { name: 'node-4', ip: net.host(5), roles: ['worker'] },
  { name: 'node-5', ip: net.host(6), roles: ['worker'] },
] as const;

const PLAN = fleetPlan({ name: 'rotation', etcd: NODES.slice(0, 3), masters: [NODES[0]], workers: NODES.slice(3) });

const APPLIED_MS = 30_000;
const ROTATION_MS = 90_000;

const dir = tempDir('muster-rotation-');
const dataDir = join(dir, 'coord');
const rootOf = (name: string) => join(dir, name, 'root');
let listen = '';
let c: (Coordinator & { log: { lines: string[] } }) | undefined;
const agents = new Map<string, RunningAgent>();

/** What the files of one node say about CA `ca`: its bundle and which CA signed each of its certificates of that CA. */
function nodeView(name: string, ca: ClusterCaKind) {
  const roles = NODES.find((n) => n.name === name)!.roles;
  const bundlePath = join(rootOf(name), CLUSTER_CA_PATHS[ca]);
  const kinds = kindsForRoles(roles).filter((k) => k.ca === ca);
  return {
    bundle: existsSync(bundlePath) ? readFileSync(bundlePath, 'utf8') : '',
    // Nodes still setting up hold fewer files: what exists is checked.
    certs: kinds.filter((k) => existsSync(join(rootOf(name), k.certPath))).map((k) => ({ kind: k.kind, pem: readFileSync(join(rootOf(name), k.certPath), 'utf8') })),
  };
}

/** Every certificate of `ca` on every node is trusted by every node's bundle of `ca`: the cluster can talk. */
function mutualTrust(ca: ClusterCaKind): string[] {
  const holders = NODES.filter((n) => kindsForRoles(n.roles).some((k) => k.ca === ca)).map((n) => nodeView(n.name, ca)).filter((v) => v.bundle);
  const problems: string[] = [];
  for (const [i, a] of holders.entries()) {
    for (const cert of a.certs) {
      for (const [j, b] of holders.entries()) {
        if (!splitBundle(b.bundle).some((caPem) => issuedBy(cert.pem, caPem))) problems.push(`${NODES[i]!.name}'s ${cert.kind} is not trusted by ${NODES[j]!.name}'s ${ca} bundle`);
      }
    }
  }
  return problems;
}

interface RestartEvent {
  node: string;
  components: string[];
  /** Restarts of etcd or control-plane components under way on other nodes at this moment. */
  concurrentControlPlane: number;
  trust: Record<ClusterCaKind, string[]>;
}
const restarts: RestartEvent[] = [];
const restarting = new Set<string>();
const CONTROL_PLANE = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

function restarter(node: string): ComponentRestarter {
  return {
    async restart(components) {
      const cp = components.some((x) => CONTROL_PLANE.includes(x));
      restarts.push({
        node,
        components: [...components],
        concurrentControlPlane: cp ? [...restarting].filter((n) => n !== node).length : 0,
        trust: { etcd: mutualTrust('etcd'), kubernetes: mutualTrust('kubernetes'), 'front-proxy': mutualTrust('front-proxy') },
      });
      if (cp) restarting.add(node);
      // A restart takes a moment: long enough for a second one to overlap if the coordinator allowed it.
      await new Promise((r) => setTimeout(r, 40));
      restarting.delete(node);
    },
  };
}

function startAgent(name: string, ip: string, token: string): void {
  agents.set(name, runAgent({ coordinator: listen, token, caHash: c!.identity.caPin, nodeName: name, address: ip, stateDir: join(dir, name, 'state'), root: rootOf(name) }, undefined, { components: restarter(name), renewRandom: () => 0.5 }));
}

async function cli(...args: string[]) {
  const io = memoryIO();
  const code = await main([...args, '--data-dir', dataDir], io);
  return { code, out: io.stdout, err: io.stderr };
}

const allApplied = () => NODES.every((n) => c!.state.assignments.get(n.name) && c!.state.reports.applies.get(n.name)?.revision === c!.state.assignments.get(n.name)!.revision && c!.state.reports.applies.get(n.name)?.ok);

test('set-up: five agents (three etcd, one of them master; two workers) apply their assignments and certificates', async () => {
  writeFileSync(join(dir, 'plan.yaml'), PLAN);
  listen = `${net.host(1)}:${await freePort(net.host(1))}`;
  c = await testCoordinator(dataDir, { planFile: join(dir, 'plan.yaml'), listen });
  const { token } = await c.state.tokens.create({ uses: NODES.length });
  for (const n of NODES) startAgent(n.name, n.ip, token);
  await waitFor('every node applied its assignment', allApplied, APPLIED_MS).catch((e) => {
    console.log(JSON.stringify(c!.state.status(), null, 1));
    for (const [n, a] of agents) console.log(n, a.log.lines.slice(-8).join('\n'));
    throw e;
  });
  for (const n of NODES) assert.is(c.state.assignments.get(n.name)!.body.roles.join(','), n.roles.join(','), n.name);
  for (const ca of ['etcd', 'kubernetes', 'front-proxy'] as const) assert.equal(mutualTrust(ca), [], ca);
});

const serials = (name: string) => Object.fromEntries(kindsForRoles(NODES.find((n) => n.name === name)!.roles).map((k) => [k.kind, certInfo(readFileSync(join(rootOf(name), k.certPath), 'utf8')).serial]));
const keyOf = (name: string, kind: string) => readFileSync(join(rootOf(name), kindsForRoles(['etcd', 'master', 'worker']).find((k) => k.kind === kind)!.keyPath), 'utf8');

test('certs renew --node renews that node only (same keys, new certificates); --all renews every node; a bad request changes nothing', async () => {
  const before = Object.fromEntries(NODES.map((n) => [n.name, serials(n.name)]));
  const key4 = keyOf('node-4', 'kubelet-client');
  const r = await cli('certs', 'renew', '--node', 'node-4');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /1 node\(s\) renew/);
  await waitFor('node-4 holds new certificates', () => Object.entries(serials('node-4')).every(([k, s]) => s !== before['node-4']![k]), APPLIED_MS);
  await waitFor('every node applied', allApplied, APPLIED_MS);
  assert.is(keyOf('node-4', 'kubelet-client'), key4, 'a renewal keeps the key');
  for (const n of NODES.filter((x) => x.name !== 'node-4')) assert.equal(serials(n.name), before[n.name], `${n.name} renewed nothing`);
  assert.ok(agents.get('node-4')!.log.lines.some((l) => l.includes('renewal requested by an operator')), 'the agent says why it renews');
  assert.ok(restarts.some((e) => e.node === 'node-4' && e.components.includes('kubelet')), 'kubelet restarted for its new certificates');

  const bad = await cli('certs', 'renew', '--node', 'no-such-node');
  assert.is(bad.code, 1);
  assert.match(bad.err, /node no-such-node is not registered/);
  const usage = await cli('certs', 'renew');
  assert.is(usage.code, 2, 'neither --node nor --all: a usage error');
  assert.match(usage.err, /usage: muster certs renew/);

  const mid = Object.fromEntries(NODES.map((n) => [n.name, serials(n.name)]));
  restarts.length = 0;
  const all = await cli('certs', 'renew', '--all');
  assert.is(all.code, 0, all.err);
  assert.match(all.out, /5 node\(s\) renew/, 'every node is covered, held ones included');
  // Every etcd member at once would lose quorum: the request reaches them one at a time.
  const renewOf = (name: string) => Number(c!.state.assignments.get(name)!.body.pki?.renew_before_ms ?? 0);
  const renewAt = Math.max(...NODES.map((n) => renewOf(n.name)));
  const handed = NODES.filter((n) => renewOf(n.name) === renewAt).map((n) => n.name);
  assert.equal(handed, ['node-1'], 'right after the request one node, the master, is handed it; the etcd members and workers wait');
  assert.match(c!.state.assignments.waitingReason('node-2') ?? '', /certificate renewal waits for master node-1/);
  await waitFor('every node holds new certificates', () => NODES.every((n) => Object.entries(serials(n.name)).every(([k, s]) => s !== mid[n.name]![k])), APPLIED_MS);
  await waitFor('every node applied', allApplied, APPLIED_MS);
  assert.ok(restarts.filter((e) => e.components.includes('etcd')).length >= 3, `every etcd member restarted: ${JSON.stringify(restarts.map((e) => [e.node, e.components]))}`);
  assert.is(Math.max(0, ...restarts.map((e) => e.concurrentControlPlane)), 0, 'never two control-plane nodes restarting at once');
  // Nothing renews twice: a settled fleet asks for nothing more.
  const settled = Object.fromEntries(NODES.map((n) => [n.name, serials(n.name)]));
  await c!.state.idle();
  assert.equal(Object.fromEntries(NODES.map((n) => [n.name, serials(n.name)])), settled);
});

test('rotate-ca --kind etcd --wait: three stages, etcd nodes one at a time, the cluster trusts itself at every restart, and only the new CA at the end', async () => {
  const oldCa = readFileSync(join(dataDir, CLUSTER_PKI.etcd.cert), 'utf8');
  const kubeNodes = NODES.filter((n) => (n.roles as readonly string[]).some((r) => r === 'master' || r === 'worker'));
  const kubeBefore = kubeNodes.map((n) => readFileSync(join(rootOf(n.name), CLUSTER_CA_PATHS.kubernetes), 'utf8'));
  restarts.length = 0;
  const r = await cli('certs', 'rotate-ca', '--kind', 'etcd', '--wait', '--timeout', `${ROTATION_MS / 1000}s`);
  assert.is(r.code, 0, `${r.out}\n${r.err}`);
  assert.match(r.out, /etcd CA rotation 1 started/);
  assert.match(r.out, /etcd CA rotation 1: complete/);
  // --wait polls, so a fast stage may not show there; the coordinator says each one.
  for (const s of ['stage 2/3 (reissue) begins', 'stage 3/3 (drop-old) begins', 'etcd CA rotation 1 complete']) assert.ok(c!.log.lines.some((l) => l.includes(s)), s);

  const newCa = readFileSync(join(dataDir, CLUSTER_PKI.etcd.cert), 'utf8');
  assert.is.not(newCa, oldCa, 'the CA of record is the new one');
  const oldSerial = certInfo(oldCa).serial;
  assert.is(readFileSync(retiredCaPaths(dataDir, 'etcd', oldSerial).cert, 'utf8'), oldCa, 'the old CA is kept in retired/');
  assert.not.ok(existsSync(nextCaPaths(dataDir, 'etcd').cert), 'next/ is gone');

  const etcdRestarts = restarts.filter((e) => e.components.includes('etcd'));
  // Each etcd node restarts once per stage: stage 1 (bundle), 2 (certificates), 3 (bundle).
  for (const n of NODES.slice(0, 3)) assert.is(etcdRestarts.filter((e) => e.node === n.name).length, 3, `${n.name}: ${JSON.stringify(etcdRestarts.map((e) => e.node))}`);
  assert.is(Math.max(...restarts.map((e) => e.concurrentControlPlane)), 0, 'never two control-plane nodes restarting at once');
  for (const e of restarts) assert.equal(e.trust.etcd, [], `at ${e.node}'s restart every etcd certificate was trusted everywhere`);
  assert.not.ok(restarts.some((e) => e.node === 'node-4' || e.node === 'node-5'), 'workers hold no etcd certificate: nothing restarted there');

  for (const n of NODES.slice(0, 3)) {
    const bundlePath = join(rootOf(n.name), CLUSTER_CA_PATHS.etcd);
    assert.equal(bundleFingerprints(readFileSync(bundlePath, 'utf8')), bundleFingerprints(newCa), `${n.name} trusts only the new etcd CA`);
    for (const k of kindsForRoles(n.roles).filter((x) => x.ca === 'etcd')) {
      const certPath = join(rootOf(n.name), k.certPath);
      assert.ok(opensslVerifies(join(dataDir, CLUSTER_PKI.etcd.cert), certPath), `${n.name} ${k.kind} verifies against the new CA`);
      const oldFile = join(dir, 'old-etcd-ca.crt');
      writeFileSync(oldFile, oldCa);
      assert.not.ok(opensslVerifies(oldFile, certPath), `${n.name} ${k.kind} does not verify against the old CA`);
    }
  }
  kubeNodes.forEach((n, i) => assert.is(readFileSync(join(rootOf(n.name), CLUSTER_CA_PATHS.kubernetes), 'utf8'), kubeBefore[i], `${n.name}: the kubernetes CA was not touched`));

  const st = await cli('certs', 'rotate-ca', '--status', '--json');
  const rows = JSON.parse(st.out) as { kind: string; stage: string; nodes: { name: string; state: string }[] }[];
  assert.is(rows.find((x) => x.kind === 'etcd')!.stage, 'complete');
  const exp = await cli('certs', 'check-expiration', '--json');
  assert.not.ok(exp.out.includes('rotating in'), 'no CA rotating in any more');
});

test('rotate-ca --kind kubernetes survives a coordinator restart mid-way; one rotation at a time; kubeconfigs end with the new CA only', async () => {
  const oldCa = readFileSync(join(dataDir, CLUSTER_PKI.kubernetes.cert), 'utf8');
  restarts.length = 0;
  const r = await cli('certs', 'rotate-ca', '--kind', 'kubernetes');
  assert.is(r.code, 0, r.err);
  const busy = await rejects(() => c!.state.startCaRotation('front-proxy', 'test'));
  assert.is(busy.reason, 'rotation-in-progress');
  assert.match(busy.message, /kubernetes CA rotation is at stage/);
  const status = await cli('certs', 'rotate-ca', '--status');
  assert.match(status.out, /kubernetes CA rotation 1: stage [123]\/3/);

  await waitFor('stage 2 (reissue) is under way', () => (c!.state.pki.rotations.get('kubernetes')?.stage ?? 0) >= 2, ROTATION_MS);
  await c!.close();
  c = await testCoordinator(dataDir, { listen });
  await waitFor('the rotation completes after the restart', () => c!.state.pki.rotations.get('kubernetes')?.stage === 5 - 1, ROTATION_MS);
  await waitFor('every node applied', allApplied, APPLIED_MS);
  const newCa = readFileSync(join(dataDir, CLUSTER_PKI.kubernetes.cert), 'utf8');
  assert.is.not(newCa, oldCa);
  for (const n of NODES) {
    for (const k of kindsForRoles(n.roles).filter((x) => x.ca === 'kubernetes')) {
      assert.ok(issuedBy(readFileSync(join(rootOf(n.name), k.certPath), 'utf8'), newCa), `${n.name} ${k.kind} is signed by the new CA`);
      if (k.kubeconfig) {
        const doc = parse(readFileSync(join(rootOf(n.name), k.kubeconfig.path), 'utf8'));
        const embedded = Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
        assert.equal(bundleFingerprints(embedded), bundleFingerprints(newCa), `${n.name} ${k.kubeconfig.path} trusts only the new CA`);
      }
    }
  }
  assert.is(Math.max(0, ...restarts.map((e) => e.concurrentControlPlane)), 0, 'never two control-plane nodes restarting at once');
  for (const e of restarts) assert.equal(e.trust.kubernetes, [], `at ${e.node}'s restart every kubernetes certificate was trusted everywhere`);
  // A second rotation of the same kind is number 2 and may start now.
  const again = await cli('certs', 'rotate-ca', '--kind', 'front-proxy', '--wait', '--timeout', `${ROTATION_MS / 1000}s`);
  assert.is(again.code, 0, `${again.out}\n${again.err}`);
});

test.after(async () => {
  for (const a of agents.values()) await a.stop();
  await c?.close();
});

test.run();
