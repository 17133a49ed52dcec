// Pools: who qualifies, in which order they are taken, zone spreading, and the etcd ceiling.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeAssignments, ZONE_LABEL } from '../../coordinator/assign/index.ts';
import { input, makePlan, node, nodes, planNode, pool, roleMap } from './helpers.ts';

const GiB = 2 ** 30;

const qualifying: Array<[string, Parameters<typeof pool>[0], Partial<Parameters<typeof node>[2]>, string]> = [
  ['selector label missing', { selector: { tier: 'big' } }, {}, 'worker pool: lacks label tier=big'],
  ['selector label differs', { selector: { tier: 'big' } }, { labels: { tier: 'small' } }, 'worker pool: label tier is "small", the pool selects "big"'],
  ['too few cpus', { min_cpus: 8 }, { cpus: 4 }, 'worker pool: cpus 4 < 8'],
  ['cpus unknown', { min_cpus: 2 }, { cpus: 0 }, 'worker pool: cpus not reported (pool needs 2)'],
  ['too little memory', { min_memory_bytes: 16 * GiB }, { memoryBytes: 8 * GiB }, 'worker pool: memory 8.0 GiB < 16.0 GiB'],
  ['too little disk', { min_disk_bytes: 200 * GiB }, { varLibDiskBytes: 100 * GiB }, 'worker pool: /var/lib disk 100.0 GiB < 200.0 GiB'],
  ['disk unknown', { min_disk_bytes: GiB }, { varLibDiskBytes: 0 }, 'worker pool: /var/lib disk not reported (pool needs 1.0 GiB)'],
];
for (const [what, spec, nodeExtra, reason] of qualifying) {
  test(`pool: a node does not qualify when ${what}`, () => {
    const plan = makePlan({ worker: { expected_count: 1, nodes: [], pool: pool(spec) } });
    const out = computeAssignments(input(plan, [node('n1', 1, nodeExtra)]));
    assert.equal(roleMap(out), {});
    assert.is(out.waiting.get('n1'), `not named in the plan; ${reason}`);
    assert.ok(out.problems.some((p) => p.startsWith('worker wants 1 node, 0 hold the role: none of the 1 free nodes qualifies for the pool (e.g. n1: ')), out.problems.join('\n'));
  });
}

test('pool: a node meeting every requirement exactly qualifies', () => {
  const spec = pool({ selector: { tier: 'big', rack: 'r1' }, min_cpus: 4, min_memory_bytes: 8 * GiB, min_disk_bytes: 100 * GiB });
  const plan = makePlan({ worker: { expected_count: 1, nodes: [], pool: spec } });
  const out = computeAssignments(input(plan, [node('n1', 1, { labels: { tier: 'big', rack: 'r1', extra: 'x' } })]));
  assert.equal(roleMap(out), { n1: 'worker' });
  assert.equal(out.problems, []);
});

test('pool: fills expected_count minus named nodes, in join order then name', () => {
  const registered = [node('c', 3), node('b', 1, { joinedAtMs: 5 }), node('a', 2, { joinedAtMs: 5 }), node('named', 4)];
  const plan = makePlan({ worker: { expected_count: 3, nodes: [planNode('named')], pool: pool() } });
  const out = computeAssignments(input(plan, registered));
  assert.equal(roleMap(out), { a: 'worker', b: 'worker', named: 'worker' });
  assert.is(out.waiting.get('c'), 'not named in the plan; worker pool is full (3 of 3 seats taken or kept for named nodes)');
});

test('pool: a node taken by one pool is not taken by another; etcd picks first', () => {
  const plan = makePlan({
    etcd: { expected_count: 1, nodes: [], pool: pool() },
    master: { expected_count: 1, nodes: [], pool: pool() },
    worker: { expected_count: 5, nodes: [], pool: pool() },
  });
  const out = computeAssignments(input(plan, nodes('n', 4)));
  assert.equal(roleMap(out), { 'n-000': 'etcd', 'n-001': 'master', 'n-002': 'worker', 'n-003': 'worker' });
  assert.ok(out.problems.includes('worker wants 5 nodes, 2 hold the role: the pool has no free registered node to take'), out.problems.join('\n'));
});

test('pool: nodes named anywhere in the plan are not pool candidates', () => {
  const plan = makePlan({ etcd: { expected_count: 1, nodes: [planNode('n-000')] }, worker: { expected_count: 1, nodes: [], pool: pool() } });
  assert.equal(roleMap(computeAssignments(input(plan, nodes('n', 2)))), { 'n-000': 'etcd', 'n-001': 'worker' });
});

