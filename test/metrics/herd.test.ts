// Herd control. The coordinator-wide work budget: with room for one expensive call and no queue,
// joins arriving together are answered RESOURCE_EXHAUSTED with a retry-after hint, counted in
// /metrics, and every agent still joins through its retries (counts, no timing). The agents'
// jitter: with a fixed random source, start-up delays and first reconnects spread over their
// windows, and a hint is never undercut. A clean restart of a coordinator (a child process, real
// sqlite store) with agents connected: each comes back by itself through its jittered retries.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempDir, testCoordinator, runAgent, waitFor, type RunningAgent } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { FaultyStore } from '../helpers/faulty-store.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { freePort } from '../../shared/net/free-port.ts';
import { WorkBudget } from '../../coordinator/server/admission/work-budget.ts';
import { ResourceExhaustedError, MusterError } from '../../shared/errors/index.ts';
import { compileRetry, reconnectDelayMs, retryDelayMs, startupDelayMs } from '../../shared/retry.ts';
import { reconnectWindowMs } from '../../coordinator/server/admission/reconnect-window.ts';
import { MAX_RECONNECT_WINDOW_MS } from '../../shared/constants.ts';
import { scrape } from '../helpers/metrics-scrape.ts';
import * as grpc from '@grpc/grpc-js';
import { advisedReconnectMs, RECONNECT_WINDOW_KEY } from '../../shared/wire/status.ts';
import { spawnCoordinator } from '../helpers/coordinator-child.ts';
import { loadAdminConfig } from '../../coordinator/admin/config.ts';
import { connectAdmin } from '../../coordinator/admin/client.ts';

const net = addressBlock(import.meta.url);
const N = 6;

test('a tiny work budget: concurrent real joins get RESOURCE_EXHAUSTED with a hint, and all join through their retries', async () => {
  const dir = tempDir();
  const store = new FaultyStore(new MemoryStore());
  const metricsAddress = `${net.host(1)}:${await freePort(net.host(1))}`;
  const c = await testCoordinator(join(dir, 'coord'), { store, listen: `${net.host(1)}:0`, metricsAddress, admission: { workBudget: { concurrency: 1, maxQueue: 0 } } });
  const agents: RunningAgent[] = [];
  try {
    const { token } = await c.state.tokens.create({ uses: N });
    // The first join to get the budget's one slot holds it while its commit is held, so every
    // other join meanwhile finds the budget full: deterministic, whatever the machine's speed.
    store.hold('before-commit');
    for (let i = 0; i < N; i++) {
      const name = `node-${i + 1}`;
      agents.push(runAgent({ coordinator: c.address, token, caHash: c.identity.caPin, nodeName: name, address: net.host(i + 2), stateDir: join(dir, name, 'state'), root: join(dir, name, 'root') }));
    }
    await waitFor('joins refused by the work budget', async () => (await scrape(metricsAddress)).get('muster_expensive_work_rejected_total') >= N - 1, 60_000);
    store.release();
    await waitFor(`all ${N} joined`, () => c.state.nodes.all().length === N || null, 60_000);
    const m = await scrape(metricsAddress);
    const refused = m.get('muster_joins_total{result="RESOURCE_EXHAUSTED"}');
    assert.ok(refused >= N - 1, `refused joins ${refused}`);
    assert.is(m.get('muster_joins_total{result="joined"}'), N);
    assert.ok(m.get('muster_expensive_work_rejected_total') >= refused);
    assert.is(m.get('muster_expensive_work_queue_depth'), 0);
    // The agents were told to wait, and waited at least that.
    const waits = agents.flatMap((a) => a.log.lines.filter((l) => l.includes('the coordinator is busy')));
    assert.ok(waits.length >= N - 1, waits.join('\n'));
    for (const l of waits) {
      const [, hint, delay] = /try again in ([\d.]+)s\); retry \d+ in ([\d.]+)s/.exec(l) ?? [];
      assert.ok(hint && delay && Number(delay) >= Number(hint), l);
    }
  } finally {
    store.release();
    for (const a of agents) await a.stop();
    await c.close();
  }
});

