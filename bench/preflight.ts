// Benchmark: what preflight and probe planning cost at fleet scale, and one real probe round.
//
//   node bench/preflight.ts
//
// 1. runPreflight over synthetic nodes (every check, peers included): ms per node.
// 2. buildProbeRing + buildProbePlan for every node of fleets of 100 .. 10,000: time, targets
//    per node (bounded) and in total (linear in the fleet).
// 3. A probe round on loopback: 24 peers on 127.0.1.x, each with a probe listener, measured by
//    runProbePlan (latency 5 tries each, 3 reach targets each, one of them closed): wall time.
import { performance } from 'node:perf_hooks';
import { runPreflight } from '../shared/preflight/index.ts';
import { startProbeListener, runProbePlan } from '../agent/probe/index.ts';
import { buildProbeRing, buildProbePlan, type ProbeMember } from '../shared/probe/targets.ts';
import { goodFacts, plan } from '../test/preflight/fixtures.ts';
import type { Role } from '../shared/constants.ts';

function fleet(etcd: number, masters: number, workers: number): ProbeMember[] {
  const out: ProbeMember[] = [];
  let i = 0;
  const add = (name: string, roles: Role[]) => { i++; out.push({ name, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, roles }); };
  for (let n = 0; n < etcd; n++) add(`etcd-${n}`, ['etcd']);
  for (let n = 0; n < masters; n++) add(`master-${n}`, ['master']);
  for (let n = 0; n < workers; n++) add(`worker-${n}`, ['worker']);
  return out;
}

// 1. Preflight per node.
{
  const nodes = 10_000;
  const p = plan();
  const latency = Array.from({ length: 11 }, (_, k) => ({ target: { node_name: `peer-${k}`, address: `10.0.1.${k}`, port: 7444 }, median_ms: 0.4 + k / 10, tries: 5, error: '' }));
  const reach = Array.from({ length: 20 }, (_, k) => ({ target: { node_name: `peer-${k}`, address: `10.0.1.${k}`, port: 6443 }, source_address: '10.0.0.5', ok: k !== 3, error: k === 3 ? 'ECONNREFUSED' : '' }));
  const facts = Array.from({ length: 100 }, () => goodFacts());
  const hostnames = Array.from({ length: nodes }, (_, k) => ({ node: `n${k}`, hostname: `n${k}` }));
  let failed = 0;
  const t0 = performance.now();
  for (let k = 0; k < nodes; k++) {
    const r = runPreflight({ node: `n${k}`, roles: ['worker'], facts: facts[k % 100]!, plan: p, peers: { latency, reach }, clusterHostnames: k < 100 ? hostnames : undefined });
    if (!r.ok) failed++;
  }
  const ms = performance.now() - t0;
  console.log(`preflight: ${nodes} nodes in ${ms.toFixed(0)} ms = ${((ms / nodes) * 1000).toFixed(1)} us/node (${failed} failed, as built)`);
}

// 2. Probe plans for whole fleets.
for (const workers of [100, 1_000, 10_000]) {
  const members = fleet(5, 3, workers);
  const t0 = performance.now();
  const ring = buildProbeRing(members);
  let latency = 0;
  let reach = 0;
  let maxPerNode = 0;
  for (const m of members) {
    const pl = buildProbePlan(m.name, ring, { id: 1 });
    latency += pl.latency_targets.length;
    reach += pl.reach_targets.length;
    maxPerNode = Math.max(maxPerNode, pl.latency_targets.length + pl.reach_targets.length);
  }
  const ms = performance.now() - t0;
  console.log(`probe plans: ${members.length} nodes in ${ms.toFixed(0)} ms; latency targets ${latency} (${(latency / members.length).toFixed(1)}/node), reach targets ${reach} (${(reach / members.length).toFixed(1)}/node), max ${maxPerNode} per node`);
}

// 3. One probe round on loopback.
{
  const peers = 24;
  const agents = [];
  const latencyTargets = [];
  const reachTargets = [];
  for (let k = 0; k < peers; k++) {
    const host = `127.0.1.${k + 10}`;
    const a = await startProbeListener({ host, port: 0 });
    agents.push(a);
    latencyTargets.push({ node_name: `peer-${k}`, address: host, port: a.port });
  }
  // Per peer: its probe port twice (open) and port 1 (closed), as a real round mixes both.
  for (const t of latencyTargets) reachTargets.push(t, t, { ...t, port: 1 });
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    const res = await runProbePlan({ id: round, latency_targets: latencyTargets, reach_targets: reachTargets, timeout_ms: 1000 }, { sourceAddress: '127.0.1.1', listenHost: '127.0.1.1', holdListenersMs: 0 });
    const ms = performance.now() - t0;
    const medians = res.latency.map((l) => l.median_ms).sort((a, b) => a - b);
    console.log(`probe round ${round + 1}: ${peers} peers x 5 tries + ${reachTargets.length} reach in ${ms.toFixed(0)} ms; echo RTT median ${medians[medians.length >> 1]!.toFixed(3)} ms, max ${medians[medians.length - 1]!.toFixed(3)} ms; ${res.reach.filter((r) => !r.ok).length} unreachable`);
  }
  await Promise.all(agents.map((a) => a.close()));
}
