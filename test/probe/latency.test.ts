import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startProbeListener, measureLatency, median } from '../../agent/probe/index.ts';
import { runPreflight, DEFAULT_CHECKS } from '../../shared/preflight/index.ts';
import { startDelayProxy } from './delay-proxy.ts';
import { freePort, silentServer } from './helpers.ts';
import { ctx } from '../preflight/fixtures.ts';
import { addressBlock } from '../helpers/addresses.ts';

// node-a (2) probes; node-b's agent listens on host 3; node-c sits behind a delay proxy on host 4.
// All of it runs in this one process, so on a busy machine the event loop adds delay to every
// sample: the proxy holds for 200 ms and the limit is 100 ms, far from both a loaded loopback
// (direct) and the proxied path. What is tested is that the echo sees a hold in user space.
const net = addressBlock(import.meta.url);
const A = net.host(2);
const B = net.host(3);
const C = net.host(4);
const HOLD_MS = 200;
const LIMIT_MS = 100;
const latencyCheck = DEFAULT_CHECKS.filter((c) => c.name === 'peer-latency');
const esc = (s: string) => s.replace(/\./g, '\\.');

test('the echo sees a peer that holds the connection in user space: the direct path passes, the proxied one fails', async () => {
  const agentB = await startProbeListener({ host: B, port: 0 });
  const proxy = await startDelayProxy({ host: C, upstreamHost: B, upstreamPort: agentB.port, delayMs: HOLD_MS });
  try {
    const direct = await measureLatency({ node_name: 'node-b', address: B, port: agentB.port }, { tries: 7, timeoutMs: 1000, localAddress: A });
    const slow = await measureLatency({ node_name: 'node-c', address: C, port: proxy.port }, { tries: 3, timeoutMs: 2000, localAddress: A });
    assert.is(direct.error, '');
    assert.is(direct.tries, 7);
    assert.ok(direct.median_ms >= 0 && direct.median_ms < LIMIT_MS, `direct median ${direct.median_ms}`);
    assert.is(slow.error, '');
    // The proxy starts its hold on accept, a moment before the client sees "connected".
    assert.ok(slow.median_ms >= HOLD_MS / 2, `proxied median ${slow.median_ms} should include the ${HOLD_MS} ms hold`);

    const report = runPreflight(ctx(['master'], (_f, p, c) => {
      p.cluster.preflight.max_peer_latency_ms = LIMIT_MS;
      c.peers = { latency: [direct, slow] };
    }), latencyCheck);
    assert.not.ok(report.ok);
    assert.is(report.results.length, 1);
    const r = report.results[0]!;
    assert.is(r.check, 'peer-latency');
    assert.match(r.found, new RegExp(`^round trip of \\d+\\.\\d ms from node-a to node-c at ${esc(C)}:${proxy.port} \\(median of 3\\)$`));
    assert.is(r.required, `at most ${LIMIT_MS} ms (cluster.preflight.max_peer_latency_ms)`);
  } finally {
    await proxy.close();
    await agentB.close();
  }
});

test('a closed port: median -1 and the reason, after the given number of tries', async () => {
  const port = await freePort(B);
  const res = await measureLatency({ node_name: 'node-b', address: B, port }, { tries: 3, timeoutMs: 500 });
  assert.equal(res, {
    target: { node_name: 'node-b', address: B, port, sample: false },
    median_ms: -1,
    tries: 3,
    error: 'ECONNREFUSED: connection refused (nothing listens on the port, or a firewall rejects it)',
  });
});

test('a peer that accepts but never answers: each try is bounded by timeoutMs', async () => {
  const silent = await silentServer(B);
  try {
    const started = Date.now();
    const res = await measureLatency({ node_name: 'node-b', address: B, port: silent.port }, { tries: 2, timeoutMs: 150 });
    const took = Date.now() - started;
    assert.is(res.median_ms, -1);
    assert.is(res.error, 'timed out after 150 ms (a firewall drops the traffic, or the host is down)');
    assert.ok(took >= 290 && took < 2000, `took ${took} ms`);
  } finally {
    await silent.close();
  }
});

test('median of odd and even sample counts', () => {
  assert.is(median([5, 1, 3]), 3);
  assert.is(median([4, 1, 3, 2]), 2.5);
});

test.run();
