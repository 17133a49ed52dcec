// The coordinator's metrics listener, scraped over real HTTP on this file's loopback block:
// counters move with real joins, issuance and an ApplyPlan through the admin API; labels carry
// no node names or tokens; /readyz is 503 while the store is not open and after it failed
// (test/helpers/faulty-store.ts), 200 in between; /healthz answers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempDir, testCoordinator, threeNodePlan, runAgent, waitFor, type RunningAgent } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { FaultyStore } from '../helpers/faulty-store.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { freePort } from '../../shared/net/free-port.ts';
import { loadAdminConfig } from '../../coordinator/admin/config.ts';
import { connectAdmin } from '../../coordinator/admin/client.ts';
import { scrape, probe } from '../helpers/metrics-scrape.ts';
import { createServer } from 'node:net';

const net = addressBlock(import.meta.url);

test('joins, signatures, RPC latency, nodes by state and role, commits and the certificate horizon move with real work', async () => {
  const dir = tempDir();
  const planFile = join(dir, 'plan.yaml');
  const addresses = [net.host(2), net.host(3), net.host(4)] as const;
  writeFileSync(planFile, threeNodePlan('metrics', '', { addresses }));
  const metricsAddress = `${net.host(1)}:${await freePort(net.host(1))}`;
  const c = await testCoordinator(join(dir, 'coord'), { planFile, listen: `${net.host(1)}:0`, metricsAddress });
  const agents: RunningAgent[] = [];
  try {
    assert.is(c.metricsAddress, metricsAddress);
    const before = await scrape(metricsAddress);
    assert.is(before.sum('muster_joins_total'), 0);
    assert.ok(before.get('muster_certificate_expiry_horizon_seconds{scope="identity"}') > 300 * 86_400, 'the identity CAs and serving certificate last about a year');
    assert.ok(before.get('process_resident_memory_bytes') > 0, 'process metrics are exported');

    const { token } = await c.state.tokens.create({ uses: 3 });
    for (const [i, name] of ['node-1', 'node-2', 'node-3'].entries()) {
      agents.push(runAgent({ coordinator: c.address, token, caHash: c.identity.caPin, nodeName: name, address: addresses[i]!, stateDir: join(dir, name, 'state'), root: join(dir, name, 'root') }));
    }
    await waitFor('all three applied', () => agents.every((a) => a.agent.appliedRevision > 0), 60_000);
    // The agent counts a revision applied before its report of it reaches the coordinator.
    const after = await waitFor('the coordinator has all three applied', async () => {
      const m = await scrape(metricsAddress);
      return m.sum('muster_nodes{state="applied"') === 4 ? m : null; // node-1 under etcd and master
    });
    assert.is(after.get('muster_joins_total{result="joined"}'), 3);
    assert.is(after.get('muster_rpc_duration_seconds_count{method="Join",code="OK"}'), 3);
    assert.ok(after.get('muster_signatures_total{kind="node-identity",result="ok"}') >= 3);
    // Cluster certificates for the master (apiserver...) and the workers (kubelet client).
    assert.ok(after.get('muster_signatures_total{kind="apiserver",result="ok"}') >= 1, after.text.split('\n').filter((l) => l.startsWith('muster_signatures')).join('\n'));
    assert.ok(after.get('muster_rpc_duration_seconds_count{method="IssueCertificates",code="OK"}') >= 3);
    assert.is(after.get('muster_nodes{state="applied",role="worker"}'), 2);
    const nodeLines = after.text.split('\n').filter((l) => l.startsWith('muster_nodes')).join('\n');
    assert.is(after.sum('muster_nodes{state="applied",role="master"}'), 1, nodeLines);
    assert.ok(after.get('muster_store_commit_duration_seconds_count') > before.get('muster_store_commit_duration_seconds_count'));
    assert.ok(after.get('muster_store_committed_transactions_total') >= after.get('muster_store_commit_duration_seconds_count'));
    assert.ok(after.get('muster_certificate_expiry_horizon_seconds{scope="cluster"}') > 0, 'cluster CAs and issued leaves are known');
    await waitFor('three watches held', async () => (await scrape(metricsAddress)).get('muster_watches_held') === 3);
    // Two bootstrap connections per join (GetCA unverified, then Join verified against the pinned
    // CA: Node checks nothing of a certificate whose chain failed, so one connection cannot be
    // verified before the token goes out on it), then one mutual-TLS connection per node that stays open.
    const conns = await scrape(metricsAddress);
    assert.is(conns.get('muster_connections_accepted_total{class="anonymous"}'), 6, 'two bootstrap connections per join');
    assert.is(conns.get('muster_connections_accepted_total{class="node"}'), 3);
    assert.is(conns.get('muster_connections{class="node"}'), 3);
    await waitFor('bootstrap connections closed', async () => (await scrape(metricsAddress)).get('muster_connections{class="anonymous"}') === 0);
    // Bounded labels: no node names, addresses or the token in what a scraper sees.
    for (const secretish of ['node-1', 'node-2', addresses[0], token, token.split('.')[1]!]) assert.not.ok(after.text.includes(secretish), `metrics mention ${secretish}`);

    // An ApplyPlan through the admin API is timed under its method.
    const admin = connectAdmin(await loadAdminConfig({ dataDir: join(dir, 'coord'), env: {} }));
    try {
      await admin.call('ApplyPlan', { plan_yaml: threeNodePlan('metrics', ', labels: { wave: "2" }', { addresses }), file_name: 'plan2.yaml', force: false });
    } finally {
      admin.close();
    }
    const applied = await scrape(metricsAddress);
    assert.is(applied.get('muster_rpc_duration_seconds_count{method="ApplyPlan",code="OK"}'), 1);
    assert.is((await probe(metricsAddress, '/healthz')).status, 200);
    assert.equal(await probe(metricsAddress, '/readyz'), { status: 200, body: 'ready\n' });
  } finally {
    for (const a of agents) await a.stop();
    await c.close();
  }
  // Closed with the coordinator.
  await assert.not.ok(await fetch(`http://${metricsAddress}/healthz`).then(() => true, () => false), 'the metrics listener is closed');
});

