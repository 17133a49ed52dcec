// checkPlanChange: plan edits that would break a running cluster are named with their field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkPlanChange, type NodeAssignmentState } from '../../coordinator/assign/index.ts';
import type { Role } from '../../shared/constants.ts';
import { makePlan, planNode, pool } from './helpers.ts';

const running = (entries: Array<[string, Role[], string]>) =>
  new Map<string, NodeAssignmentState>(entries.map(([n, roles, podCidr]) => [n, { roles, podCidr, pinned: false }]));

const etcd5 = running([['e1', ['etcd'], ''], ['e2', ['etcd'], ''], ['e3', ['etcd'], ''], ['e4', ['etcd'], ''], ['e5', ['etcd'], ''], ['m1', ['master'], '172.16.0.0/26']]);
const cluster = (etcd: number, extra: Parameters<typeof makePlan>[0] = {}) =>
  makePlan({ ...extra, etcd: { expected_count: etcd, nodes: [], pool: pool() }, master: { expected_count: 1, nodes: [planNode('m1')], ...extra.master } });

test('an unchanged plan, and safe changes, give no reasons', () => {
  assert.equal(checkPlanChange(cluster(5), cluster(5), etcd5), []);
  assert.equal(checkPlanChange(cluster(5), cluster(3), etcd5), [], '5 -> 3 keeps quorum of 5');
  assert.equal(checkPlanChange(cluster(3), cluster(5), etcd5), [], 'growing is safe');
  assert.equal(checkPlanChange(cluster(5), cluster(1, { cluster: { networking: { pod_cidr_block: '10.0.0.0/8' } } }), new Map()), [], 'nothing runs yet');
});

test('etcd: shrinking below quorum of the current members', () => {
  assert.equal(checkPlanChange(cluster(5), cluster(1), etcd5), [
    'etcd.expected_count: 5 -> 1 is below the quorum (3) of the 5 current members (e1, e2, e3, e4, e5); etcd would stop: shrink by one member at a time (muster node assign NAME --role ...), or use --force',
  ]);
});

test('etcd: shrinking to an even count', () => {
  assert.equal(checkPlanChange(cluster(5), cluster(4), etcd5), [
    'etcd.expected_count: 5 -> 4 is an even count, which survives no more failures than 3: use 3 or 5, or use --force',
  ]);
});

test('etcd: to zero while members run', () => {
  const r = checkPlanChange(cluster(5), cluster(0), etcd5);
  assert.is(r.length, 1);
  assert.match(r[0]!, /^etcd\.expected_count: 5 -> 0 is below the quorum \(3\)/);
});

const networkChanges: Array<[string, Parameters<typeof makePlan>[0], RegExp]> = [
  ['pod_cidr_block', { cluster: { networking: { pod_cidr_block: '10.32.0.0/12' } } }, /^cluster\.networking\.pod_cidr_block: 172\.16\.0\.0\/16 -> 10\.32\.0\.0\/12 while 1 node holds a pod block \(m1\); .*--force/],
  ['pod_block_size', { cluster: { networking: { pod_block_size: 256 } } }, /^cluster\.networking\.pod_block_size: 64 -> 256 while 1 node holds a pod block \(m1\); .*keep 64, or use --force$/],
  ['service_cidr_block', { cluster: { networking: { service_cidr_block: '10.96.0.0/12' } } }, /^cluster\.networking\.service_cidr_block: 172\.17\.0\.0\/16 -> 10\.96\.0\.0\/12 while 1 node holds a pod block \(m1\); .*--force$/],
];
for (const [field, change, want] of networkChanges) {
  test(`${field} change while nodes hold pod blocks`, () => {
    const r = checkPlanChange(cluster(5), cluster(5, change), etcd5);
    assert.is(r.length, 1, r.join('\n'));
    assert.match(r[0]!, want);
    const noBlocks = running([['e1', ['etcd'], '']]);
    assert.equal(checkPlanChange(cluster(5), cluster(5, change), noBlocks), [], 'allowed while no node holds a block');
  });
}

test('the same CIDR written differently is not a change', () => {
  assert.equal(checkPlanChange(cluster(5), cluster(5, { cluster: { networking: { pod_cidr_block: ' 172.16.0.0/16' } } }), etcd5), []);
});

test('etcd: removing the pool while its members run, unless enough nodes are named', () => {
  const named = (hosts: string[]) => makePlan({ etcd: { expected_count: 5, nodes: hosts.map((h) => planNode(h)), pool: null }, master: { expected_count: 1, nodes: [planNode('m1')] } });
  assert.equal(checkPlanChange(cluster(5), named(['e1']), etcd5), [
    'etcd.pool: removing the pool leaves 1 named node for 5 current members (e1, e2, e3, e4, e5); members not named lose the role and etcd loses quorum: name the current members under etcd.nodes first, or keep the pool, or use --force',
  ]);
  assert.equal(checkPlanChange(cluster(5), named(['e1', 'e2', 'e3', 'e4', 'e5']), etcd5), []);
});

test('removing every master', () => {
  const none = makePlan({ etcd: { expected_count: 5, nodes: [], pool: pool() }, master: { expected_count: 0, nodes: [] } });
  assert.equal(checkPlanChange(cluster(5), none, etcd5), [
    'master: master.expected_count is 0, which takes the role from every current master (m1) and leaves the cluster without an API server: keep at least one master, or use --force',
  ]);
  const unnamed = makePlan({ etcd: { expected_count: 5, nodes: [], pool: pool() }, master: { expected_count: 1, nodes: [], pool: null } });
  assert.match(checkPlanChange(cluster(5), unnamed, etcd5)[0]!, /^master: master names no nodes and has no pool/);
  const pooled = makePlan({ etcd: { expected_count: 5, nodes: [], pool: pool() }, master: { expected_count: 1, nodes: [], pool: pool() } });
  assert.equal(checkPlanChange(cluster(5), pooled, etcd5), []);
});

test('several problems are all reported', () => {
  const bad = makePlan({ cluster: { networking: { pod_block_size: 128 } }, etcd: { expected_count: 2, nodes: [], pool: pool() }, master: { expected_count: 0, nodes: [] } });
  assert.equal(checkPlanChange(cluster(5), bad, etcd5).map((r) => r.split(':')[0]), ['etcd.expected_count', 'etcd.expected_count', 'cluster.networking.pod_block_size', 'master']);
});

test.run();
