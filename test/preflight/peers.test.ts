import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { peerLatencyCheck, peerReachCheck } from '../../shared/preflight/checks/peers.ts';
import type { Finding, PeerLatency } from '../../shared/preflight/index.ts';
import type { ReachResult } from '../../proto/gen/types/muster/v1/ReachResult.ts';
import { ctx } from './fixtures.ts';

const T = (node: string, address: string, port: number) => ({ node_name: node, address, port });

const SLOW_FIX = 'put the cluster\'s nodes in one site or zone (etcd and the API server slow down with latency), or raise cluster.preflight.max_peer_latency_ms';
const R = (...medians: Array<number | string>) => medians.map((m) => (typeof m === 'string' ? { median_ms: -1, tries: 5, error: m } : { median_ms: m, tries: 5, error: '' }));
/** A result with the coordinator's history: `rounds` oldest first, this round's median last. */
const withRounds = (node: string, address: string, rounds: ReturnType<typeof R>): PeerLatency => ({ target: T(node, address, 7444), ...rounds.at(-1)!, rounds });

const latencyRows: Array<[string, PeerLatency[], Finding[], number?]> = [
  ['no probe results: nothing to check', [], []],
  ['fast peers pass', [{ target: T('node-b', '10.0.0.6', 7444), median_ms: 0.4, tries: 5 }, { target: T('node-c', '10.0.0.7', 7444), median_ms: 10, tries: 5 }], []],
  ['a slow peer fails with both ends named', [{ target: T('node-b', '10.0.0.6', 7444), median_ms: 14.2, tries: 5 }],
    [{ severity: 'error', found: 'round trip of 14.2 ms from node-a to node-b at 10.0.0.6:7444 (median of 5)', required: 'at most 10 ms (cluster.preflight.max_peer_latency_ms)', fix: 'put the cluster\'s nodes in one site or zone (etcd and the API server slow down with latency), or raise cluster.preflight.max_peer_latency_ms' }]],
  ['the plan\'s limit applies', [{ target: T('node-b', '10.0.0.6', 7444), median_ms: 14.2, tries: 5 }], [], 20],
  ['one slow round among fast ones passes: the median of the rounds is judged', [withRounds('node-b', '10.0.0.6', R(0.5, 25, 0.6))], []],
  ['three slow rounds fail, with each round shown', [withRounds('node-b', '10.0.0.6', R(14.2, 12, 30))],
    [{ severity: 'error', found: 'round trip of 14.2 ms from node-a to node-b at 10.0.0.6:7444 (median of 3 probe rounds of 5 tries: 14.2 ms, 12.0 ms, 30.0 ms)', required: 'at most 10 ms (cluster.preflight.max_peer_latency_ms)', fix: SLOW_FIX }]],
  ['slow on fewer rounds than a verdict needs only warns', [withRounds('node-b', '10.0.0.6', R(25))],
    [{ severity: 'warning', found: 'round trip of 25.0 ms from node-a to node-b at 10.0.0.6:7444 (median of 1 probe round of 5 tries: 25.0 ms); 1 of 3 probe rounds so far, measuring again before deciding', required: 'at most 10 ms (cluster.preflight.max_peer_latency_ms)', fix: SLOW_FIX }]],
  ['two rounds: the median is their mean', [withRounds('node-b', '10.0.0.6', R(25, 0.5))],
    [{ severity: 'warning', found: 'round trip of 12.8 ms from node-a to node-b at 10.0.0.6:7444 (median of 2 probe rounds of 5 tries: 25.0 ms, 0.50 ms); 2 of 3 probe rounds so far, measuring again before deciding', required: 'at most 10 ms (cluster.preflight.max_peer_latency_ms)', fix: SLOW_FIX }]],
  ['one failed round among good ones passes', [withRounds('node-b', '10.0.0.6', R(0.5, 'ECONNREFUSED: connection refused', 0.7))], []],
  ['most rounds failed: no measurement, with the latest error', [withRounds('node-b', '10.0.0.6', R('timed out after 1000 ms', 0.5, 'ECONNREFUSED: connection refused'))],
    [{ severity: 'error', found: 'no latency measurement from node-a to node-b at 10.0.0.6:7444 in 2 of 3 probe rounds: ECONNREFUSED: connection refused', required: 'node-b answering on its probe port', fix: 'check that muster-agent runs on node-b and that TCP port 7444 is open to 10.0.0.6' }]],
  ['every try failed', [{ target: T('node-b', '10.0.0.6', 7444), median_ms: -1, tries: 5, error: 'ECONNREFUSED: connection refused' }],
    [{ severity: 'error', found: 'no latency measurement from node-a to node-b at 10.0.0.6:7444: ECONNREFUSED: connection refused', required: 'node-b answering on its probe port', fix: 'check that muster-agent runs on node-b and that TCP port 7444 is open to 10.0.0.6' }]],
  ['a sampled worker peer only warns (slow or silent)', [
    { target: { ...T('node-w', '10.0.0.8', 7444), sample: true }, median_ms: 14.2, tries: 5 },
    { target: { ...T('node-x', '10.0.0.9', 7444), sample: true }, median_ms: -1, tries: 5, error: 'ECONNREFUSED: connection refused' },
  ], [
    { severity: 'warning', found: 'round trip of 14.2 ms from node-a to node-w at 10.0.0.8:7444 (median of 5)', required: 'at most 10 ms (cluster.preflight.max_peer_latency_ms)', fix: 'put the cluster\'s nodes in one site or zone (etcd and the API server slow down with latency), or raise cluster.preflight.max_peer_latency_ms' },
    { severity: 'warning', found: 'no latency measurement from node-a to node-x at 10.0.0.9:7444: ECONNREFUSED: connection refused', required: 'node-x answering on its probe port', fix: 'check that muster-agent runs on node-x and that TCP port 7444 is open to 10.0.0.9' },
  ]],
];