test('/readyz: 503 while the store is not open, 200 once serving, 503 with the reason after the store failed', async () => {
  const dir = tempDir();
  const store = new FaultyStore(new MemoryStore());
  const metricsAddress = `${net.host(10)}:${await freePort(net.host(10))}`;
  let fatal: unknown = null;
  store.hold('before-commit');
  const starting = testCoordinator(join(dir, 'coord'), { store, listen: `${net.host(10)}:0`, metricsAddress, onFatal: (e) => (fatal = e) });
  starting.catch(() => undefined);
  try {
    // The listener is up before the store's first commit; the start waits on the held commit.
    const early = await waitFor('the metrics listener', () => probe(metricsAddress, '/readyz').catch(() => null));
    assert.is(early.status, 503);
    assert.match(early.body, /store: the state store is not open yet/);
    assert.is((await probe(metricsAddress, '/healthz')).status, 200, 'alive while not ready');
    store.release();
    const c = await starting;
    try {
      assert.equal(await probe(metricsAddress, '/readyz'), { status: 200, body: 'ready\n' });
      store.failNext(1, new Error('disk on fire'));
      await c.state.tokens.create({}).catch(() => undefined);
      await waitFor('the failure reported', () => fatal);
      const failed = await probe(metricsAddress, '/readyz');
      assert.is(failed.status, 503);
      assert.match(failed.body, /store: the state store failed: .*disk on fire/);
    } finally {
      await c.close();
    }
  } finally {
    store.release();
    await starting.then((c) => c.close(), () => undefined);
  }
});

test('a metrics address in use: given, the start fails saying so; best effort (the CLI default), it starts without and warns', async () => {
  const dir = tempDir();
  const host = net.host(20);
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, host, () => r()));
  const metricsAddress = `${host}:${(taken.address() as { port: number }).port}`;
  try {
    const err = await testCoordinator(join(dir, 'a'), { listen: `${host}:0`, metricsAddress }).then(
      (c) => c.close().then(() => null),
      (e: unknown) => e as Error,
    );
    assert.ok(err, 'the start failed');
    assert.match(err!.message, new RegExp(`cannot listen on ${metricsAddress}: another program is using port \\d+ .*--metrics-address`));
    const c = await testCoordinator(join(dir, 'b'), { listen: `${host}:0`, metricsAddress, metricsBestEffort: true });
    try {
      assert.is(c.metricsAddress, null);
      assert.ok(c.log.lines.some((l) => l.includes(`no metrics listener: cannot listen on ${metricsAddress}`)), c.log.lines.join('\n'));
    } finally {
      await c.close();
    }
  } finally {
    taken.close();
  }
});

test.run();