test('zones: etcd and master pool members spread round-robin across zones', () => {
  // Join order puts all of zone a first; spreading must still take one from each zone.
  const registered = [
    ...nodes('a', 3, 0, { labels: { [ZONE_LABEL]: 'zone-a' } }),
    ...nodes('b', 3, 3, { labels: { [ZONE_LABEL]: 'zone-b' } }),
    ...nodes('c', 3, 6, { labels: { [ZONE_LABEL]: 'zone-c' } }),
  ];
  const plan = makePlan({ etcd: { expected_count: 3, nodes: [], pool: pool() }, master: { expected_count: 4, nodes: [], pool: pool() }, worker: { expected_count: 2, nodes: [], pool: pool() } });
  const out = computeAssignments(input(plan, registered));
  assert.equal(roleMap(out), {
    'a-000': 'etcd', 'b-003': 'etcd', 'c-006': 'etcd',
    'a-001': 'master', 'b-004': 'master', 'c-007': 'master', 'a-002': 'master',
    'b-005': 'worker', 'c-008': 'worker', // workers are not spread: pool order
  });
});

test('zones: spreading counts current members, so a new pick goes to the emptiest zone', () => {
  const registered = [
    node('a1', 1, { labels: { [ZONE_LABEL]: 'a' } }),
    node('a2', 2, { labels: { [ZONE_LABEL]: 'a' } }),
    node('b1', 3, { labels: { [ZONE_LABEL]: 'b' } }),
    node('c1', 4, { labels: { [ZONE_LABEL]: 'c' } }),
  ];
  const plan = makePlan({ master: { expected_count: 3, nodes: [planNode('a1'), planNode('b1')], pool: pool() } });
  assert.equal(roleMap(computeAssignments(input(plan, registered))), { a1: 'master', b1: 'master', c1: 'master' });
});

test('zones: nodes without the label lose ties to labeled zones', () => {
  const registered = [node('u1', 1), node('u2', 2), node('z1', 3, { labels: { [ZONE_LABEL]: 'z' } })];
  const plan = makePlan({ etcd: { expected_count: 1, nodes: [], pool: pool() } });
  assert.equal(roleMap(computeAssignments(input(plan, registered))), { z1: 'etcd' });
});

test('etcd: never more members than the count, even when named nodes and overrides ask for more', () => {
  const plan = makePlan({ etcd: { expected_count: 3, nodes: [planNode('n-000'), planNode('n-001'), planNode('n-002'), planNode('n-003')], pool: pool() } });
  const overrides = new Map([['n-004', ['etcd' as const]]]);
  const out = computeAssignments(input(plan, nodes('n', 6), new Map(), overrides));
  const etcd = [...out.state].filter(([, s]) => s.roles.includes('etcd')).map(([n]) => n);
  assert.equal(etcd, ['n-000', 'n-001', 'n-004'], 'the pinned node first, then named nodes in join order');
  assert.is(out.waiting.get('n-002'), 'etcd has all 3 members the plan allows (n-004, n-000, n-001): take the role from a member first (muster node assign NAME --role ...) or raise etcd.expected_count');
  assert.ok(out.problems.includes('etcd: 5 nodes would hold the role but etcd.expected_count is 3; n-002, n-003 do not join (members: n-004, n-000, n-001)'), out.problems.join('\n'));
});

test('etcd: current members keep their seats over newly named nodes', () => {
  const plan = makePlan({ etcd: { expected_count: 1, nodes: [planNode('n-001')], pool: pool() } });
  const previous = new Map([['n-000', { roles: ['etcd' as const], podCidr: '', pinned: false }]]);
  const out = computeAssignments(input(plan, nodes('n', 2), previous));
  assert.equal(roleMap(out), { 'n-000': 'etcd' });
  assert.match(out.waiting.get('n-001')!, /^etcd has all 1 members the plan allows \(n-000\)/);
});

test('etcd: shrinking the count drops the latest-joined pool members, keeps the rest', () => {
  const plan3 = makePlan({ etcd: { expected_count: 3, nodes: [], pool: pool() } });
  const first = computeAssignments(input(plan3, nodes('n', 5)));
  assert.equal(Object.keys(roleMap(first)), ['n-000', 'n-001', 'n-002']);
  const plan1 = makePlan({ etcd: { expected_count: 1, nodes: [], pool: pool() } });
  const second = computeAssignments(input(plan1, nodes('n', 5), first.state));
  assert.equal(roleMap(second), { 'n-000': 'etcd' });
});

test.run();
