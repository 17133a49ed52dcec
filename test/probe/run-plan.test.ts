import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startProbeListener, runProbePlan, checkReach } from '../../agent/probe/index.ts';
import { runPreflight, DEFAULT_CHECKS } from '../../shared/preflight/index.ts';
import { startDelayProxy } from './delay-proxy.ts';
import { freePort } from './helpers.ts';
import { ctx } from '../preflight/fixtures.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { FakeTime } from './fake-timers.ts';

// Four simulated nodes on this file's loopback block: a probes; b runs its agent and opens two
// role ports; c has no agent; d is reached through a delay proxy in front of b's agent.
// Everything runs in this one process, so a busy machine adds event-loop delay to every
// measurement: the assertions leave node-b's latency alone (test/probe/latency.test.ts covers
// the direct path) and give the proxy a hold far above the 10 ms limit.
const net = addressBlock(import.meta.url);
const A = net.host(11);
const B = net.host(12);
const C = net.host(13);
const D = net.host(14);
const HOLD_MS = 150;
const peerChecks = DEFAULT_CHECKS.filter((c) => c.name.startsWith('peer-'));

test('one probe round across simulated nodes, judged by the peer checks', async () => {
  const agentB = await startProbeListener({ host: B, port: 0 });
  const proxyD = await startDelayProxy({ host: D, upstreamHost: B, upstreamPort: agentB.port, delayMs: HOLD_MS });
  const [p1, p2, cAgent, cRole] = [await freePort(B), await freePort(B), await freePort(C), await freePort(C)];
  let listenersB: { opened: number[]; busy: number[] } | undefined;
  const abortB = new AbortController();
  let closedB!: () => void;
  const listenersBClosed = new Promise<void>((r) => (closedB = r));
  try {
    // b opens its role ports for peers (no targets of its own here).
    const resB = await runProbePlan({ id: 1, listen_ports: [p1, p2] }, { listenHost: B, sourceAddress: B, holdListenersMs: 10_000, signal: abortB.signal, onListeners: (l) => (listenersB = l), onListenersClosed: closedB });
    assert.equal(resB, { plan_id: 1, latency: [], reach: [], coordinator: null });
    assert.equal(listenersB, { opened: [p1, p2], busy: [], failed: [] });

    const resA = await runProbePlan({
      id: 42,
      latency_targets: [
        { node_name: 'node-b', address: B, port: agentB.port },
        { node_name: 'node-c', address: C, port: cAgent },
        { node_name: 'node-d', address: D, port: proxyD.port },
      ],
      reach_targets: [
        { node_name: 'node-b', address: B, port: p1 },
        { node_name: 'node-b', address: B, port: p2 },
        { node_name: 'node-c', address: C, port: cRole },
      ],
      timeout_ms: 1000,
    }, { sourceAddress: A, listenHost: A, holdListenersMs: 0, tries: 3, coordinator: `${B}:${p1}` });

    assert.is(resA.plan_id, 42);
    // The coordinator does not echo: its latency is the TCP handshake (here to one of b's ports).
    assert.equal([resA.coordinator?.target?.node_name, resA.coordinator?.target?.address, resA.coordinator?.target?.port, resA.coordinator!.median_ms >= 0, resA.coordinator?.tries], ['coordinator', B, p1, true, 3]);
    assert.equal(resA.latency.map((l) => [l.target?.node_name, l.median_ms >= 0, l.tries]), [['node-b', true, 3], ['node-c', false, 3], ['node-d', true, 3]]);
    assert.ok(resA.latency[2]!.median_ms > HOLD_MS / 2, `proxied median ${resA.latency[2]!.median_ms}`);
    assert.equal(resA.reach.map((r) => [r.target?.node_name, r.target?.port, r.source_address, r.ok]), [['node-b', p1, A, true], ['node-b', p2, A, true], ['node-c', cRole, A, false]]);

    const report = runPreflight(ctx(['master'], (_f, _p, c) => (c.peers = resA)), peerChecks);
    assert.not.ok(report.ok);
    const lines = report.results.filter((r) => !r.found.includes('node-b')).map((r) => `${r.check}: ${r.found}`);
    assert.not.ok(report.results.some((r) => r.check === 'peer-reach' && r.found.includes('node-b')));
    assert.is(lines.length, 3);
    assert.is(lines[0], `peer-latency: no latency measurement from node-a to node-c at ${C}:${cAgent}: ECONNREFUSED: connection refused (nothing listens on the port, or a firewall rejects it)`);
    assert.match(lines[1]!, new RegExp(`^peer-latency: round trip of \\d+\\.\\d ms from node-a to node-d at ${D.replace(/\./g, '\\.')}:${proxyD.port} \\(median of 3\\)$`));
    assert.is(lines[2], `peer-reach: node-a (from ${A}) unable to reach node-c at ${C}:${cRole}: ECONNREFUSED: connection refused (nothing listens on the port, or a firewall rejects it)`);
  } finally {
    abortB.abort();
    await proxyD.close();
    await agentB.close();
  }
  // The abort closed b's temporary listeners.
  await listenersBClosed;
  const after = await checkReach([{ node_name: 'node-b', address: B, port: p1 }], { sourceAddress: A });
  assert.is(after[0]!.ok, false);
});

test('temporary listeners close by themselves after holdListenersMs, not before', async () => {
  const p = await freePort(B);
  const time = new FakeTime();
  let closed!: () => void;
  const wasClosed = new Promise<void>((r) => (closed = r));
  await runProbePlan({ id: 2, listen_ports: [p] }, { listenHost: B, holdListenersMs: 200, timers: time, onListenersClosed: closed });
  const reach = async () => (await checkReach([{ node_name: 'node-b', address: B, port: p }], { sourceAddress: A }))[0]!.ok;
  assert.is(await reach(), true);
  time.advance(199);
  assert.is(await reach(), true, 'still open just before the hold ends');
  time.advance(1);
  await wasClosed;
  assert.is(await reach(), false, 'closed once the hold is over');
});

test.run();
