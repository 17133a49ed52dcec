// Nodes outside the control plane take a new version or settings after the masters, a batch at a
// time (a tenth of them, at least one; coordinator/assign/rollout.ts): a node handed the change
// holds its place until it applied it, so a bad registry or runtime option stops at one batch of
// failing nodes; a node that is offline takes no place (it gets its body at once), and one that
// goes silent mid-apply frees its place when the state layer sees it offline. The pure function
// first, then the state layer's recheck when a node in a batch goes silent, on a fake clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rolloutHolds, holdReason, type RolloutBody } from '../../coordinator/assign/rollout.ts';
import { ClusterState } from '../../coordinator/state/cluster-state.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { SqliteStore } from '../../coordinator/store/sqlite.ts';
import { join } from 'node:path';
import { parseToken } from '../../coordinator/trust/tokens.ts';
import { silentLogger } from '../../shared/log/logger.ts';
import { workerBatchSize } from '../../shared/constants.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { tempDir, waitFor } from '../helpers/cluster.ts';

type Body = RolloutBody & { settings: { kubernetes_image_repository: string; apiserver_shutdown_delay: string } };
const body = (roles: string[], registry: string, version = 'v1.36.3', delay = '15s'): Body => ({ roles, kubernetes_version: version, settings: { kubernetes_image_repository: registry, apiserver_shutdown_delay: delay } });
const pad = (k: number) => `w${String(k).padStart(2, '0')}`;

test('batch sizes: a tenth, rounded up, at least one', () => {
  assert.equal([0, 1, 9, 10, 11, 25, 100, 101, 3000].map(workerBatchSize), [1, 1, 1, 1, 2, 3, 10, 11, 300]);
});

test('pure: after the master, 25 workers take new settings 3 at a time; a failure keeps its place, an offline node frees it', () => {
  const workers = Array.from({ length: 25 }, (_, k) => pad(k + 1));
  const roles = new Map<string, string[]>([['m1', ['etcd', 'master']], ...workers.map((w): [string, string[]] => [w, ['worker']])]);
  const previous = new Map([...roles].map(([n, r], k) => [n, { body: body(r, 'old.example'), revision: k + 1 }]));
  const applied = new Map<string, { revision: number; ok: boolean }>([...previous].map(([n, p]) => [n, { revision: p.revision, ok: true }]));
  const offline = new Set<string>();
  const next = new Map([...roles].map(([n, r]) => [n, body(r, 'registry.example')]));
  const run = () => rolloutHolds({ previous, next, applied: (n) => applied.get(n), live: (n) => !offline.has(n) });
  let rev = 100;
  const take = (n: string) => previous.set(n, { body: next.get(n)!, revision: ++rev });
  const report = (n: string, ok = true) => applied.set(n, { revision: previous.get(n)!.revision, ok });
  const heldNames = () => run().map((h) => h.name);

  assert.equal(heldNames(), workers, 'every worker waits for the master');
  assert.ok(run().every((h) => h.waitingFor === 'm1' && h.waitingForRole === 'master'));
  take('m1');
  assert.equal(heldNames(), workers, 'm1 has it, not applied: the workers still wait');
  report('m1');
  const h = run();
  assert.equal(h.map((x) => x.name), workers.slice(3), 'the first batch: w01-w03 go');
  assert.equal(h[0]!.batch, { size: 3, inFlight: ['w01', 'w02', 'w03'] });
  assert.match(holdReason(h[0]!), 'settings (kubernetes_image_repository) waits for a place in the batch: w01, w02, w03 have yet to apply theirs');
  ['w01', 'w02', 'w03'].forEach(take);
  assert.equal(heldNames(), workers.slice(3), 'handed, not yet applied: they hold their places');
  report('w01');
  assert.equal(heldNames(), workers.slice(4), 'w01 applied: w04 goes');
  take('w04');
  report('w02', false);
  assert.equal(heldNames(), workers.slice(4), 'w02 failed: it keeps its place (a bad change stops at one batch)');
  offline.add('w03');
  assert.equal(heldNames(), workers.slice(5), 'w03 went offline: its place frees, w05 goes');
  offline.add('w25');
  assert.equal(heldNames(), workers.slice(5, 24), 'an offline node is not held: it gets its body now and applies it when back');
  // Every node of the batch failing stops the rollout there.
  take('w05');
  report('w04', false);
  report('w05', false);
  assert.equal(run()[0]!.batch!.inFlight, ['w02', 'w04', 'w05']);
  assert.equal(heldNames(), workers.slice(5, 24), 'three failures: nothing more goes');
  // The fix (another registry) reaches the failed ones first: they hold a body they have not applied.
  const fixed = new Map([...roles].map(([n, r]) => [n, body(r, 'fixed.example')]));
  previous.set('m1', { body: fixed.get('m1')!, revision: ++rev });
  report('m1');
  const f = rolloutHolds({ previous, next: fixed, applied: (n) => applied.get(n), live: (n) => !offline.has(n) });
  assert.equal(f[0]!.batch!.inFlight, ['w02', 'w04', 'w05'], 'the failed nodes take the places first');
  assert.not.ok(f.some((x) => ['w02', 'w04', 'w05'].includes(x.name)));
});

