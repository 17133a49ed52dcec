// Determinism and stability: same input in any order gives byte-identical output; feeding the
// state back changes nothing; new nodes never move roles; only overrides do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeAssignments, ZONE_LABEL, type AssignOutput, type NodeAssignmentState } from '../../coordinator/assign/index.ts';
import type { Plan } from '../../shared/plan/types.ts';
import { input, makePlan, node, nodes, planNode, pool, roleMap, serialize, shuffled } from './helpers.ts';

function fleetPlan(hosts = false): Plan {
  return makePlan({
    cluster: { networking: { update_hosts_files: hosts } },
    etcd: { expected_count: 3, nodes: [], pool: pool({ selector: { role: 'control' } }) },
    master: { expected_count: 2, nodes: [planNode('m1', { ip: '192.0.2.1', labels: { team: 'core' } }), planNode('m2', { ip: '192.0.2.2' })], pool: null, load_balancer: 'lb.example:6443' },
    worker: { expected_count: 25, nodes: [planNode('m1')], pool: pool({ min_cpus: 2 }) },
  });
}

function fleet(): ReturnType<typeof nodes> {
  const zones = ['a', 'b', 'c'];
  return [
    node('m1', 0),
    node('m2', 1),
    ...nodes('ctl', 6, 2).map((n, i) => ({ ...n, labels: { role: 'control', [ZONE_LABEL]: zones[i % 3]! } })),
    ...nodes('w', 24, 8).map((n, i) => ({ ...n, cpus: i % 5 === 0 ? 1 : 4 })),
  ];
}

const restate = (out: AssignOutput): Map<string, NodeAssignmentState> => new Map(JSON.parse(JSON.stringify([...out.state])));

test('same input twice, and in shuffled orders, gives byte-identical output', () => {
  const plan = fleetPlan(true);
  const base = computeAssignments(input(plan, fleet()));
  const text = serialize(base);
  assert.is(serialize(computeAssignments(input(plan, fleet()))), text);
  for (let seed = 1; seed <= 20; seed++) {
    const prev = new Map(shuffled([...base.state], seed));
    assert.is(serialize(computeAssignments(input(plan, shuffled(fleet(), seed)))), text, `seed ${seed}`);
    assert.is(serialize(computeAssignments(input(plan, shuffled(fleet(), seed), prev))), text, `seed ${seed} with previous`);
  }
});

test('bodies are plain objects with sorted keys at every level', () => {
  const out = computeAssignments(input(fleetPlan(true), fleet()));
  const check = (v: unknown, path: string): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => check(x, `${path}[${i}]`));
    if (v && typeof v === 'object') {
      assert.is(Object.getPrototypeOf(v), Object.prototype, path);
      const keys = Object.keys(v);
      assert.equal(keys, [...keys].sort(), `${path} keys sorted`);
      for (const k of keys) check((v as Record<string, unknown>)[k], `${path}.${k}`);
    }
  };
  assert.ok(out.assignments.size > 0, 'bodies to check');
  for (const [name, body] of out.assignments) check(body, name);
  for (const [name, s] of out.state) assert.equal(Object.keys(s), ['pinned', 'podCidr', 'roles'], name);
  assert.equal([...out.assignments.keys()], [...out.assignments.keys()].sort());
});

test('restart: feeding the state back as previous changes nothing', () => {
  const plan = fleetPlan(true);
  const first = computeAssignments(input(plan, fleet()));
  const second = computeAssignments(input(plan, fleet(), restate(first)));
  assert.is(serialize(second), serialize(first));
  const third = computeAssignments(input(plan, fleet(), restate(second)));
  assert.is(serialize(third), serialize(first));
  assert.equal(Object.values(roleMap(first)).filter((r) => r.includes('etcd')).length, 3);
  // 2 masters, 3 etcd, and 22 pool workers: 3 spare control nodes and the 19 w nodes with 2+ cpus.
  assert.is(first.assignments.size, 2 + 3 + 22);
  assert.ok(first.problems.includes('worker wants 25 nodes, 23 hold the role: none of the 5 free nodes qualifies for the pool (e.g. w-008: cpus 1 < 2)'), first.problems.join('\n'));
});

for (const hosts of [false, true]) {
  test(`adding workers changes no existing body${hosts ? ' except hosts_entries' : ''} (update_hosts_files ${hosts})`, () => {
    const plan = fleetPlan(hosts);
    const before = computeAssignments(input(plan, fleet()));
    const more = [...fleet(), ...nodes('late', 5, 100)];
    const after = computeAssignments(input(plan, more, restate(before)));
    for (const [name, body] of before.assignments) {
      const now = after.assignments.get(name)!;
      assert.ok(now, name);
      const strip = (b: typeof body) => JSON.stringify({ ...b, hosts_entries: [] });
      assert.is(strip(now), strip(body), name);
      if (!hosts) assert.is(JSON.stringify(now), JSON.stringify(body), name);
      else assert.is(now.hosts_entries.length, after.assignments.size);
      assert.equal(after.state.get(name), before.state.get(name), name);
    }
    assert.equal(Object.keys(roleMap(after)).filter((n) => n.startsWith('late')), ['late-100', 'late-101']);
  });
}

