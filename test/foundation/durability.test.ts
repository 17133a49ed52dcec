// The coordinator's durability rule, proved against a real coordinator over gRPC and mutual TLS:
// nothing is served -- to admins, to joining agents, to watching agents -- ahead of durable
// state. The store is a TracedStore (a FaultyStore whose log the test waits on and writes its own
// marks into), so every "not yet" and every "only after" is a position in one timeline, reached
// by waiting on store events and promises, never by sleeping.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { loadAdminConfig } from '../../coordinator/admin/config.ts';
import { connectAdmin, type Admin } from '../../coordinator/admin/client.ts';
import { join as joinCoordinator } from '../../agent/client/join.ts';
import { agentClient } from '../../agent/client/channels.ts';
import { IdentityStore, type AgentIdentity } from '../../agent/identity/identity-store.ts';
import { unary } from '../../shared/wire/status.ts';
import type { AgentClient } from '../../shared/wire/proto.ts';
import type { HoldStage } from '../helpers/faulty-store.ts';
import { TracedStore } from '../helpers/traced-store.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { tempDir, testCoordinator, runAgent, waitFor, captureLogger, type RunningAgent } from '../helpers/cluster.ts';
import { rejects } from '../helpers/assert.ts';

const net = addressBlock(import.meta.url);
const COORDINATOR_HOST = net.host(1);
const NODE_1 = net.host(11);
const NODE_2 = net.host(12);
const JOINER = net.host(21);
const STAGES: HoldStage[] = ['before-commit', 'after-commit'];

const plan = (workerExtra = '') => `cluster:
  name: durability
  version: v1.36.3
  networking:
    pod_cidr_block: 172.16.0.0/16
    service_cidr_block: 172.17.0.0/16
etcd:
  expected_count: 1
  nodes:
    - { host: node-1, ip: ${NODE_1} }
master:
  expected_count: 1
  nodes:
    - { host: node-1, ip: ${NODE_1} }
worker:
  expected_count: 1
  nodes:
    - { host: node-2, ip: ${NODE_2}${workerExtra} }
`;

interface Setup {
  dir: string;
  dataDir: string;
  inner: MemoryStore;
  store: TracedStore;
  c: Awaited<ReturnType<typeof testCoordinator>>;
  admin: Admin;
  fatal: unknown[];
  close(): Promise<void>;
}

async function setup(o: { planFile?: string } = {}): Promise<Setup> {
  const dir = tempDir('muster-durability-');
  const dataDir = join(dir, 'coord');
  const inner = new MemoryStore();
  const store = new TracedStore(inner);
  const fatal: unknown[] = [];
  const c = await testCoordinator(dataDir, {
    listen: `${COORDINATOR_HOST}:0`,
    store,
    onFatal: (err) => {
      fatal.push(err);
      store.mark(`onFatal: ${(err as Error).message}`);
    },
    ...o,
  });
  const admin = connectAdmin(await loadAdminConfig({ dataDir, env: {} }));
  await admin.call('ListTokens', {}); // the connection is up before anything is held
  return {
    dir,
    dataDir,
    inner,
    store,
    c,
    admin,
    fatal,
    async close() {
      store.release(); // a held commit would keep close() waiting for the writer
      admin.close();
      await c.close();
    },
  };
}

/** A call whose settling is marked in the store's timeline ("test: NAME resolved"). */
function track<T>(store: TracedStore, name: string, p: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false;
  const promise = p.then(
    (v) => {
      settled = true;
      store.mark(`${name} resolved`);
      return v;
    },
    (err: Error) => {
      settled = true;
      store.mark(`${name} rejected`);
      throw err;
    },
  );
  promise.catch(() => undefined);
  return { promise, settled: () => settled };
}

/** The revision the store gave transaction `id` ("t3"), from its "txn-committed t3 rev N" line. */
function committedRevision(store: TracedStore, id: string): number {
  const i = store.indexOf(new RegExp(`^txn-committed ${id} rev \\d+$`));
  assert.ok(i >= 0, `transaction ${id} never committed:\n${store.timeline.join('\n')}`);
  return Number(store.timeline[i]!.split(' rev ')[1]);
}

