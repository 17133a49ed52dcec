// Pod CIDR blocks: one per master/worker, lowest free first, kept for the node's life, never
// handed out twice, reused only after the holder is removed; running out makes nodes wait.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeAssignments, type AssignOutput, type NodeAssignmentState, type RegisteredNode } from '../../coordinator/assign/index.ts';
import { input, makePlan, node, nodes, planNode, pool, roleMap } from './helpers.ts';

const workers = (count: number, cidr = '172.16.0.0/16', size = 64) =>
  makePlan({ cluster: { networking: { pod_cidr_block: cidr, pod_block_size: size } }, worker: { expected_count: count, nodes: [], pool: pool() } });
const blocks = (out: AssignOutput) => Object.fromEntries([...out.state].map(([n, s]) => [n, s.podCidr]));

test('blocks are /26s of the pod CIDR, lowest first, in join order', () => {
  const out = computeAssignments(input(workers(3), nodes('n', 3)));
  assert.equal(blocks(out), { 'n-000': '172.16.0.0/26', 'n-001': '172.16.0.64/26', 'n-002': '172.16.0.128/26' });
  assert.is(out.assignments.get('n-002')!.pod_cidr, '172.16.0.128/26');
});

test('masters get blocks, etcd-only nodes do not', () => {
  const plan = makePlan({ etcd: { expected_count: 1, nodes: [planNode('e')] }, master: { expected_count: 1, nodes: [planNode('m')] } });
  const out = computeAssignments(input(plan, [node('e', 1), node('m', 2)]));
  assert.equal(blocks(out), { e: '', m: '172.16.0.0/26' });
  assert.is(out.assignments.get('e')!.pod_cidr, '');
});

test('a removed node frees its block for the next node; a node that lost its roles keeps its block', () => {
  const plan = workers(3);
  const first = computeAssignments(input(plan, nodes('n', 3)));
  // n-001 is removed (not registered anymore, dropped from previous by the lead); a new node joins.
  const afterRemove = [nodes('n', 3)[0]!, nodes('n', 3)[2]!, node('new', 50)];
  const previous = new Map([...first.state].filter(([n]) => n !== 'n-001'));
  const second = computeAssignments(input(plan, afterRemove, previous));
  assert.equal(blocks(second), { 'n-000': '172.16.0.0/26', 'n-002': '172.16.0.128/26', new: '172.16.0.64/26' });

  // n-002 is pinned to no role: it keeps its block, and nobody else gets it.
  const third = computeAssignments(input(workers(4), [...afterRemove, node('newer', 60)], second.state, new Map([['n-002', []]])));
  assert.is(third.state.get('n-002')!.podCidr, '172.16.0.128/26');
  assert.equal(third.state.get('n-002')!.roles, []);
  assert.is(third.state.get('newer')!.podCidr, '172.16.0.192/26');
});

test('stale state of a node that is no longer registered does not hold a block', () => {
  const previous = new Map<string, NodeAssignmentState>([['gone', { roles: ['worker'], podCidr: '172.16.0.0/26', pinned: false }]]);
  const out = computeAssignments(input(workers(1), [node('n', 1)], previous));
  assert.equal(blocks(out), { n: '172.16.0.0/26' });
});

test('exhaustion: nodes past the last block wait with a reason naming the range and the fix', () => {
  const out = computeAssignments(input(workers(5, '172.16.0.0/24', 64), nodes('n', 5)));
  assert.equal(Object.keys(roleMap(out)), ['n-000', 'n-001', 'n-002', 'n-003']);
  const reason = 'all 4 pod blocks of 64 addresses in cluster.networking.pod_cidr_block 172.16.0.0/24 are in use: widen the pod CIDR (muster plan apply --force) or remove nodes (muster node remove NAME)';
  assert.is(out.waiting.get('n-004'), reason);
  assert.ok(out.problems.includes(`1 node waits for a pod block (n-004): ${reason}`), out.problems.join('\n'));
  assert.ok(out.problems.includes('worker wants 5 nodes, 4 hold the role: 1 node it would hold waits for a pod block'), out.problems.join('\n'));
  assert.not.ok(out.state.has('n-004'));
});