test('stability: a node keeps its pool role when a newer pool order would pick another', () => {
  const plan = makePlan({ worker: { expected_count: 2, nodes: [], pool: pool({ selector: { ok: 'yes' } }) } });
  const first = computeAssignments(input(plan, [node('b', 5, { labels: { ok: 'yes' } }), node('c', 6, { labels: { ok: 'yes' } })]));
  assert.equal(roleMap(first), { b: 'worker', c: 'worker' });
  // An earlier-joined node appears (clock skew, re-registration) and c stops matching the selector.
  const later = [node('a', 1, { labels: { ok: 'yes' } }), node('b', 5, { labels: { ok: 'yes' } }), node('c', 6, { labels: {} })];
  const second = computeAssignments(input(plan, later, first.state));
  assert.equal(roleMap(second), { b: 'worker', c: 'worker' });
  assert.match(second.waiting.get('a')!, /worker pool is full \(2 of 2/);
  // Without that history the order would pick a and b: the test above is not vacuous.
  assert.equal(roleMap(computeAssignments(input(plan, later))), { a: 'worker', b: 'worker' });
});

test('a role in a group without a pool ends when the plan stops naming the node', () => {
  const named = makePlan({ worker: { expected_count: 2, nodes: [planNode('a'), planNode('b')] } });
  const first = computeAssignments(input(named, [node('a', 1), node('b', 2)]));
  const shorter = makePlan({ worker: { expected_count: 1, nodes: [planNode('a')] } });
  const second = computeAssignments(input(shorter, [node('a', 1), node('b', 2)], first.state));
  assert.equal(roleMap(second), { a: 'worker' });
  assert.equal(second.state.get('b'), { pinned: false, podCidr: '172.16.0.64/26', roles: [] }, 'b keeps its block until removed');
});

test('a plan that grows the worker pool never moves existing roles', () => {
  const small = makePlan({ worker: { expected_count: 2, nodes: [], pool: pool() } });
  const first = computeAssignments(input(small, nodes('n', 6)));
  const big = makePlan({ worker: { expected_count: 4, nodes: [], pool: pool() } });
  const second = computeAssignments(input(big, nodes('n', 6), first.state));
  assert.equal(roleMap(second), { 'n-000': 'worker', 'n-001': 'worker', 'n-002': 'worker', 'n-003': 'worker' });
  for (const n of ['n-000', 'n-001']) assert.is(JSON.stringify(second.assignments.get(n)), JSON.stringify(first.assignments.get(n)));
});

test('overrides replace roles and pin the node; removing the override keeps the roles', () => {
  const plan = makePlan({ etcd: { expected_count: 1, nodes: [] }, master: { expected_count: 1, nodes: [planNode('a')] }, worker: { expected_count: 2, nodes: [], pool: pool() } });
  const registered = nodes('n', 3).concat(node('a', 10));
  const first = computeAssignments(input(plan, registered));
  assert.equal(roleMap(first), { a: 'master', 'n-000': 'worker', 'n-001': 'worker' });

  const pinned = new Map([['a', ['master' as const, 'worker' as const]], ['n-000', ['etcd' as const]], ['n-002', []]]);
  const second = computeAssignments(input(plan, registered, first.state, pinned));
  assert.equal(roleMap(second), { a: 'master+worker', 'n-000': 'etcd', 'n-001': 'worker' });
  assert.equal(second.state.get('a'), { pinned: true, podCidr: '172.16.0.128/26', roles: ['master', 'worker'] });
  assert.equal(second.state.get('n-000'), { pinned: true, podCidr: '172.16.0.0/26', roles: ['etcd'] }, 'n-000 keeps its block');
  assert.is(second.assignments.get('n-000')!.pod_cidr, '', 'an etcd-only body has no pod CIDR');
  assert.is(second.waiting.get('n-002'), 'an operator assigned it no role: give it roles with muster node assign n-002 --role ROLE');
  assert.equal(second.assignments.get('a')!.taints, [], 'a master that is also a worker is not tainted');

  // The operator drops the overrides: roles in pooled groups stay where they are (a keeps worker,
  // so n-002 is not picked); etcd has no pool and the plan does not name n-000, so that role ends.
  const third = computeAssignments(input(plan, registered, second.state));
  assert.equal(roleMap(third), { a: 'master+worker', 'n-001': 'worker' });
  assert.equal(third.state.get('a')!.pinned, false);
});

test.run();