/**
 * The timeline reduced to what one transaction went through -- hold/release, its own lines, the
 * watch event of its revision -- and the test's marks, in order. Other transactions that happen to
 * run at the same time (a last-seen flush) are left out.
 */
function storyOf(store: TracedStore, id: string, rev: number, from: number): string[] {
  const own = new RegExp(`^(txn-\\S+ ${id}\\b|watch ${rev}$|hold |release$|fail-next |test: )`);
  return store.timeline.slice(from).filter((l) => own.test(l));
}

/** What a held transaction goes through, by stage: before-commit it reaches the store only at release. */
function heldStory(stage: HoldStage, id: string, rev: number, whileHeld: string[], afterwards: string[]): string[] {
  const commit = [`txn-started ${id}`, `txn-committed ${id} rev ${rev}`];
  return stage === 'before-commit'
    ? [`hold ${stage}`, `txn-submitted ${id}`, ...whileHeld.map((m) => `test: ${m}`), 'release', ...commit, `watch ${rev}`, `txn-resolved ${id}`, ...afterwards.map((m) => `test: ${m}`)]
    : [`hold ${stage}`, `txn-submitted ${id}`, ...commit, ...whileHeld.map((m) => `test: ${m}`), 'release', `watch ${rev}`, `txn-resolved ${id}`, ...afterwards.map((m) => `test: ${m}`)];
}

/** Waits until a held transaction is where its stage holds it: submitted, or committed in the inner store. */
async function untilHeld(store: TracedStore, stage: HoldStage, id: string, from: number): Promise<void> {
  if (stage === 'after-commit') await store.until(new RegExp(`^txn-committed ${id} rev \\d+$`), from);
}

/**
 * Rejections nobody handled while `fn` ran. With an onFatal that does not exit (the option allows
 * it), a failed commit must surface through onFatal and the failed call only: an unhandled
 * rejection would end the process in Node's default mode, whatever onFatal decided.
 */
async function unhandledDuring(fn: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const on = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', on);
  try {
    await fn();
  } finally {
    process.off('unhandledRejection', on);
  }
  return seen;
}

for (const stage of STAGES) {
  test(`[${stage}] CreateToken does not return while its commit is held, and ListTokens does not show the token until it is durable`, async () => {
    const s = await setup();
    try {
      const { store, admin, inner } = s;
      const from = store.timeline.length;
      store.hold(stage);
      const create = track(store, 'CreateToken', admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'held' }));
      const id = await store.untilTxnWriting('tokens/', from);
      await untilHeld(store, stage, id, from);

      // Reads are answered at once, from committed state: the token is not there.
      const listed = await admin.call('ListTokens', {});
      store.mark('ListTokens answered while held');
      assert.equal(listed.tokens.filter((t) => t.description === 'held'), [], 'ListTokens shows a token that is not acknowledged');
      assert.equal((await admin.call('Status', {})).nodes, []);
      assert.not.ok(create.settled(), 'CreateToken returned before its commit was acknowledged');
      const innerTokens = await inner.list('tokens/');
      assert.is(innerTokens.length, stage === 'after-commit' ? 1 : 0, 'the held stage decides whether the inner store has it');

      store.release();
      const created = await create.promise;
      const rev = committedRevision(store, id);
      const after = await admin.call('ListTokens', {});
      store.mark('ListTokens answered after release');
      const row = after.tokens.find((t) => t.id === created.info!.id);
      assert.ok(row, 'the acknowledged token is listed');
      assert.is(row!.description, 'held');
      assert.is((await inner.get(`tokens/${created.info!.id}`))?.modRevision, rev, 'the token was written by the transaction the log says');

      assert.equal(storyOf(store, id, rev, from), heldStory(stage, id, rev, ['ListTokens answered while held'], ['CreateToken resolved', 'ListTokens answered after release']));
    } finally {
      await s.close();
    }
  });

  test(`[${stage}] a Join does not return while its commit is held; Status and the token's use count show it only once durable`, async () => {
    const s = await setup();
    try {
      const { store, admin, c } = s;
      const { token, info } = await admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'joins' });
      const from = store.timeline.length;
      store.hold(stage);
      const joined = track(
        store,
        'Join',
        joinCoordinator({ coordinator: c.address, token, caHash: c.identity.caPin, insecureSkipCaVerification: false, nodeName: 'joiner', machineId: 'm-joiner', address: JOINER, labels: {}, agentVersion: 'test' }, captureLogger('joiner')),
      );
      const id = await store.untilTxnWriting('nodes/joiner', from);
      await untilHeld(store, stage, id, from);
      assert.ok(store.keysOf.get(id)!.includes(`tokens/${info!.id}`), 'the use count commits with the node');

      const status = await admin.call('Status', {});
      const tokens = await admin.call('ListTokens', {});
      store.mark('Status answered while held');
      assert.equal(status.nodes.map((n) => n.name), [], 'Status lists a node whose join is not durable');
      assert.is(tokens.tokens.find((t) => t.id === info!.id)!.uses, 0, 'a token use shown before it is durable');
      assert.not.ok(joined.settled(), 'Join answered before its commit');

      store.release();
      const identity = await joined.promise;
      const rev = committedRevision(store, id);
      const after = await admin.call('Status', {});
      store.mark('Status answered after release');
      assert.equal(after.nodes.map((n) => [n.name, n.address]), [['joiner', JOINER]]);
      assert.is((await admin.call('ListTokens', {})).tokens.find((t) => t.id === info!.id)!.uses, 1);
      assert.is((await s.inner.get('nodes/joiner'))?.modRevision, rev);
      // The identity handed out is one the coordinator knows.
      const client = agentClient(c.address, identity);
      try {
        const w = await unary(c.address, client, 'WatchAssignment', { applied_revision: 0, hold_ms: 0, probe_plan_id: 0 }, 5000);
        assert.is(w.changed, false);
      } finally {
        client.close();
      }

      assert.equal(storyOf(store, id, rev, from), heldStory(stage, id, rev, ['Status answered while held'], ['Join resolved', 'Status answered after release']));
    } finally {
      await s.close();
    }
  });
}

