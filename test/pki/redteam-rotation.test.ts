// The cluster PKI attacked: by a node (certificates it may not hold, lies about what it applied,
// a race with the plan change that takes its roles), and by bad luck (a data dir put together
// from backups of different times, a CA imported over one being rotated out, a crash between
// writing next/ and committing the rotation, oversized admin requests). Most of it runs on a
// "played" fleet: nodes joined over gRPC whose every call the test makes by hand, so a liar and an
// honest node differ by exactly one call; the end runs real agents through a kubernetes CA
// rotation to check the operator's kubeconfig at every stage and that nothing renews in a loop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, testCoordinator, captureLogger, runAgent, waitFor, type RunningAgent } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { fleetPlan } from '../helpers/plans.ts';
import { rejects } from '../helpers/assert.ts';
import { join as joinCoordinator } from '../../agent/client/join.ts';
import { agentClient } from '../../agent/client/channels.ts';
import { unary } from '../../shared/wire/status.ts';
import { createCa, createCsr, certInfo, issuedBy } from '../../shared/pki/x509.ts';
import { CLUSTER_CA_PATHS, kindsForRoles, type ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { bundleFingerprints, splitBundle } from '../../shared/pki/bundle.ts';
import { CLUSTER_CA_CNS, CLUSTER_PKI, COORDINATOR_DATA } from '../../shared/constants.ts';
import { main } from '../../coordinator/cli/main.ts';
import { withAdmin } from '../../coordinator/cli/admin-commands.ts';
import { memoryIO } from '../../shared/cli/io.ts';
import { importCa } from '../../coordinator/pki/import.ts';
import { nextCaPaths } from '../../coordinator/pki/cluster-cas.ts';
import { freePort } from '../../shared/net/free-port.ts';
import type { Coordinator } from '../../coordinator/server/coordinator.ts';
import type { AgentIdentity } from '../../agent/identity/identity-store.ts';
import type { ComponentRestarter } from '../../agent/loop/agent.ts';

const net = addressBlock(import.meta.url);
const NODES = [
  { name: 'node-1', ip: net.host(2), roles: ['etcd', 'master'] },
  { name: 'node-2', ip: net.host(3), roles: ['etcd'] },
  { name: 'node-3', ip: net.host(4), roles: ['etcd'] },
  { name: 'node-4', ip: net.host(5), roles: ['worker'] },
] as const;

/** The plan, with the master on `master` (moving it is how a test takes node-1's master role). */
function plan(master = 'node-1'): string {
  const m = NODES.find((n) => n.name === master)!;
  return fleetPlan({ name: 'redteam', etcd: NODES.slice(0, 3), masters: [m], workers: NODES.filter((n) => (n.roles as readonly string[]).includes('worker')) });
}

type TestCoordinator = Coordinator & { log: { lines: string[] } };

/** A coordinator and four joined nodes whose calls the test makes itself. */
interface Played {
  dir: string;
  data: string;
  c: TestCoordinator;
  ids: Map<string, AgentIdentity>;
  /** Whether `c` runs (a test that leaves it stopped says so). */
  live: boolean;
}

const played: Played[] = [];
/** Every coordinator's log lines, for the last test. */
const coordinatorLogs: string[][] = [];

async function start(f: Played): Promise<void> {
  f.c = await testCoordinator(f.data, { listen: `${net.host(1)}:0` });
  coordinatorLogs.push(f.c.log.lines);
  f.live = true;
}

async function playedFleet(): Promise<Played> {
  const dir = tempDir('muster-redteam-');
  const data = join(dir, 'coord');
  const c = await testCoordinator(data, { listen: `${net.host(1)}:0` });
  coordinatorLogs.push(c.log.lines);
  const f: Played = { dir, data, c, ids: new Map(), live: true };
  played.push(f);
  await c.state.applyPlan(plan(), 'plan.yaml');
  for (const n of NODES) {
    const { token } = await c.state.tokens.create({});
    const id = await joinCoordinator(
      { coordinator: c.address, token, caHash: c.identity.caPin, insecureSkipCaVerification: false, nodeName: n.name, machineId: `m-${n.name}`, address: n.ip, labels: {}, agentVersion: 't' },
      captureLogger(),
    );
    f.ids.set(n.name, id);
  }
  await waitFor('every played node has its assignment', () => NODES.every((n) => f.c.state.assignments.get(n.name)?.body.roles.join(',') === n.roles.join(',')));
  return f;
}

async function stop(f: Played): Promise<void> {
  await f.c.close();
  f.live = false;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function nodeCall(f: Played, name: string, method: string, req: unknown): Promise<any> {
  const client = agentClient(f.c.address, f.ids.get(name)!);
  try {
    return await unary(f.c.address, client, method as 'IssueCertificates', req as never, 15_000);
  } finally {
    client.close();
  }
}

async function csrsFor(name: string, roles: readonly string[]) {
  return Promise.all(kindsForRoles(roles).map(async (k) => ({ kind: k.kind, csr_pem: (await createCsr(k.cn(name), undefined, { orgs: k.orgs })).csrPem })));
}

/** An honest agent's pass: every certificate asked for again, the answer checked against the target it came with, then the apply reported. */
async function honest(f: Played, name: string): Promise<void> {
  const a = f.c.state.assignments.get(name)!;
  const res = await nodeCall(f, name, 'IssueCertificates', { requests: await csrsFor(name, a.body.roles) });
  for (const [ca, t] of Object.entries(res.pki?.cas ?? {}) as [ClusterCaKind, { bundle: string[]; signer: string }][]) {
    const pem = res.cas[ca === 'front-proxy' ? 'front_proxy' : ca];
    assert.equal(bundleFingerprints(pem), t.bundle, `${name}: the ${ca} bundle served is the one its target names`);
  }
  await reportApplied(f, name, a.revision);
}

async function reportApplied(f: Played, name: string, revision: number): Promise<void> {
  await nodeCall(f, name, 'ReportApply', { revision, ok: true, error: '', files: [], duration_ms: 1 });
}

const unapplied = (f: Played, skip: readonly string[] = []) =>
  NODES.map((n) => n.name).filter((n) => {
    if (skip.includes(n)) return false;
    const a = f.c.state.assignments.get(n);
    const r = f.c.state.reports.applies.get(n);
    return a && !(r?.ok && r.revision === a.revision);
  });

/**
 * Plays every node until `done` holds: each node with an assignment it has not applied gets
 * `act` (honest by default). Bounded: a rotation of four nodes takes about a dozen rounds.
 */
async function play(f: Played, done: () => boolean, act: (name: string) => Promise<void> = (n) => honest(f, n), skip: readonly string[] = []): Promise<void> {
  for (let round = 0; round < 60; round++) {
    const todo = await waitFor('a node with work, or the goal', () => (done() ? 'done' : unapplied(f, skip).length ? 'work' : null), 15_000, 10);
    if (todo === 'done') return;
    for (const n of unapplied(f, skip)) await act(n);
  }
  throw new Error('the rotation did not get there in 60 rounds');
}

const stageOf = (f: Played, kind: ClusterCaKind) => f.c.state.pki.rotations.get(kind)?.stage ?? 0;
const caOf = (f: Played, kind: ClusterCaKind) => readFileSync(join(f.data, CLUSTER_PKI[kind].cert), 'utf8');

/** Copies state.db (and its journal files) while the coordinator is stopped. */
function copyState(f: Played, to: string): void {
  for (const file of readdirSync(f.data).filter((x) => x.startsWith(COORDINATOR_DATA.database))) cpSync(join(f.data, file), join(to, file));
}
function restoreState(f: Played, from: string): void {
  for (const file of readdirSync(f.data).filter((x) => x.startsWith(COORDINATOR_DATA.database))) rmSync(join(f.data, file));
  for (const file of readdirSync(from)) cpSync(join(from, file), join(f.data, file));
}

// ------------------------------------------------------------------------------------------------
// A node asking for what it may not have

test('a worker is refused master and etcd kinds and never gets the service-account key; a removed node gets nothing', async () => {
  const f = await playedFleet();
  const csr = async (cn: string) => (await createCsr(cn)).csrPem;
  const apiCsr = await csr('kube-apiserver');
  const worker = await rejects(() => nodeCall(f, 'node-4', 'IssueCertificates', { requests: [{ kind: 'apiserver', csr_pem: apiCsr }] }));
  assert.is(worker.reason, 'kind-not-allowed');
  const peerCsr = await csr('node-4');
  const etcd = await rejects(() => nodeCall(f, 'node-4', 'IssueCertificates', { requests: [{ kind: 'etcd-peer', csr_pem: peerCsr }] }));
  assert.is(etcd.reason, 'kind-not-allowed');
  const ok = await nodeCall(f, 'node-4', 'IssueCertificates', { requests: [] });
  assert.is(ok.service_account_private_pem, '', 'a worker asking for nothing gets no SA key');
  assert.is(ok.service_account_public_pem, '');
  // Another node's name in the CSR.
  const otherCsr = await csr('node-3');
  const other = await rejects(() => nodeCall(f, 'node-2', 'IssueCertificates', { requests: [{ kind: 'etcd-peer', csr_pem: otherCsr }] }));
  assert.is(other.reason, 'csr-subject');
  await f.c.state.removeNode('node-4');
  const removed = await rejects(() => nodeCall(f, 'node-4', 'IssueCertificates', { requests: [] }));
  assert.is(removed.kind, 'permission-denied');
});

test('a node whose master role is taken by a plan change queued before its signed request commits gets neither the certificate nor the service-account key', async () => {
  const f = await playedFleet();
  const serial = certInfo(f.ids.get('node-1')!.certPem).serial;
  const requests = await csrsFor('node-1', ['master']);
  // Hold the writer, queue the plan change, then the request: it is authorised against the
  // committed roles (still master) and its record queues behind the plan change.
  let release!: () => void;
  const held = f.c.state.writer.run(() => new Promise<void>((r) => (release = r)));
  const planChange = f.c.state.applyPlan(plan('node-2'), 'plan.yaml');
  const asked = f.c.issuer.issueForNode({ name: 'node-1', serial }, requests);
  asked.catch(() => undefined);
  // The request is signed and waits for its record's turn (the writer is held).
  await new Promise((r) => setImmediate(r));
  release();
  await held;
  await planChange;
  const e = await rejects(() => asked);
  assert.is(e.kind, 'permission-denied', 'refused: the node is no longer master');
  assert.match(e.message, /node-1/);
  assert.is(f.c.state.assignments.get('node-1')!.body.roles.join(','), 'etcd');
  const recorded = f.c.state.issuance.all().filter((r) => r.node === 'node-1' && r.kind === 'apiserver');
  assert.is(recorded.length, 0, 'nothing recorded for it');
});

test('a node removed between the signing and the commit (the work budget lets the next call sign meanwhile) gets nothing, and nothing of it is recorded', async () => {
  const f = await playedFleet();
  const serial = certInfo(f.ids.get('node-4')!.certPem).serial;
  const requests = await csrsFor('node-4', ['worker']);
  const before = f.c.state.issuance.all().length;
  // The server's split (coordinator/server/agent-service.ts): signed in the budget, committed outside it.
  const prepared = await f.c.issuer.prepareForNode({ name: 'node-4', serial }, requests);
  assert.is(f.c.state.issuance.all().length, before, 'signing records nothing');
  await f.c.state.removeNode('node-4');
  const e = await rejects(() => prepared.commit());
  assert.is(e.kind, 'permission-denied');
  assert.match(e.message, /node-4/);
  assert.is(f.c.state.issuance.all().length, before, 'nothing recorded for the removed node');
});

// ------------------------------------------------------------------------------------------------
// Nodes and the rotation

test('a node that reports applying the reissue stage without fetching a certificate from the new CA does not move the rotation on (an agent that ignores PkiTarget)', async () => {
  const f = await playedFleet();
  await play(f, () => !unapplied(f).length);
  await f.c.state.startCaRotation('etcd', 'test');
  const liar = 'node-2';
  // Everyone honest through trust-both; node-2 then only reports.
  await play(f, () => stageOf(f, 'etcd') >= 2);
  await play(
    f,
    () => (f.c.state.pki.rotations.get('etcd')?.admitted ?? []).includes(liar) && unapplied(f).length === 0,
    (n) => (n === liar ? reportApplied(f, n, f.c.state.assignments.get(n)!.revision) : honest(f, n)),
  );
  // Given time to step, the rotation stays in reissue with node-2 in progress.
  await f.c.state.idle();
  await new Promise((r) => setTimeout(r, 100));
  await f.c.state.idle();
  assert.is(stageOf(f, 'etcd'), 2, 'still in reissue: node-2 holds no certificate from the new CA');
  const status = await withAdmin({ 'data-dir': f.data }, memoryIO(), (a) => a.call('CaRotationStatus', {}));
  const row = status.rotations.find((r) => r.kind === 'etcd')!.nodes.find((n) => n.name === liar)!;
  assert.is(row.state, 'in progress');
  assert.match(row.detail, /no certificate from the new etcd CA/);
  // Once it really reissues, the rotation completes.
  await honest(f, liar);
  await play(f, () => stageOf(f, 'etcd') === 4);
  const next = f.c.state.pki.rotations.get('etcd')!.next.serial;
  for (const n of NODES.slice(0, 3)) {
    const mine = f.c.state.issuance.current(Date.now()).filter((r) => r.node === n.name && r.ca === 'etcd');
    assert.ok(mine.length && mine.every((r) => r.caSerial === next), `${n.name} holds only certificates of the new CA`);
  }
});

test('a node reporting a revision it was not handed, or a failed apply, does not count as having applied the stage', async () => {
  const f = await playedFleet();
  await play(f, () => !unapplied(f).length);
  await f.c.state.startCaRotation('etcd', 'test');
  const first = await waitFor('a node admitted', () => f.c.state.pki.rotations.get('etcd')?.admitted[0]);
  const a = f.c.state.assignments.get(first)!;
  await reportApplied(f, first, a.revision + 5);
  await nodeCall(f, first, 'ReportApply', { revision: a.revision, ok: false, error: 'boom', files: [], duration_ms: 1 });
  await f.c.state.idle();
  await new Promise((r) => setTimeout(r, 60));
  await f.c.state.idle();
  const r = f.c.state.pki.rotations.get('etcd')!;
  assert.equal([r.stage, r.admitted], [1, [first]], 'no one else admitted, stage unchanged');
});

test('the etcd role moved to a new node mid-rotation, and a node removed while admitted: the rotation goes on with the nodes that hold the CA', async () => {
  const f = await playedFleet();
  await play(f, () => !unapplied(f).length);
  await f.c.state.startCaRotation('etcd', 'test');
  const r1 = await waitFor('node-1 admitted', () => f.c.state.pki.rotations.get('etcd')?.admitted.includes('node-1') && f.c.state.pki.rotations.get('etcd'));
  assert.ok(r1);
  await f.c.state.removeNode('node-1');
  await waitFor('node-1 leaves the admitted list, another etcd node is admitted', () => {
    const r = f.c.state.pki.rotations.get('etcd')!;
    return !r.admitted.includes('node-1') && r.admitted.length === 1;
  });
  // node-4 (worker) becomes an etcd member mid-rotation: it starts one stage behind.
  await f.c.state.setOverride('node-4', ['etcd', 'worker']);
  await waitFor('node-4 holds an etcd target', () => f.c.state.assignments.get('node-4')?.body.pki?.cas?.etcd);
  const t4 = f.c.state.assignments.get('node-4')!.body.pki!.cas!.etcd!;
  const rec = f.c.state.pki.rotations.get('etcd')!;
  assert.ok(t4.bundle.includes(rec.old.fingerprint), 'the new member trusts the CA the others still use');
  await play(f, () => stageOf(f, 'etcd') === 4, (n) => honest(f, n), ['node-1']);
  for (const n of ['node-2', 'node-3', 'node-4']) assert.equal(f.c.state.assignments.get(n)!.body.pki!.cas!.etcd!.bundle, [rec.next.fingerprint], n);
});

// ------------------------------------------------------------------------------------------------
// Data dirs put together from different times

test('state.db restored from before a rotation finished, with cluster-pki/ from after: the coordinator refuses to start, naming the CA it lacks', async () => {
  const f = await playedFleet();
  await play(f, () => !unapplied(f).length);
  await f.c.state.startCaRotation('etcd', 'test');
  await play(f, () => stageOf(f, 'etcd') === 2);
  await stop(f);
  const backup = join(f.dir, 'state-backup');
  copyState(f, backup);
  await start(f);
  await play(f, () => stageOf(f, 'etcd') === 4);
  await stop(f);
  restoreState(f, backup);
  const e = await rejects(() => testCoordinator(f.data, { listen: `${net.host(1)}:0` }));
  assert.is(e.reason, 'rotation-ca-missing');
  assert.match(e.message, /etcd CA rotation 1 .* rotates out the CA serial/);
  assert.match(e.message, /from the same backup/);
  f.live = false;
});

test('cluster-pki/ restored from before a rotation, with state.db from after it completed: refused, not every node flipped back to the retired CA at once', async () => {
  const f = await playedFleet();
  await play(f, () => !unapplied(f).length);
  await stop(f);
  const pkiBackup = join(f.dir, 'pki-backup');
  cpSync(join(f.data, CLUSTER_PKI.dir), pkiBackup, { recursive: true });
  await start(f);
  await f.c.state.startCaRotation('front-proxy', 'test');
  await play(f, () => stageOf(f, 'front-proxy') === 4);
  await stop(f);
  rmSync(join(f.data, CLUSTER_PKI.dir), { recursive: true });
  cpSync(pkiBackup, join(f.data, CLUSTER_PKI.dir), { recursive: true });
  const e = await rejects(() => testCoordinator(f.data, { listen: `${net.host(1)}:0` }));
  assert.is(e.reason, 'rotation-ca-missing');
  assert.match(e.message, /front-proxy CA of record .* retired by rotation 1/);
  f.live = false;
});

test('import-ca --force over the CA being rotated out, mid-rotation: the coordinator refuses to start instead of serving bundles no node agrees on', async () => {
  const f = await playedFleet();
  await play(f, () => !unapplied(f).length);
  await f.c.state.startCaRotation('etcd', 'test');
  await play(f, () => stageOf(f, 'etcd') === 2);
  await stop(f);
  const other = await createCa(CLUSTER_CA_CNS.etcd, 1);
  await importCa({ dataDir: f.data, kind: 'etcd', certPem: other.certPem, keyPem: other.keyPem, force: true });
  const e = await rejects(() => testCoordinator(f.data, { listen: `${net.host(1)}:0` }));
  assert.is(e.reason, 'rotation-ca-missing');
  f.live = false;
});

test('a crash after next/ was written but before the rotation committed: the coordinator starts with no rotation, says nothing is rotating in, and a new rotate-ca makes a fresh CA', async () => {
  const f = await playedFleet();
  await play(f, () => !unapplied(f).length);
  await stop(f);
  const orphan = await createCa(CLUSTER_CA_CNS.kubernetes, 1);
  const np = nextCaPaths(f.data, 'kubernetes');
  mkdirSync(join(np.cert, '..'), { recursive: true });
  writeFileSync(np.key, orphan.keyPem, { mode: 0o600 });
  writeFileSync(np.cert, orphan.certPem);
  await start(f);
  assert.is(f.c.state.pki.rotations.get('kubernetes'), undefined);
  assert.not.ok(f.c.issuer.expirations().some((r) => String(r.kind).includes('rotating in')), 'check-expiration shows no CA rotating in');
  const r = await f.c.state.startCaRotation('kubernetes', 'test');
  assert.is.not(r.next.serial, certInfo(orphan.certPem).serial, 'the orphan is not the CA rotated in');
  await play(f, () => stageOf(f, 'kubernetes') === 4);
  assert.is(certInfo(caOf(f, 'kubernetes')).serial, r.next.serial);
});

// ------------------------------------------------------------------------------------------------
// Oversized and malformed admin requests

test('RenewCertificates: 100k names, duplicates, and names that are not node names are refused before they touch state or the log; RotateCa with a huge kind answers briefly', async () => {
  const f = await playedFleet();
  const call = (method: string, req: unknown) => withAdmin({ 'data-dir': f.data }, memoryIO(), (a) => a.call(method as 'RenewCertificates', req as never));
  const linesBefore = f.c.log.lines.length;
  const many = await rejects(() => call('RenewCertificates', { nodes: Array.from({ length: 100_000 }, (_, i) => `node-${i}`), all: false }));
  assert.is(many.kind, 'invalid-argument');
  assert.ok(many.message.length < 500, `a short message (${many.message.length} characters)`);
  const dup = await rejects(() => call('RenewCertificates', { nodes: Array.from({ length: 50_000 }, () => 'node-1'), all: false }));
  assert.is(dup.kind, 'invalid-argument');
  const long = await rejects(() => call('RenewCertificates', { nodes: ['x'.repeat(100_000)], all: false }));
  assert.is(long.kind, 'invalid-argument');
  assert.ok(long.message.length < 500, `a short message (${long.message.length} characters)`);
  const bad = await rejects(() => call('RenewCertificates', { nodes: ['Node_1;rm'], all: false }));
  assert.is(bad.kind, 'invalid-argument');
  const kind = await rejects(() => call('RotateCa', { kind: 'k'.repeat(200_000) }));
  assert.is(kind.kind, 'invalid-argument');
  assert.ok(kind.message.length < 500, `a short message (${kind.message.length} characters)`);
  assert.is(f.c.state.pki.renewals.values().length, 0, 'no renewal recorded');
  const added = f.c.log.lines.slice(linesBefore);
  assert.ok(added.every((l) => l.length < 2000), `no huge log line (longest ${Math.max(0, ...added.map((l) => l.length))})`);
  // A short list with a repeated name is one request per node.
  const ok = await call('RenewCertificates', { nodes: ['node-2', 'node-2'], all: false });
  assert.equal(ok.nodes, ['node-2']);
});

// ------------------------------------------------------------------------------------------------
// Real agents: the operator's kubeconfig through a kubernetes CA rotation; renewals settle

const REAL = tempDir('muster-redteam-real-');
const realData = join(REAL, 'coord');
const rootOf = (name: string) => join(REAL, name, 'root');
let real: TestCoordinator | undefined;
const agents = new Map<string, RunningAgent>();
const issueCalls = new Map<string, number>();

/** What node-1's API server holds right now: its trust bundle and its serving certificate. */
function apiServer() {
  const root = rootOf('node-1');
  return { bundle: readFileSync(join(root, CLUSTER_CA_PATHS.kubernetes), 'utf8'), cert: readFileSync(join(root, 'etc/kubernetes/pki/apiserver.crt'), 'utf8') };
}
const trusts = (bundle: string, cert: string) => splitBundle(bundle).some((ca) => issuedBy(cert, ca));

interface Kubeconfig {
  stage: number;
  cert: string;
  ca: string;
}
const kubeconfigs: Kubeconfig[] = [];
const failures: string[] = [];

/** At each restart of the API server: every kubeconfig issued at this stage or the one before still works against it. */
function checkKubeconfigs(): void {
  const stage = real!.state.pki.rotations.get('kubernetes')?.stage ?? 0;
  const api = apiServer();
  for (const k of kubeconfigs) {
    if (k.stage < stage - 1) continue;
    if (!trusts(api.bundle, k.cert)) failures.push(`a kubeconfig issued at stage ${k.stage}: the API server (rotation at stage ${stage}) does not trust its certificate`);
    if (!trusts(k.ca, api.cert)) failures.push(`a kubeconfig issued at stage ${k.stage}: it does not trust the API server's certificate (rotation at stage ${stage})`);
  }
}

function restarter(node: string): ComponentRestarter {
  return {
    async restart(components) {
      if (node === 'node-1' && components.includes('kube-apiserver')) checkKubeconfigs();
    },
  };
}

async function adminKubeconfig(stage: number): Promise<void> {
  const csr = await createCsr('kubernetes-admin', undefined, { orgs: ['kubeadm:cluster-admins'] });
  const r = await real!.issuer.adminKubeconfig(csr.csrPem, 0, 'test');
  kubeconfigs.push({ stage, cert: r.cert_pem, ca: r.ca_pem });
  // At once: against the API server as it is now (at the stage or the one before).
  const api = apiServer();
  if (!trusts(api.bundle, r.cert_pem)) failures.push(`a kubeconfig issued at stage ${stage} is not trusted by the API server at once`);
  if (!trusts(r.ca_pem, api.cert)) failures.push(`a kubeconfig issued at stage ${stage} does not trust the API server at once`);
}

const allApplied = () => NODES.every((n) => real!.state.assignments.get(n.name) && real!.state.reports.applies.get(n.name)?.revision === real!.state.assignments.get(n.name)!.revision && real!.state.reports.applies.get(n.name)?.ok);

test('real agents: a kubeconfig issued at each stage of a kubernetes CA rotation works against the API server at that stage and the next', async () => {
  writeFileSync(join(REAL, 'plan.yaml'), plan());
  const listen = `${net.host(1)}:${await freePort(net.host(1))}`;
  real = await testCoordinator(realData, { planFile: join(REAL, 'plan.yaml'), listen });
  const { token } = await real.state.tokens.create({ uses: NODES.length });
  for (const n of NODES) {
    const a = runAgent(
      { coordinator: listen, token, caHash: real.identity.caPin, nodeName: n.name, address: n.ip, stateDir: join(REAL, n.name, 'state'), root: rootOf(n.name) },
      undefined,
      { components: restarter(n.name), renewRandom: () => 0.5 },
    );
    agents.set(n.name, a);
  }
  await waitFor('every node applied its assignment', allApplied, 30_000);
  await adminKubeconfig(0);
  await real.state.startCaRotation('kubernetes', 'test');
  // One kubeconfig per stage, as soon as the stage starts.
  for (let stage = 1; stage <= 3; stage++) {
    await waitFor(`stage ${stage}`, () => (real!.state.pki.rotations.get('kubernetes')?.stage ?? 0) >= stage, 60_000);
    if (real.state.pki.rotations.get('kubernetes')!.stage === stage) await adminKubeconfig(stage);
  }
  await waitFor('the rotation completes', () => real!.state.pki.rotations.get('kubernetes')?.stage === 4, 60_000);
  await waitFor('every node applied', allApplied, 30_000);
  await adminKubeconfig(4);
  checkKubeconfigs();
  assert.equal(failures, []);
  assert.ok(kubeconfigs.length >= 3, `kubeconfigs issued at ${kubeconfigs.map((k) => k.stage).join(', ')}`);
});

/** IssueCertificates calls per agent so far, from their logs (each call logs "requesting cluster certificates"). */
function countCalls(): Map<string, number> {
  for (const [n, a] of agents) issueCalls.set(n, a.log.lines.filter((l) => l.includes('requesting cluster certificates')).length);
  return new Map(issueCalls);
}

test('real agents: renew --all twice quickly, and renew of an offline node that comes back: each node renews once per request and then stays quiet', async () => {
  const before = countCalls();
  const io = memoryIO();
  const [a, b] = await Promise.all([main(['certs', 'renew', '--all', '--data-dir', realData], io), main(['certs', 'renew', '--all', '--data-dir', realData], memoryIO())]);
  assert.equal([a, b], [0, 0], io.stderr);
  const threshold = real!.state.pki.renewals.get('*')!.beforeMs;
  const renewed = () =>
    NODES.every((n) =>
      kindsForRoles(n.roles).every((k) => {
        const p = join(rootOf(n.name), k.certPath);
        return existsSync(p) && certInfo(readFileSync(p, 'utf8')).notBefore.getTime() + 60_000 >= threshold - 1000;
      }),
    );
  await waitFor('every node renewed', renewed, 30_000);
  await waitFor('every node applied', allApplied, 30_000);
  const after = countCalls();
  // Two requests a moment apart: at most two calls each, and then nothing.
  for (const n of NODES) assert.ok(after.get(n.name)! - before.get(n.name)! <= 2, `${n.name}: ${after.get(n.name)! - before.get(n.name)!} calls`);
  await real!.state.idle();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(countCalls(), after, 'no further IssueCertificates calls');

  // node-4 offline while its renewal is requested; it renews when it is back.
  await agents.get('node-4')!.stop();
  const serial4 = certInfo(readFileSync(join(rootOf('node-4'), 'var/lib/kubelet/pki/kubelet-client.crt'), 'utf8')).serial;
  assert.is(await main(['certs', 'renew', '--node', 'node-4', '--data-dir', realData], memoryIO()), 0);
  const { token } = await real!.state.tokens.create({ uses: 1 });
  const back = runAgent(
    { coordinator: real!.address, token, caHash: real!.identity.caPin, nodeName: 'node-4', address: NODES[3].ip, stateDir: join(REAL, 'node-4', 'state'), root: rootOf('node-4') },
    undefined,
    { components: restarter('node-4'), renewRandom: () => 0.5 },
  );
  agents.set('node-4', back);
  await waitFor('node-4 renewed after coming back', () => certInfo(readFileSync(join(rootOf('node-4'), 'var/lib/kubelet/pki/kubelet-client.crt'), 'utf8')).serial !== serial4, 30_000);
  await waitFor('every node applied', allApplied, 30_000);
  const settled = back.log.lines.filter((l) => l.includes('requesting cluster certificates')).length;
  await real!.state.idle();
  await new Promise((r) => setTimeout(r, 300));
  assert.is(back.log.lines.filter((l) => l.includes('requesting cluster certificates')).length, settled, 'node-4 asks for nothing more');
});

test('no key material in any log: coordinators and agents', async () => {
  const logs = [...coordinatorLogs, real?.log.lines ?? [], ...[...agents.values()].map((a) => a.log.lines)];
  const all = logs.flat();
  assert.ok(all.length > 100, `${all.length} lines read`);
  const leaks = all.filter((l) => /PRIVATE KEY|BEGIN CERTIFICATE REQUEST|MII[A-Za-z0-9+/]{20}/.test(l));
  assert.equal(leaks.map((l) => l.slice(0, 200)), []);
  const sa = readFileSync(join(realData, CLUSTER_PKI.serviceAccountKey), 'utf8').split('\n')[1]!;
  assert.not.ok(all.some((l) => l.includes(sa)), 'the service-account private key is never logged');
});

test.after(async () => {
  for (const a of agents.values()) await a.stop();
  await real?.close();
  for (const p of played) if (p.live) await p.c.close();
});

test.run();