test('the work budget: runs up to its concurrency, queues in order, refuses a full queue with a hint from the drain rate', async () => {
  let now = 0;
  const w = new WorkBudget({ concurrency: 2, maxQueue: 1, minRetryAfterMs: 10, clock: () => now });
  const gates: Array<() => void> = [];
  const order: number[] = [];
  const job = (i: number) => w.run('test', () => new Promise<void>((r) => gates.push(() => { order.push(i); r(); })));
  const runs = [job(1), job(2), job(3)];
  await new Promise((r) => setImmediate(r));
  assert.equal([w.running, w.queued, gates.length], [2, 1, 2]);
  const refused = await job(4).catch((e: unknown) => e);
  assert.instance(refused, ResourceExhaustedError);
  assert.is((refused as ResourceExhaustedError).reason, 'coordinator-busy');
  // No item finished yet, so 10 ms (the minimum) is assumed per item: (1 queued + 2 running + the caller) x 10 / 2.
  assert.is((refused as ResourceExhaustedError).retryAfterMs, 20);
  now = 400; // each of the first two took 400 ms
  gates.shift()!();
  gates.shift()!();
  await new Promise((r) => setImmediate(r));
  assert.equal([w.running, w.queued, w.rejected], [1, 0, 1]);
  // Mean 400 ms per item, 2 at once: (0 queued + 1 running + the caller) x 400 / 2.
  assert.is(w.retryAfterMs(), 400);
  gates.shift()!();
  await Promise.all(runs);
  assert.equal(order, [1, 2, 3]);
  assert.is(w.running, 0);
});

test('the work budget, runThen: the slot is held for the CPU part only, and a call that is committing counts against the queue bound', async () => {
  const w = new WorkBudget({ concurrency: 1, maxQueue: 2 });
  const tick = () => new Promise((r) => setImmediate(r));
  const gate = () => {
    let open!: () => void;
    const p = new Promise<void>((r) => (open = r));
    return { p, open };
  };
  const commitA = gate();
  const a = w.runThen('test', () => 'a', async (v) => (await commitA.p, v));
  await tick();
  // A signed and is committing: its slot is free, so B's CPU part starts while A's commit waits.
  assert.equal([w.running, w.queued, w.finishing], [0, 0, 1]);
  const cpuB = gate();
  let bStarted = false;
  const b = w.runThen('test', async () => ((bStarted = true), await cpuB.p, 'b'), (v) => v);
  await tick();
  assert.ok(bStarted, "B's CPU part waited for A's commit: the slot was held across it");
  assert.equal([w.running, w.queued, w.finishing], [1, 0, 1]);
  const c = w.runThen('test', () => 'c', (v) => v);
  await tick();
  assert.equal([w.running, w.queued, w.finishing], [1, 1, 1]);
  // Queued (1) + committing (1) = maxQueue: the next is refused, so held calls stay bounded.
  const refused = await w.runThen('test', () => 'd', (v) => v).catch((e: unknown) => e);
  assert.instance(refused, ResourceExhaustedError);
  assert.match((refused as Error).message, /1 committing/);
  commitA.open();
  cpuB.open();
  assert.equal(await Promise.all([a, b, c]), ['a', 'b', 'c']);
  assert.equal([w.running, w.queued, w.finishing, w.rejected], [0, 0, 0, 1]);
  // A CPU part that throws frees its slot and never commits.
  let committed = false;
  const failed = await w.runThen('test', () => { throw new Error('bad csr'); }, () => (committed = true)).catch((e: unknown) => e);
  assert.match((failed as Error).message, /bad csr/);
  assert.equal([committed, w.running, w.finishing], [false, 0, 0]);
});