/** Two agents that joined and applied plan(), then stopped: their identities to watch with. */
async function clusterWithAppliedAgents(): Promise<Setup & { ids: Map<string, AgentIdentity> }> {
  const dir = tempDir('muster-durability-plan-');
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, plan());
  const s = await setup({ planFile });
  const agents: RunningAgent[] = [];
  try {
    const { token } = await s.admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'agents' });
    for (const [name, address] of [
      ['node-1', NODE_1],
      ['node-2', NODE_2],
    ] as const) {
      agents.push(runAgent({ coordinator: s.c.address, token, caHash: s.c.identity.caPin, nodeName: name, address, stateDir: join(dir, name, 'state'), root: join(dir, name, 'root') }));
    }
    await waitFor('both agents applied', () => s.c.state.status().length === 2 && s.c.state.status().every((r) => r.state === 'applied'), 30_000);
  } catch (err) {
    await Promise.all(agents.map((a) => a.stop()));
    await s.close();
    throw err;
  }
  // Stopped, so that only the test's own calls are in flight while a commit is held.
  await Promise.all(agents.map((a) => a.stop()));
  await s.c.state.idle();
  const ids = new Map<string, AgentIdentity>();
  for (const name of ['node-1', 'node-2']) ids.set(name, (await new IdentityStore(join(dir, name, 'state')).load())!);
  return Object.assign(s, { ids });
}

function watch(s: Setup, client: AgentClient, applied: number, holdMs: number, probePlanId: number) {
  return unary(s.c.address, client, 'WatchAssignment', { applied_revision: applied, hold_ms: holdMs, probe_plan_id: probePlanId }, holdMs + 10_000);
}

/** The assignment revision committed with a body (assignments have a sequence of their own). */
function storedRevision(e: { value: string } | undefined | null): number {
  return (JSON.parse(e!.value) as { revision: number }).revision;
}

