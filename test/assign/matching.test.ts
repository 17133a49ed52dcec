// Named plan nodes find their registered node by name, machine-id, hostname or any address.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeAssignments } from '../../coordinator/assign/index.ts';
import { input, makePlan, node, planNode, roleMap } from './helpers.ts';

const registered = [
  node('n1', 1, { machineId: 'aaaa', hostname: 'alpha', addresses: ['192.0.2.10', '10.9.0.1'] }),
  node('n2', 2, { machineId: 'bbbb', hostname: 'beta', addresses: ['192.0.2.20'] }),
];

const byKey: Array<[string, Partial<Parameters<typeof planNode>[1]> & { host: string }]> = [
  ['node name', { host: 'n1' }],
  ['machine-id', { host: 'aaaa' }],
  ['hostname', { host: 'alpha' }],
  ['primary address as ip', { host: 'unknown-host', ip: '192.0.2.10' }],
  ['second address as ip', { host: 'unknown-host', ip: '10.9.0.1' }],
  ['internal_ip', { host: 'unknown-host', internal_ip: '10.9.0.1' }],
  ['address as host', { host: '10.9.0.1' }],
];
for (const [key, entry] of byKey) {
  test(`a plan entry matches by ${key}`, () => {
    const plan = makePlan({ worker: { expected_count: 1, nodes: [planNode(entry.host, entry)] } });
    const out = computeAssignments(input(plan, registered));
    assert.equal(roleMap(out), { n1: 'worker' });
    assert.is(out.waiting.get('n2'), 'not named in the plan, which has no pools: name it under etcd, master or worker nodes, add a pool, or use muster node assign n2 --role ROLE');
  });
}

test('a stronger key wins over a weaker one (name over hostname)', () => {
  // n2's hostname is "n1": the entry "n1" still means the node named n1.
  const nodes = [node('n1', 1, { hostname: 'x' }), node('n2', 2, { hostname: 'n1' })];
  const plan = makePlan({ master: { expected_count: 1, nodes: [planNode('n1')] } });
  assert.equal(roleMap(computeAssignments(input(plan, nodes))), { n1: 'master' });
});

test('an entry matching two nodes equally matches neither and says so', () => {
  const nodes = [node('n1', 1, { hostname: 'same' }), node('n2', 2, { hostname: 'same' })];
  const plan = makePlan({ worker: { expected_count: 1, nodes: [planNode('same')] } });
  const out = computeAssignments(input(plan, nodes));
  assert.equal(roleMap(out), {});
  assert.ok(out.problems.some((p) => p.startsWith('worker.nodes[0] (host same) matches 2 registered nodes by hostname (n1, n2)')), out.problems.join('\n'));
});

test('of two equal matches, the one already holding the role keeps it', () => {
  const nodes = [node('n1', 1, { hostname: 'same' }), node('n2', 2, { hostname: 'same' })];
  const plan = makePlan({ worker: { expected_count: 1, nodes: [planNode('same')] } });
  const previous = new Map([['n2', { roles: ['worker' as const], podCidr: '172.16.0.0/26', pinned: false }]]);
  const out = computeAssignments(input(plan, nodes, previous));
  assert.equal(roleMap(out), { n2: 'worker' });
});

test('two entries naming one node: the second is reported, the node holds the role once', () => {
  const plan = makePlan({ worker: { expected_count: 2, nodes: [planNode('n1'), planNode('alpha')] } });
  const out = computeAssignments(input(plan, registered));
  assert.equal(roleMap(out), { n1: 'worker' });
  assert.ok(out.problems.some((p) => p.startsWith('worker.nodes[1] (host alpha) matches node n1, which worker.nodes[0] already names')), out.problems.join('\n'));
});

test('a named node that has not registered is reported by host, and its seat is kept from the pool', () => {
  const plan = makePlan({ etcd: { expected_count: 3, nodes: [planNode('n1'), planNode('later-1'), planNode('later-2')], pool: { selector: {}, min_cpus: 0, min_memory_bytes: 0, min_disk_bytes: 0 } } });
  const out = computeAssignments(input(plan, registered));
  assert.equal(roleMap(out), { n1: 'etcd' }, 'n2 must not take a seat reserved for a named node');
  assert.ok(out.problems.includes('etcd wants 3 nodes, 1 holds the role: named nodes have not registered yet: later-1, later-2; 1 free node qualifies for the pool'), out.problems.join('\n'));
});

test('one node named in several groups holds all those roles', () => {
  const plan = makePlan({
    etcd: { expected_count: 1, nodes: [planNode('n1')] },
    master: { expected_count: 1, nodes: [planNode('alpha')] },
    worker: { expected_count: 1, nodes: [planNode('n1')] },
  });
  const out = computeAssignments(input(plan, registered));
  assert.equal(roleMap(out), { n1: 'etcd+master+worker' });
  assert.equal(out.problems, []);
});

test('a newcomer named like the entry (a machine-id, an address) does not take the role from the node that holds it', () => {
  for (const host of ['aaaa', '192.0.2.10']) {
    const victim = node('victim', 1, { machineId: 'aaaa', addresses: ['192.0.2.10'] });
    const attacker = node(host, 2, { machineId: 'zzzz', addresses: ['192.0.2.99'] });
    const plan = makePlan({ etcd: { expected_count: 1, nodes: [planNode(host)] }, master: { expected_count: 1, nodes: [planNode(host)] } });
    const before = computeAssignments(input(plan, [victim]));
    assert.equal(roleMap(before), { victim: 'etcd+master' });
    const after = computeAssignments(input(plan, [victim, attacker], before.state));
    assert.equal(roleMap(after), { victim: 'etcd+master' }, host);
    assert.ok(after.problems.some((p) => p.includes(`but node victim (matched by `) && p.includes('holds the role and keeps it')), after.problems.join('\n'));
  }
});

test.run();