test('pure: ten workers or fewer go one at a time; a master-only setting holds none; a version waits for the masters, then goes by batch', () => {
  const workers = ['w1', 'w2', 'w3'];
  const roles = new Map<string, string[]>([['m1', ['etcd', 'master']], ...workers.map((w): [string, string[]] => [w, ['worker']])]);
  const previous = new Map([...roles].map(([n, r], k) => [n, { body: body(r, 'r.example', 'v1.35.4'), revision: k + 1 }]));
  const applied = new Map([...previous].map(([n, p]) => [n, { revision: p.revision, ok: true }]));
  const holds = (next: Map<string, Body>) => rolloutHolds({ previous, next, applied: (n) => applied.get(n) }).map((h) => [h.name, h.waitingFor]);
  const delay = new Map([...roles].map(([n, r]) => [n, body(r, 'r.example', 'v1.35.4', '35s')]));
  assert.equal(holds(delay), [], 'the shutdown delay is the masters\' alone');
  const version = new Map([...roles].map(([n, r]) => [n, body(r, 'r.example', 'v1.36.3')]));
  assert.equal(holds(version), [['w1', 'm1'], ['w2', 'm1'], ['w3', 'm1']]);
  previous.set('m1', { body: version.get('m1')!, revision: 10 });
  applied.set('m1', { revision: 10, ok: true });
  assert.equal(holds(version), [['w2', 'w1'], ['w3', 'w1']], 'a batch of one');
});

const net = addressBlock(import.meta.url);
const NODES = ['m1', 'w1', 'w2', 'w3'];
const ip = (n: string) => net.host(NODES.indexOf(n) + 2);
const plan = (registry: string) => `cluster:
  name: batches
  version: v1.36.3
  networking: { pod_cidr_block: 10.200.0.0/16, service_cidr_block: 172.17.0.0/16 }
  preflight: { ignore: [all] }
  images: { kubernetes: ${registry} }
etcd:
  expected_count: 1
  nodes: [{ host: m1, ip: ${ip('m1')} }]
master:
  expected_count: 1
  nodes: [{ host: m1, ip: ${ip('m1')} }]
worker:
  expected_count: 3
  nodes:
${['w1', 'w2', 'w3'].map((n) => `    - { host: ${n}, ip: ${ip(n)} }`).join('\n')}
`;