for (const stage of STAGES) {
  test(`[${stage}] a plan change is not delivered before it is durable: watches answer the old revision, the held long poll gets the new one, as committed`, async () => {
    const s = await clusterWithAppliedAgents();
    const client = agentClient(s.c.address, s.ids.get('node-2')!);
    try {
      const { store, admin, inner, c } = s;
      const old = await watch(s, client, 0, 0, 0);
      assert.ok(old.changed && old.assignment, 'node-2 has an assignment');
      const oldRev = Number(old.assignment!.revision);
      const probePlanId = Number(old.probe_plan?.id ?? 0);
      assert.is(storedRevision(await inner.get('assignments/node-2')), oldRev, 'the assignment revision is the one committed with the body');
      const statusBefore = await admin.call('Status', {});

      // A long poll from an agent that has the old revision, parked before the change is made:
      // it must be woken by the commit, not by the mutation.
      const from = store.timeline.length;
      const long = track(store, 'long poll returned', watch(s, client, oldRev, 30_000, probePlanId));
      await waitFor('the long poll is parked', () => c.hub.pendingFor('node-2') === 1, 10_000, 5);
      store.hold(stage);
      const applied = track(store, 'ApplyPlan', admin.call('ApplyPlan', { plan_yaml: plan(', labels: { tier: web }'), file_name: 'labels.yaml', force: false }));
      const id = await store.untilTxnWriting('assignments/node-2', from);
      await untilHeld(store, stage, id, from);
      if (stage === 'after-commit') assert.ok(storedRevision(await inner.get('assignments/node-2')) > oldRev, 'after-commit: the inner store already has the new body');

      // Answered at once, from committed state: still the old revision and body.
      const again = await watch(s, client, 0, 0, probePlanId);
      const noChange = await watch(s, client, oldRev, 0, probePlanId);
      const status = await admin.call('Status', {});
      const history = await admin.call('PlanHistory', {});
      store.mark('reads answered while held');
      assert.equal(again.assignment, old.assignment, 'a watch was answered with an assignment that is not durable');
      assert.is(noChange.changed, false, 'a watch at the old revision was told of a change that is not durable');
      assert.equal(
        status.nodes.map((n) => [n.name, n.assigned_revision]),
        statusBefore.nodes.map((n) => [n.name, n.assigned_revision]),
      );
      assert.is(status.plan_revision, 1);
      assert.is(history.plans.length, 1, 'PlanHistory shows a plan that is not durable');
      assert.not.ok(applied.settled(), 'ApplyPlan returned before its commit');
      assert.not.ok(long.settled(), 'the long poll returned before the change was durable');

      store.release();
      const [res, got] = await Promise.all([applied.promise, long.promise]);
      const storeRev = committedRevision(store, id);
      assert.ok(storeRev > 0, 'the change committed');
      const rev = storedRevision(await inner.get('assignments/node-2'));
      assert.equal(res.changed_nodes, ['node-2']);
      assert.ok(got.changed && got.assignment, 'the held long poll gets the new assignment');
      assert.is(Number(got.assignment!.revision), rev, 'the revision served is the one committed with the body');
      assert.is(rev, oldRev + 1, "node-2's was the one body written: the next number of the assignments' own sequence");
      assert.equal(got.assignment!.labels, { ...old.assignment!.labels, tier: 'web' });
      const fresh = await watch(s, client, 0, 0, probePlanId);
      assert.equal(fresh.assignment, got.assignment, 'a new watch gets the same');
      const statusAfter = await admin.call('Status', {});
      assert.is(statusAfter.nodes.find((n) => n.name === 'node-2')!.assigned_revision, rev);
      assert.is(statusAfter.plan_revision, 2);

      const story = storyOf(store, id, storeRev, from);
      const base = heldStory(stage, id, storeRev, ['reads answered while held'], []);
      assert.equal(story.slice(0, base.length), base);
      // Both answers come after the commit; which of the two comes first is up to the network.
      assert.equal(story.slice(base.length).sort(), ['test: ApplyPlan resolved', 'test: long poll returned resolved']);
    } finally {
      client.close();
      await s.close();
    }
  });
}