test('exhaustion: an etcd+worker node without a block stays an etcd member', () => {
  const plan = makePlan({
    cluster: { networking: { pod_cidr_block: '172.16.0.0/26', pod_block_size: 64 } },
    etcd: { expected_count: 1, nodes: [planNode('b')] },
    worker: { expected_count: 2, nodes: [planNode('a'), planNode('b')] },
  });
  const out = computeAssignments(input(plan, [node('a', 1), node('b', 2)]));
  assert.equal(roleMap(out), { a: 'worker', b: 'etcd' });
  assert.ok(out.problems.some((p) => p.startsWith('1 node waits for a pod block (b)')));
});

test('a block size that does not fit the range makes nodes wait with the field to fix', () => {
  const out = computeAssignments(input(workers(1, '172.16.0.0/28', 64), [node('n', 1)]));
  assert.is(out.waiting.get('n'), 'cluster.networking.pod_block_size 64 does not split pod_cidr_block 172.16.0.0/28 into blocks (it must be a power of two no larger than the range): fix the plan');
});

test('stored blocks outside the pod CIDR, or held twice, are replaced and reported', () => {
  const previous = new Map<string, NodeAssignmentState>([
    ['n-000', { roles: ['worker'], podCidr: '10.99.0.0/26', pinned: false }],
    ['n-001', { roles: ['worker'], podCidr: '172.16.0.64/26', pinned: false }],
    ['n-002', { roles: ['worker'], podCidr: '172.16.0.64/26', pinned: false }],
    ['n-003', { roles: ['worker'], podCidr: '172.16.0.32/27', pinned: false }],
  ]);
  const out = computeAssignments(input(workers(4), nodes('n', 4), previous));
  assert.equal(blocks(out), { 'n-000': '172.16.0.0/26', 'n-001': '172.16.0.64/26', 'n-002': '172.16.0.128/26', 'n-003': '172.16.0.192/26' });
  assert.ok(out.problems.some((p) => p.startsWith('2 stored pod blocks are not 64-address blocks of cluster.networking.pod_cidr_block 172.16.0.0/16 and were released') && p.includes('n-000 (10.99.0.0/26), n-003 (172.16.0.32/27)')), out.problems.join('\n'));
  assert.ok(out.problems.some((p) => p.includes('the later one gets a new block: n-002 (172.16.0.64/26)')), out.problems.join('\n'));
});

test('random joins and removals over 200 rounds never hand one block to two live nodes', () => {
  const plan = workers(1000, '172.16.0.0/22', 64); // 16 blocks for up to 20 live nodes: exhaustion happens
  let live: RegisteredNode[] = [];
  let state = new Map<string, NodeAssignmentState>();
  const held = new Map<string, string>(); // node -> the block it first got
  let seed = 7;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  let joined = 0;
  for (let round = 0; round < 200; round++) {
    if (live.length < 20 && rand(3) !== 0) live.push(node(`r${joined}`, joined++));
    else if (live.length) live.splice(rand(live.length), 1);
    const names = new Set(live.map((n) => n.name));
    const out = computeAssignments(input(plan, live, new Map([...state].filter(([n]) => names.has(n)))));
    const seen = new Map<string, string>();
    for (const [name, s] of out.state) {
      if (!s.podCidr) continue;
      assert.not.ok(seen.has(s.podCidr), `round ${round}: ${s.podCidr} held by ${seen.get(s.podCidr)} and ${name}`);
      seen.set(s.podCidr, name);
      const first = held.get(name);
      if (first) assert.is(s.podCidr, first, `round ${round}: ${name} moved from ${first}`);
      else held.set(name, s.podCidr);
    }
    assert.is(seen.size, Math.min(16, live.length), `round ${round}`);
    state = out.state;
  }
});

test.run();