test('state: nodes count as online for a while after the coordinator opens; a worker that goes silent mid-apply frees its place once offline, with nothing else happening', async () => {
  // The fake clock decides who is offline; the state layer's recheck runs on real timers, armed for
  // the moment the first node of a batch would turn offline (OFFLINE_MS on) and re-armed while none has.
  const OFFLINE_MS = 300;
  let now = 1_000_000;
  const s = await ClusterState.open({ store: new MemoryStore(), logger: silentLogger(), recomputeDelayMs: 0, clock: () => now, offlineAfterMs: OFFLINE_MS });
  try {
    const { token } = await s.tokens.create({ uses: 0, neverExpires: true, description: 'test' });
    const { id, secret } = parseToken(token);
    await s.applyPlan(plan('registry.k8s.io'), 'plan.yaml');
    for (const [i, name] of NODES.entries()) {
      await s.nodes.join({ tokenId: id, tokenSecret: secret, name, machineId: `m-${i}`, address: ip(name), labels: {}, agentVersion: 'test', keyId: `key-${i}`, sign: () => ({ certPem: `cert-${i}`, serial: `${i + 1}` }) });
    }
    await s.idle();
    const registry = (n: string) => s.assignments.get(n)?.body.settings?.kubernetes_image_repository;
    const apply = async (n: string) => {
      const c = s.assignments.get(n)!;
      await s.recordApply(n, `${NODES.indexOf(n) + 1}`, { revision: c.revision, ok: true, error: '', files: [], durationMs: 1 });
      await s.idle();
    };
    for (const n of NODES) await apply(n);

    // No node has been seen by this state (as after a coordinator restart): all count as online
    // until OFFLINE_MS passed, so the workers are batched, not all released as offline.
    await s.applyPlan(plan('mirror.example'), 'plan2.yaml');
    await s.idle();
    assert.equal(NODES.map(registry), ['mirror.example', 'registry.k8s.io', 'registry.k8s.io', 'registry.k8s.io'], 'the master first');
    await apply('m1');
    assert.equal(NODES.map(registry), ['mirror.example', 'mirror.example', 'registry.k8s.io', 'registry.k8s.io'], 'then a batch of one: w1');
    assert.match(s.assignments.waitingReason('w2') ?? '', 'waits for a place in the batch: w1 has yet to apply');

    // w1 never reports; the others are seen. Past OFFLINE_MS, w1 is offline and its place frees.
    now += OFFLINE_MS + 100;
    for (const n of ['m1', 'w2', 'w3']) s.nodes.touch(n);
    await waitFor('w2 released once w1 is offline', () => registry('w2') === 'mirror.example', 10_000);
    assert.is(registry('w3'), 'registry.k8s.io', 'w3 still waits, for w2');
    assert.match(s.assignments.waitingReason('w3') ?? '', 'waits for a place in the batch: w2 has yet to apply');
    await apply('w2');
    assert.is(registry('w3'), 'mirror.example');
    assert.is(s.assignments.waitingReason('w3'), undefined);
  } finally {
    await s.close();
  }
});

test('state: a coordinator back after a long stop has heard from no node: it batches the workers, it does not release them all as offline', async () => {
  const OFFLINE_MS = 60_000;
  let now = 1_000_000;
  const file = join(tempDir('muster-batches-'), 'state.db');
  const stores: SqliteStore[] = [];
  const open = () => ClusterState.open({ store: stores[stores.push(new SqliteStore(file)) - 1]!, logger: silentLogger(), recomputeDelayMs: 0, clock: () => now, offlineAfterMs: OFFLINE_MS });
  const first = await open();
  const { token } = await first.tokens.create({ uses: 0, neverExpires: true, description: 'test' });
  const { id, secret } = parseToken(token);
  await first.applyPlan(plan('registry.k8s.io'), 'plan.yaml');
  for (const [i, name] of NODES.entries()) {
    await first.nodes.join({ tokenId: id, tokenSecret: secret, name, machineId: `m-${i}`, address: ip(name), labels: {}, agentVersion: 'test', keyId: `key-${i}`, sign: () => ({ certPem: `cert-${i}`, serial: `${i + 1}` }) });
    first.nodes.touch(name);
  }
  await first.idle();
  for (const n of NODES) {
    const c = first.assignments.get(n)!;
    await first.recordApply(n, `${NODES.indexOf(n) + 1}`, { revision: c.revision, ok: true, error: '', files: [], durationMs: 1 });
  }
  await first.idle();
  await first.close();
  await stores[0]!.close();
  // Down for an hour: every saved last-seen time is far past OFFLINE_MS.
  now += 3_600_000;
  const s = await open();
  try {
    const registry = (n: string) => s.assignments.get(n)?.body.settings?.kubernetes_image_repository;
    await s.applyPlan(plan('mirror.example'), 'plan2.yaml');
    await s.idle();
    const c = s.assignments.get('m1')!;
    await s.recordApply('m1', '1', { revision: c.revision, ok: true, error: '', files: [], durationMs: 1 });
    await s.idle();
    assert.equal(NODES.map(registry), ['mirror.example', 'mirror.example', 'registry.k8s.io', 'registry.k8s.io'], 'a batch of one, as if every node were online');
  } finally {
    await s.close();
    await stores[1]!.close();
  }
});

test.run();
