// coordinator/assign/etcd-formation.ts: etcd's first members get their assignments together, or
// not at all (members that bootstrap apart form separate clusters), and once the cluster exists
// nothing waits. Plus the state layer: with three etcd nodes expected, the first two to join hold
// no body and say why; the third's join gives all three theirs in one recompute.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { etcdFormationHolds } from '../../coordinator/assign/etcd-formation.ts';

test('while etcd is forming, members wait until all expected ones are known', () => {
  const h = etcdFormationHolds({ expected: 3, formed: false, members: ['b', 'a'] });
  assert.equal([...h.keys()].sort(), ['a', 'b']);
  assert.is(h.get('a'), 'etcd forms its cluster when all 3 members the plan expects are known; 2 so far (a, b): start the others, or lower etcd.expected_count');
});

test('all expected members known: nothing waits', () => {
  assert.is(etcdFormationHolds({ expected: 3, formed: false, members: ['a', 'b', 'c'] }).size, 0);
});

test('a formed cluster never waits (a later member is a change to a running cluster)', () => {
  assert.is(etcdFormationHolds({ expected: 5, formed: true, members: ['a', 'b', 'c', 'd'] }).size, 0);
});

test('no etcd members: nothing to hold', () => {
  assert.is(etcdFormationHolds({ expected: 3, formed: false, members: [] }).size, 0);
});

test.run();