test('failNext: a failed commit calls onFatal, fails the admin call, and nothing of the token is visible', async () => {
  const s = await setup();
  try {
    const { store, admin, inner } = s;
    const from = store.timeline.length;
    store.failNext(1);
    let e!: Error & Record<string, unknown>;
    const unhandled = await unhandledDuring(async () => {
      const create = track(store, 'CreateToken', admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'doomed' }));
      e = await rejects(() => create.promise);
    });
    assert.equal(unhandled.map(String), [], 'a failed commit left a rejection unhandled');
    assert.is(e.kind, 'internal', `the admin sees a failure, not success: ${e.message}`);
    assert.is(s.fatal.length, 1, 'onFatal called once');
    assert.is((s.fatal[0] as Error).message, 'injected commit failure');
    assert.equal((await admin.call('ListTokens', {})).tokens.filter((t) => t.description === 'doomed'), []);
    assert.equal(await inner.list('tokens/'), []);
    const id = await store.untilTxnWriting('tokens/', from);
    assert.equal(storyOf(store, id, -1, from), ['fail-next 1', `txn-submitted ${id}`, `txn-failed ${id}: injected commit failure`, 'test: onFatal: injected commit failure', 'test: CreateToken rejected']);
  } finally {
    await s.close();
  }
});

test('failNext: a join whose commit fails is refused; neither the node nor the token use is visible', async () => {
  const s = await setup();
  try {
    const { store, admin, c, inner } = s;
    const { token, info } = await admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'joins' });
    const from = store.timeline.length;
    store.failNext(1);
    const unhandled = await unhandledDuring(async () => {
      const joined = track(
        store,
        'Join',
        joinCoordinator({ coordinator: c.address, token, caHash: c.identity.caPin, insecureSkipCaVerification: false, nodeName: 'joiner', machineId: 'm-joiner', address: JOINER, labels: {}, agentVersion: 'test' }, captureLogger('joiner')),
      );
      await rejects(() => joined.promise);
    });
    assert.equal(unhandled.map(String), [], 'a failed commit left a rejection unhandled');
    assert.is(s.fatal.length, 1);
    assert.equal((await admin.call('Status', {})).nodes, []);
    assert.is((await admin.call('ListTokens', {})).tokens.find((t) => t.id === info!.id)!.uses, 0);
    assert.is(await inner.get('nodes/joiner'), undefined);
    const id = await store.untilTxnWriting('nodes/joiner', from);
    assert.equal(storyOf(store, id, -1, from), ['fail-next 1', `txn-submitted ${id}`, `txn-failed ${id}: injected commit failure`, 'test: onFatal: injected commit failure', 'test: Join rejected']);
  } finally {
    await s.close();
  }
});

test('failNext: a plan change whose commit fails is refused; watchers, Status and PlanHistory keep the old plan', async () => {
  const s = await clusterWithAppliedAgents();
  const client = agentClient(s.c.address, s.ids.get('node-2')!);
  try {
    const { store, admin, inner } = s;
    const old = await watch(s, client, 0, 0, 0);
    const probePlanId = Number(old.probe_plan?.id ?? 0);
    // The next transaction must be the plan's: write out the last-seen times the watch noted.
    await s.c.state.nodes.flushLastSeen();
    const from = store.timeline.length;
    store.failNext(1);
    const unhandled = await unhandledDuring(async () => {
      const applied = track(store, 'ApplyPlan', admin.call('ApplyPlan', { plan_yaml: plan(', labels: { tier: web }'), file_name: 'labels.yaml', force: false }));
      await rejects(() => applied.promise);
    });
    assert.is(s.fatal.length, 1);
    const now = await watch(s, client, 0, 0, probePlanId);
    assert.equal(now.assignment, old.assignment);
    assert.is((await watch(s, client, Number(old.assignment!.revision), 0, probePlanId)).changed, false);
    assert.is((await admin.call('PlanHistory', {})).plans.length, 1);
    assert.is((await admin.call('Status', {})).plan_revision, 1);
    assert.is(storedRevision(await inner.get('assignments/node-2')), Number(old.assignment!.revision));
    const id = await store.untilTxnWriting('assignments/node-2', from);
    assert.equal(storyOf(store, id, -1, from), ['fail-next 1', `txn-submitted ${id}`, `txn-failed ${id}: injected commit failure`, 'test: onFatal: injected commit failure', 'test: ApplyPlan rejected']);
    // Checked last, so that everything above is checked whatever this says.
    assert.equal(unhandled.map(String), [], 'a failed commit left a rejection unhandled (coordinator/state/cluster-state.ts applyPlan: `void this.writer.txn(...).then(publish)`)');
  } finally {
    client.close();
    await s.close();
  }
});

test.run();
