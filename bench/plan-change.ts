// The coordinator's state layer alone at fleet scale, in one process and timed in CPU: N nodes
// join (a real SQLite store, the cluster CAs, recomputes coalesced as in the coordinator), then
// one plan change touches every worker. Prints the CPU of the ApplyPlan call and of the wake-up
// that follows (every watcher's answer built as the agent service builds it and encoded as the
// wire encodes it), and the store's writes. No network and no simulator, so its figures move
// less with the machine's load than bench/fleet.ts's; `--cpu-prof` on the command line profiles it.
//
//   node bench/plan-change.ts [--nodes 10000] [--rounds 2] [--profile FILE.cpuprofile] [--profile-start FILE.cpuprofile]
//
// --profile writes a CPU profile of the plan-change rounds alone (not the joins before them).
// Then the state is closed and opened again from the same store, as a restarted coordinator
// does, and the time until its first recompute is done is printed (--profile-start profiles it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { ClusterState } from '../coordinator/state/cluster-state.ts';
import { SqliteStore } from '../coordinator/store/sqlite.ts';
import { ClusterCas } from '../coordinator/pki/cluster-cas.ts';
import { parseToken } from '../coordinator/trust/tokens.ts';
import { silentLogger } from '../shared/log/logger.ts';
import { toWireAssignment } from '../coordinator/server/assignment-wire.ts';
import { musterV1 } from '../shared/wire/proto.ts';
import { ip, nodeName as name } from './fleet-sim.ts';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '2' }, profile: { type: 'string' }, 'profile-start': { type: 'string' } } });
const N = Math.min(Math.max(2, Number(values.nodes)), 20_000);
const ROUNDS = Math.min(Math.max(1, Number(values.rounds)), 10);

function plan(label: string): string {
  const workers = Array.from({ length: N - 1 }, (_, k) => `    - { host: ${name(k + 1)}, ip: ${ip(k + 1)}${label ? `, labels: { wave: "${label}" }` : ''} }`).join('\n');
  return `cluster:
  name: fleet
  version: v1.36.3
  networking: { pod_cidr_block: 10.192.0.0/12, service_cidr_block: 172.17.0.0/16 }
  preflight: { ignore: [all] }
etcd: { expected_count: 1, nodes: [ { host: ${name(0)}, ip: ${ip(0)} } ] }
master: { expected_count: 1, nodes: [ { host: ${name(0)}, ip: ${ip(0)} } ] }
worker:
  expected_count: ${N - 1}
  nodes:
${workers}
`;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const dir = mkdtempSync(join(tmpdir(), 'muster-plan-change-'));
const log = silentLogger();
const store = new SqliteStore(join(dir, 'state.db'));
const s = await ClusterState.open({ store, logger: log, clusterCas: new ClusterCas({ dataDir: dir, log }) });
try {
  await s.applyPlan(plan(''), 'plan.yaml');
  const { token } = await s.tokens.create({ uses: 0, neverExpires: true, description: 'bench' });
  const { id, secret } = parseToken(token);
  let c0 = cpuMs();
  const joins = [];
  for (let i = 0; i < N; i++) {
    joins.push(s.nodes.join({ tokenId: id, tokenSecret: secret, name: name(i), machineId: `m-${i}`, address: ip(i), labels: {}, agentVersion: 'bench', keyId: `key-${i}`, sign: () => ({ certPem: `cert-${i}`, serial: `${i + 1}` }) }));
    if (joins.length >= 256) await Promise.all(joins.splice(0));
  }
  await Promise.all(joins);
  await s.idle();
  console.log(`plan-change bench: ${N} nodes; joins (state layer only, fake signatures): ${((cpuMs() - c0) / N).toFixed(3)} ms CPU per join; heap used ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB`);

  let woken: string[] = [];
  s.onAssignmentsChanged((names) => woken.push(...names));
  const Assignment = musterV1.Agent.service.WatchAssignment.responseSerialize;
  const session = values.profile ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  let gcMs = 0;
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) gcMs += e.duration;
  }).observe({ entryTypes: ['gc'] });
  for (let r = 1; r <= ROUNDS; r++) {
    woken = [];
    await new Promise((r) => setImmediate(r));
    const gc0 = gcMs;
    c0 = cpuMs();
    const w0 = performance.now();
    const res = await s.applyPlan(plan(String(r + 1)), `plan${r + 1}.yaml`);
    const applyCpu = cpuMs() - c0;
    const applyWall = performance.now() - w0;
    await new Promise((r) => setImmediate(r)); // gc entries are delivered on a later turn
    const applyGc = gcMs - gc0;
    await s.idle();
    c0 = cpuMs();
    let bytes = 0;
    for (const n of woken) {
      const a = s.assignments.get(n)!;
      bytes += Assignment({ changed: true, assignment: toWireAssignment(n, a), waiting_reason: '', probe_plan: null }).length;
    }
    const wakeCpu = cpuMs() - c0;
    console.log(`  round ${r}: ApplyPlan ${applyCpu.toFixed(0)} ms CPU (${applyWall.toFixed(0)} ms wall, ${applyGc.toFixed(0)} ms in GC), ${res.changedNodes.length} changed, ${res.nodeChanges.length} node changes returned; ${woken.length} watchers woken, their answers ${wakeCpu.toFixed(0)} ms CPU, ${(bytes / woken.length).toFixed(0)} bytes each`);
  }
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(values.profile!, JSON.stringify(profile));
    session.disconnect();
  }
  // A coordinator restart's state part: the same store opened again, until its first recompute
  // (waiting reasons, nodes changed while it was down) is done and it would answer agents.
  await s.close();
  await store.close();
  const startSession = values['profile-start'] ? new Session() : null;
  if (startSession) {
    startSession.connect();
    await startSession.post('Profiler.enable');
    await startSession.post('Profiler.start');
  }
  c0 = cpuMs();
  const w0 = performance.now();
  const store2 = new SqliteStore(join(dir, 'state.db'));
  const s2 = await ClusterState.open({ store: store2, logger: log, clusterCas: new ClusterCas({ dataDir: dir, log }) });
  const openWall = performance.now() - w0;
  await s2.idle();
  console.log(`  restart: state opened in ${openWall.toFixed(0)} ms wall, first recompute done at ${(performance.now() - w0).toFixed(0)} ms wall, ${(cpuMs() - c0).toFixed(0)} ms CPU in all; heap used ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB`);
  if (startSession) {
    const { profile } = await startSession.post('Profiler.stop');
    writeFileSync(values['profile-start']!, JSON.stringify(profile));
    startSession.disconnect();
  }
  await s2.close();
  await store2.close();
} finally {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
}
