import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProbeListener, runProbePlan, checkReach } from '../../agent/probe/index.ts';
import { runPreflight, DEFAULT_CHECKS } from '../../shared/preflight/index.ts';
import { startDelayProxy } from './delay-proxy.ts';
import { freePort } from './helpers.ts';
import { ctx } from '../preflight/fixtures.ts';

// Four simulated nodes on loopback: a probes; b runs its agent and opens two role ports;
// c has no agent; d is reached through a 60 ms delay proxy in front of b's agent.
// Everything runs in this one process, so a busy machine adds event-loop delay to every
// measurement: the assertions leave node-b's latency alone (test/probe/latency.test.ts covers
// the direct path) and give the proxy a hold far above the 10 ms limit.
const A = '127.0.0.11';
const B = '127.0.0.12';
const C = '127.0.0.13';
const D = '127.0.0.14';
const peerChecks = DEFAULT_CHECKS.filter((c) => c.name.startsWith('peer-'));

test('one probe round across simulated nodes, judged by the peer checks', async () => {
  const agentB = await startProbeListener({ host: B, port: 0 });
  const proxyD = await startDelayProxy({ host: D, upstreamHost: B, upstreamPort: agentB.port, delayMs: 60 });
  const [p1, p2, cAgent, cRole] = [await freePort(B), await freePort(B), await freePort(C), await freePort(C)];
  let listenersB: { opened: number[]; busy: number[] } | undefined;
  const abortB = new AbortController();
  try {
    // b opens its role ports for peers (no targets of its own here).
    const resB = await runProbePlan({ id: 1, listen_ports: [p1, p2] }, { listenHost: B, sourceAddress: B, holdListenersMs: 10_000, signal: abortB.signal, onListeners: (l) => (listenersB = l) });
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
      timeout_ms: 500,
    }, { sourceAddress: A, listenHost: A, holdListenersMs: 0, tries: 3, coordinator: `${B}:${p1}` });

    assert.is(resA.plan_id, 42);
    // The coordinator does not echo: its latency is the TCP handshake (here to one of b's ports).
    assert.equal([resA.coordinator?.target?.node_name, resA.coordinator?.target?.address, resA.coordinator?.target?.port, resA.coordinator!.median_ms >= 0, resA.coordinator?.tries], ['coordinator', B, p1, true, 3]);
    assert.equal(resA.latency.map((l) => [l.target?.node_name, l.median_ms >= 0, l.tries]), [['node-b', true, 3], ['node-c', false, 3], ['node-d', true, 3]]);
    assert.ok(resA.latency[2]!.median_ms > 10, `proxied median ${resA.latency[2]!.median_ms}`);
    assert.equal(resA.reach.map((r) => [r.target?.node_name, r.target?.port, r.source_address, r.ok]), [['node-b', p1, A, true], ['node-b', p2, A, true], ['node-c', cRole, A, false]]);

    const report = runPreflight(ctx(['master'], (_f, _p, c) => (c.peers = resA)), peerChecks);
    assert.not.ok(report.ok);
    const lines = report.results.filter((r) => !r.found.includes('node-b')).map((r) => `${r.check}: ${r.found}`);
    assert.not.ok(report.results.some((r) => r.check === 'peer-reach' && r.found.includes('node-b')));
    assert.is(lines.length, 3);
    assert.is(lines[0], `peer-latency: no latency measurement from node-a to node-c at ${C}:${cAgent}: ECONNREFUSED: connection refused (nothing listens on the port, or a firewall rejects it)`);
    assert.match(lines[1]!, new RegExp(`^peer-latency: round trip of \\d+\\.\\d ms from node-a to node-d at 127\\.0\\.0\\.14:${proxyD.port} \\(median of 3\\)$`));
    assert.is(lines[2], `peer-reach: node-a (from ${A}) unable to reach node-c at ${C}:${cRole}: ECONNREFUSED: connection refused (nothing listens on the port, or a firewall rejects it)`);
  } finally {
    abortB.abort();
    await proxyD.close();
    await agentB.close();
  }
  // The abort closed b's temporary listeners.
  await sleep(50);
  const after = await checkReach([{ node_name: 'node-b', address: B, port: p1 }], { sourceAddress: A });
  assert.is(after[0]!.ok, false);
});

test('temporary listeners close by themselves after holdListenersMs', async () => {
  const p = await freePort(B);
  await runProbePlan({ id: 2, listen_ports: [p] }, { listenHost: B, holdListenersMs: 200 });
  const during = await checkReach([{ node_name: 'node-b', address: B, port: p }]);
  assert.is(during[0]!.ok, true);
  const deadline = Date.now() + 3000;
  let ok = true;
  while (ok && Date.now() < deadline) {
    await sleep(50);
    ok = (await checkReach([{ node_name: 'node-b', address: B, port: p }]))[0]!.ok;
  }
  assert.is(ok, false, 'the listener should be closed within 3 s');
});

test.run();
