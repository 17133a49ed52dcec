import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { selectProbeTargets, buildProbePlan, buildProbeRing, type ProbeMember } from '../../shared/probe/targets.ts';
import type { Role } from '../../shared/constants.ts';
import { addressBlock } from '../helpers/addresses.ts';

const net = addressBlock(import.meta.url);

function fleet(etcd: number, masters: number, workers: number): ProbeMember[] {
  const out: ProbeMember[] = [];
  let ip = 1;
  const add = (name: string, roles: Role[]) => out.push({ name, address: `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip++ & 255}`, roles });
  for (let i = 0; i < etcd; i++) add(`etcd-${i}`, ['etcd']);
  for (let i = 0; i < masters; i++) add(`master-${i}`, ['master']);
  for (let i = 0; i < workers; i++) add(`worker-${i}`, ['worker']);
  return out;
}

test('every node probes all etcd and master members plus k workers, never itself', () => {
  const members = fleet(3, 2, 50);
  for (const self of ['etcd-0', 'master-1', 'worker-7']) {
    const t = selectProbeTargets(self, members, { workerSample: 4 });
    const names = t.map((m) => m.name);
    assert.not.ok(names.includes(self));
    assert.equal(names.filter((n) => !n.startsWith('worker-')), ['etcd-0', 'etcd-1', 'etcd-2', 'master-0', 'master-1'].filter((n) => n !== self));
    assert.is(names.filter((n) => n.startsWith('worker-')).length, 4);
    assert.is(new Set(names).size, names.length);
  }
});

test('deterministic: same membership (any order), same targets', () => {
  const members = fleet(3, 2, 100);
  const a = selectProbeTargets('worker-3', members).map((m) => m.name);
  const b = selectProbeTargets('worker-3', [...members].reverse()).map((m) => m.name);
  assert.equal(a, b);
});

test('bounded per node and linear in total; every worker is probed by at least k peers', () => {
  const k = 3;
  for (const workers of [10, 200, 2000]) {
    const members = fleet(5, 3, workers);
    const ring = buildProbeRing(members);
    const probedBy = new Map<string, number>();
    let total = 0;
    for (const m of members) {
      const t = selectProbeTargets(m.name, ring, { workerSample: k });
      assert.ok(t.length <= 5 + 3 + k, `${m.name}: ${t.length} targets`);
      total += t.length;
      for (const x of t) probedBy.set(x.name, (probedBy.get(x.name) ?? 0) + 1);
    }
    assert.ok(total <= members.length * (5 + 3 + k), `total ${total}`);
    for (let i = 0; i < workers; i++) assert.ok((probedBy.get(`worker-${i}`) ?? 0) >= k, `worker-${i} probed by ${probedBy.get(`worker-${i}`)}`);
  }
});

test('a prebuilt ring gives the same answer as the member list; a node not in the fleet gets targets too', () => {
  const members = fleet(3, 1, 30);
  const ring = buildProbeRing(members);
  for (const self of ['etcd-1', 'worker-0', 'worker-29', 'newcomer']) {
    assert.equal(selectProbeTargets(self, ring), selectProbeTargets(self, members));
  }
  assert.is(selectProbeTargets('newcomer', ring).length, 4 + 3);
});

test('small fleets: fewer workers than k means all of them', () => {
  const members = fleet(1, 1, 2);
  assert.equal(selectProbeTargets('worker-0', members, { workerSample: 5 }).map((m) => m.name), ['etcd-0', 'master-0', 'worker-1']);
  assert.equal(selectProbeTargets('worker-0', members, { workerSample: 0 }).map((m) => m.name), ['etcd-0', 'master-0']);
});

const plain = (members: ProbeMember[], self: string, routed = false) => {
  const p = buildProbePlan(self, members, { id: 7, networking: routed ? 'routed' : 'overlay', timeoutMs: 800, workerSample: 5 });
  return { ...p, reach_targets: p.reach_targets.map((t) => `${t.node_name}:${t.port}`) };
};

const small: ProbeMember[] = [
  { name: 'e1', address: '10.0.0.1', roles: ['etcd'] },
  { name: 'm1', address: '10.0.0.2', roles: ['master'] },
  { name: 'w1', address: '10.0.0.3', roles: ['worker'] },
  { name: 'em', address: '10.0.0.4', roles: ['etcd', 'master'] },
];

test('buildProbePlan: which ports each role must reach (REFERENCE section 3)', () => {
  assert.equal(plain(small, 'w1'), {
    id: 7,
    latency_targets: [
      { node_name: 'e1', address: '10.0.0.1', port: 7444, sample: false },
      { node_name: 'em', address: '10.0.0.4', port: 7444, sample: false },
      { node_name: 'm1', address: '10.0.0.2', port: 7444, sample: false },
    ],
    listen_ports: [10250],
    reach_targets: ['em:6443', 'm1:6443'],
    timeout_ms: 800,
  });
  assert.equal(plain(small, 'e1').reach_targets, ['em:6443', 'em:2379', 'em:2380', 'm1:6443']);
  assert.equal(plain(small, 'e1').listen_ports, [2379, 2380]);
  assert.equal(plain(small, 'm1').reach_targets, ['e1:2379', 'em:6443', 'em:2379', 'em:10250', 'w1:10250']);
  assert.equal(plain(small, 'em').listen_ports, [6443, 2379, 2380, 10250]);
});

test('buildProbePlan: routed networking adds BGP between kubernetes nodes', () => {
  assert.equal(plain(small, 'w1', true).reach_targets, ['em:6443', 'em:179', 'm1:6443', 'm1:179']);
  assert.equal(plain(small, 'w1', true).listen_ports, [10250, 179]);
});

test('buildProbePlan: reported probe ports, sampled workers, and peers not listening for reach', () => {
  const members: ProbeMember[] = [
    { name: 'm', address: net.host(2), roles: ['etcd', 'master'], probePort: 40001, listening: false },
    { name: 'w1', address: net.host(3), roles: ['worker'], probePort: 40002 },
    { name: 'w2', address: net.host(4), roles: ['worker'], probePort: 0 },
  ];
  const w1 = buildProbePlan('w1', members, { id: 1 });
  // w2 reported no probe port: no latency target; the master is not listening: nothing to reach.
  assert.equal(w1.latency_targets, [{ node_name: 'm', address: net.host(2), port: 40001, sample: false }]);
  assert.equal(w1.reach_targets, []);
  const m = buildProbePlan('m', members, { id: 1 });
  assert.equal(m.latency_targets.map((t) => `${t.node_name}:${t.port}:${t.sample}`), ['w1:40002:true']);
  assert.equal(m.reach_targets.map((t) => `${t.node_name}:${t.port}:${t.sample}`).sort(), ['w1:10250:true', 'w2:10250:true']);
});

test.run();