/** A fixed pseudo-random sequence (mulberry32, exact in 32-bit integer arithmetic): the same spread every run. */
function lcg(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('start-up and reconnect jitter spread a fleet over their windows; a hint is never undercut', () => {
  const random = lcg(42);
  const WINDOW = 10_000;
  const delays = Array.from({ length: 1000 }, () => startupDelayMs(WINDOW, random));
  assert.ok(delays.every((d) => d >= 0 && d < WINDOW));
  // Every tenth of the window gets some of the fleet, none more than twice its share.
  const buckets = new Array(10).fill(0);
  for (const d of delays) buckets[Math.floor(d / (WINDOW / 10))]++;
  assert.ok(buckets.every((b) => b > 50 && b < 200), JSON.stringify(buckets));
  assert.is(startupDelayMs(0, random), 0);

  const retry = compileRetry({ initialMs: 500, maxMs: 30_000, random: lcg(7) });
  const lost = new MusterError('unavailable', 'unavailable', 'connection refused');
  const first = Array.from({ length: 1000 }, () => reconnectDelayMs(retry, 1, lost, 5_000));
  assert.ok(first.every((d) => d >= 0 && d < 5_000));
  assert.ok(Math.max(...first) > 4_000 && Math.min(...first) < 1_000, 'the first reconnects cover the window, not the first 500 ms');
  // Later attempts are the backoff's; a hint is honoured and spread above.
  assert.ok(Array.from({ length: 100 }, () => reconnectDelayMs(retry, 2, lost, 5_000)).every((d) => d < 1_000));
  const busy = new ResourceExhaustedError('coordinator-busy', 'busy', { retryAfterMs: 2_000 });
  const hinted = Array.from({ length: 100 }, () => reconnectDelayMs(retry, 1, busy, 5_000));
  assert.ok(hinted.every((d) => d >= 2_000 && d <= 4_000), `never below the hint: ${Math.min(...hinted)}..${Math.max(...hinted)}`);
  assert.ok(new Set(hinted).size > 50, 'spread above it');
  assert.ok(retryDelayMs(retry, 1, busy) >= 2_000);
});

test('an agent waits its start-up jitter before first contact (a fixed random source says how long)', async () => {
  const dir = tempDir();
  const a = runAgent(
    { coordinator: `${net.host(200)}:1`, token: 'abcdef.0123456789abcdef', caHash: `sha256:${'0'.repeat(64)}`, nodeName: 'jittery', address: net.host(200), stateDir: join(dir, 'state'), root: join(dir, 'root'), startupJitterMs: 60_000 },
    undefined,
    { retry: { random: () => 0.25 } },
  );
  try {
    const line = await waitFor('the start-up line', () => a.log.lines.find((l) => l.includes('first contact with the coordinator')));
    assert.match(line, /first contact with the coordinator in 15\.0s \(start-up jitter, up to 60\.0s\)/);
    assert.is(a.agent.phase, 'starting', 'nothing sent yet');
  } finally {
    await a.stop();
  }
});

const RESTART_AGENTS = 10;
/** The coordinator takes 2 reconnections a second back: it advises 10 agents a 5 s window. */
const RECONNECT_RATE = 2;
const RECONNECT_WINDOW_MS = (RESTART_AGENTS / RECONNECT_RATE) * 1000;

test('the advised reconnect window is the fleet over the reconnect rate, bounded', () => {
  assert.is(reconnectWindowMs(0), 0);
  assert.is(reconnectWindowMs(1000), 5_000);
  assert.is(reconnectWindowMs(10_000), 50_000);
  assert.is(reconnectWindowMs(10, 2), 5_000);
  assert.is(reconnectWindowMs(3, 2), 1_500);
  assert.is(reconnectWindowMs(10_000_000), MAX_RECONNECT_WINDOW_MS);
  assert.is(reconnectWindowMs(10, 0), 0);
});

test('an advised window from the headers is taken only as a whole number of ms, and never beyond the maximum', () => {
  const headers = (v?: string) => {
    const m = new grpc.Metadata();
    if (v !== undefined) m.set(RECONNECT_WINDOW_KEY, v);
    return m;
  };
  assert.is(advisedReconnectMs(headers('5000')), 5000);
  assert.is(advisedReconnectMs(headers('0')), 0);
  assert.is(advisedReconnectMs(headers(String(10 * MAX_RECONNECT_WINDOW_MS))), MAX_RECONNECT_WINDOW_MS, 'a coordinator cannot park its fleet for days');
  for (const junk of [undefined, '', '-5', 'abc', '1e9', ' 5', '5.5', '9'.repeat(400)]) assert.is(advisedReconnectMs(headers(junk)), undefined, `${junk}`);
});

test('a clean coordinator restart with agents connected: each comes back by itself, its first retry spread over the window the coordinator advised; it holds its watch at the revision it had applied, and nothing is re-joined or re-applied', async () => {
  const dir = tempDir('muster-restart-');
  const dataDir = join(dir, 'coord');
  const host = net.host(1);
  const address = `${host}:${await freePort(host)}`;
  const metricsAddress = `${host}:${await freePort(host)}`;
  const nodeAddress = (i: number) => net.host(20 + i);
  const workers = Array.from({ length: RESTART_AGENTS - 1 }, (_, i) => `    - { host: node-${i + 2}, ip: ${nodeAddress(i + 1)} }`).join('\n');
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(
    planFile,
    `cluster:\n  name: restart\n  version: v1.36.3\n  networking: { pod_cidr_block: 172.16.0.0/16, service_cidr_block: 172.17.0.0/16 }\n  preflight: { ignore: [all] }\n` +
      `etcd: { expected_count: 1, nodes: [ { host: node-1, ip: ${nodeAddress(0)} } ] }\nmaster: { expected_count: 1, nodes: [ { host: node-1, ip: ${nodeAddress(0)} } ] }\n` +
      `worker:\n  expected_count: ${RESTART_AGENTS - 1}\n  nodes:\n${workers}\n`,
  );
  const args = ['--data-dir', dataDir, '--listen', address, '--plan', planFile, '--log-level', 'warn', '--metrics-address', metricsAddress, '--reconnect-rate', String(RECONNECT_RATE)];
  let proc = spawnCoordinator(args);
  const agents: RunningAgent[] = [];
  const failed: string[] = [];
  try {
    await proc.until('Join nodes');
    const cfg = await loadAdminConfig({ dataDir, env: {} });
    let admin = connectAdmin(cfg);
    const { token } = await admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'restart' });
    admin.close();
    for (let i = 0; i < RESTART_AGENTS; i++) {
      const name = `node-${i + 1}`;
      const a = runAgent(
        { coordinator: address, token, caHash: cfg.ca_hash, nodeName: name, address: nodeAddress(i), stateDir: join(dir, name, 'state'), root: join(dir, name, 'root'), reconnectJitterMs: 0 },
        undefined,
        // A fixed random source per agent: the spread below is the same every run.
        { retry: { initialMs: 50, maxMs: 500, random: lcg(100 + i) } },
      );
      a.done.catch(() => failed.push(name));
      agents.push(a);
    }
    const held = async () => (await scrape(metricsAddress).catch(() => null))?.get('muster_watches_held') ?? 0;
    const allApplied = async () => {
      const m = await scrape(metricsAddress).catch(() => null);
      return m !== null && m.get('muster_nodes{state="applied",role="worker"}') === RESTART_AGENTS - 1 && m.get('muster_nodes{state="applied",role="master"}') === 1;
    };
    await waitFor(`all ${RESTART_AGENTS} applied and watching`, async () => agents.every((a) => a.agent.phase === 'watching') && (await allApplied()) && (await held()) === RESTART_AGENTS, 120_000, 100);
    const revisions = agents.map((a) => a.agent.appliedRevision);
    const logLength = agents.map((a) => a.log.lines.length);

    const noticed = new Set<string>();
    const unsubscribe = agents.map((a, i) => a.agent.onPhase((p) => p === 'waiting-for-coordinator' && noticed.add(`node-${i + 1}`)));
    await proc.stop();
    // Every agent notices (its held watch ends) before the coordinator is back.
    await waitFor('every agent waiting for the coordinator', () => noticed.size === RESTART_AGENTS, 60_000);
    unsubscribe.forEach((u) => u());
    proc = spawnCoordinator(args);
    await proc.until('Join command');
    await waitFor(`all ${RESTART_AGENTS} watching the restarted coordinator`, async () => (await held()) === RESTART_AGENTS && agents.every((a) => a.agent.phase === 'watching') && (await allApplied()), 120_000, 100);

    assert.equal(failed, [], 'no agent gave up');
    assert.equal(agents.map((a) => a.agent.appliedRevision), revisions, 'each holds the revision it had applied');
    const since = agents.map((a, i) => a.log.lines.slice(logLength[i]));
    for (const [i, lines] of since.entries()) {
      assert.not.ok(lines.some((l) => / joined \S+ as node /.test(l)), `node-${i + 1} did not join again:\n${lines.join('\n')}`);
      assert.not.ok(lines.some((l) => /applied revision /.test(l)), `node-${i + 1} applied nothing again:\n${lines.join('\n')}`);
      assert.ok(lines.some((l) => l.includes('is back')), `node-${i + 1} says the coordinator is back:\n${lines.join('\n')}`);
    }
    // The first retry of each is spread over the window the coordinator advised (the agents'
    // own window is 0 here: without the advice every first retry would be the 50 ms backoff).
    const firsts = since.map((lines, i) => {
      const l = lines.find((x) => /waiting for coordinator .* retry 1 in /.test(x));
      assert.ok(l, `node-${i + 1} logged its first retry:\n${lines.join('\n')}`);
      return Number(/retry 1 in ([\d.]+)s/.exec(l!)![1]);
    });
    assert.ok(firsts.every((s) => s >= 0 && s <= RECONNECT_WINDOW_MS / 1000), `within the window (printed to 0.1 s): ${firsts.join(' ')}`);
    assert.ok(new Set(firsts).size >= RESTART_AGENTS / 2, `first retries spread: ${firsts.join(' ')}`);
    assert.ok(Math.max(...firsts) - Math.min(...firsts) >= 1, `first retries spread over the window: ${firsts.join(' ')}`);
    // The restarted coordinator saw no join and answered every finished call OK.
    const m = await scrape(metricsAddress);
    assert.is(m.sum('muster_joins_total'), 0, 'no joins after the restart');
    const notOk = [...m.text.matchAll(/^muster_rpc_duration_seconds_count\{method="([^"]+)",code="([^"]+)"\} (\S+)$/gm)].filter(([, , code]) => code !== 'OK');
    assert.equal(notOk.map((x) => x[0]), [], 'every call the restarted coordinator finished was OK');
  } finally {
    for (const a of agents) await a.stop();
    await proc.stop();
  }
});

test.run();