for (const [name, latency, want, max] of latencyRows) {
  test(`latency: ${name}`, () => {
    const c = ctx(['master'], (_f, p, cx) => { cx.peers = { latency }; if (max) p.cluster.preflight.max_peer_latency_ms = max; });
    assert.equal(peerLatencyCheck.run(c), want);
  });
}

const reachRows: Array<[string, ReachResult[], Finding[]]> = [
  ['all reached', [{ target: T('node-b', '10.0.0.6', 2380), source_address: '10.0.0.5', ok: true }], []],
  ['a refused etcd peer port names source and destination', [
    { target: T('node-b', '10.0.0.6', 2379), source_address: '10.0.0.5', ok: true },
    { target: T('node-b', '10.0.0.6', 2380), source_address: '10.0.0.5', ok: false, error: 'ECONNREFUSED: connection refused' },
  ], [{
    severity: 'error',
    found: 'node-a (from 10.0.0.5) unable to reach node-b at 10.0.0.6:2380: ECONNREFUSED: connection refused',
    required: 'TCP 10.0.0.5 -> 10.0.0.6:2380 open (etcd peer)',
    fix: 'open TCP port 2380 from 10.0.0.5 to 10.0.0.6 in host firewalls and security groups, and check that muster-agent runs on node-b (it listens on its role ports during preflight)',
  }]],
  ['no source address known', [{ target: T('node-c', '10.0.0.7', 6443), ok: false, error: 'timed out after 1000 ms' }], [{
    severity: 'error',
    found: 'node-a unable to reach node-c at 10.0.0.7:6443: timed out after 1000 ms',
    required: 'TCP node-a -> 10.0.0.7:6443 open (kube-apiserver)',
    fix: 'open TCP port 6443 from node-a to 10.0.0.7 in host firewalls and security groups, and check that muster-agent runs on node-c (it listens on its role ports during preflight)',
  }]],
];

for (const [name, reach, want] of reachRows) {
  test(`reach: ${name}`, () => {
    const c = ctx(['master'], (_f, _p, cx) => (cx.peers = { reach }));
    assert.equal(peerReachCheck.run(c), want);
  });
}

test.run();
