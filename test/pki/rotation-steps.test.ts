// The CA rotation's rules as pure functions: what a node trusts and who signs at each stage, that
// any two nodes one stage apart trust each other, and how nodes are admitted (etcd and control
// plane one at a time, workers a tenth at a time) and stages move on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COMPLETE, doneWithStage, stageTarget, stepRotation, rotationProgress, type CaRotationRecord, type RotationNode } from '../../coordinator/pki/rotation.ts';

const base: CaRotationRecord = {
  kind: 'etcd',
  id: 1,
  stage: 1,
  old: { serial: 'o', fingerprint: 'OLD' },
  next: { serial: 'n', fingerprint: 'NEW' },
  admitted: [],
  startedAtMs: 0,
  stageStartedAtMs: 0,
  finishedAtMs: 0,
  startedBy: 'test',
};

test('stage targets: trust first, then sign, then drop; neighbours trust each other', () => {
  assert.equal(stageTarget(base, 0), { bundle: ['OLD'], signer: 'OLD' });
  assert.equal(stageTarget(base, 1), { bundle: ['OLD', 'NEW'], signer: 'OLD' });
  assert.equal(stageTarget(base, 2), { bundle: ['OLD', 'NEW'], signer: 'NEW' });
  assert.equal(stageTarget(base, 3), { bundle: ['NEW'], signer: 'NEW' });
  for (let s = 1; s <= 3; s++) {
    const a = stageTarget(base, s - 1);
    const b = stageTarget(base, s);
    assert.ok(a.bundle.includes(b.signer) && b.bundle.includes(a.signer), `stages ${s - 1} and ${s} trust each other's certificates`);
  }
  // Two stages apart they need not: which is why a stage waits for every node.
  assert.not.ok(stageTarget(base, 3).bundle.includes(stageTarget(base, 1).signer));
});

/** Nodes whose committed assignment and apply follow what the rotation admitted them to. */
function fleet(r: CaRotationRecord, specs: [string, string[]][], applied: (name: string) => boolean): RotationNode[] {
  return specs.map(([name, roles]) => {
    const stage = r.admitted.includes(name) ? r.stage : r.stage - 1;
    return { name, roles, committed: stageTarget(r, stage), appliedCommitted: applied(name) };
  });
}

test('a control-plane node is not admitted while another one has yet to apply an assignment for something else (a renewal in flight); one that has not applied goes first', () => {
  const specs: [string, string[]][] = [['e1', ['etcd', 'master']], ['e2', ['etcd']], ['e3', ['etcd']]];
  const r = base;
  // e2 holds a body it has not applied (a renewal the rollout sent it): nobody else is admitted; e2 may be.
  const s = stepRotation(r, fleet(r, specs, (n) => n !== 'e2'), 1);
  assert.equal(s.record!.admitted, ['e2'], 'the node that has not applied goes first');
  // Two unapplied: none is admitted until one applies.
  assert.is(stepRotation(r, fleet(r, specs, (n) => n === 'e1'), 2).record, null);
  assert.equal(stepRotation(r, fleet(r, specs, () => true), 3).record!.admitted, ['e1'], 'all applied: name order');
});

test('control-plane nodes one at a time, workers a tenth at a time (at least one), stages move on when all applied, then finish', () => {
  const specs: [string, string[]][] = [
    ['e1', ['etcd', 'master']],
    ['e2', ['etcd']],
    ['e3', ['etcd']],
    ...Array.from({ length: 20 }, (_, i) => [`w${String(i).padStart(2, '0')}`, ['worker']] as [string, string[]]),
  ];
  // etcd CA: workers hold none of it and are never part of the rotation.
  let r = base;
  let s = stepRotation(r, fleet(r, specs, () => true), 1);
  assert.equal(s.record!.admitted, ['e1']);
  r = s.record!;
  // e1 admitted but not yet applied: nothing more.
  assert.is(stepRotation(r, fleet(r, specs, (n) => n !== 'e1'), 2).record, null);
  const stagesSeen: number[] = [];
  for (let i = 0; i < 20 && !s.finish; i++) {
    s = stepRotation(r, fleet(r, specs, () => true), 10 + i);
    assert.ok(s.record, `step ${i} changes something`);
    const cp = s.record!.admitted.filter((n) => n.startsWith('e'));
    assert.ok(s.finish || cp.length >= 1, 'one more control-plane node each step');
    r = s.record!;
    stagesSeen.push(r.stage);
  }
  assert.ok(s.finish);
  assert.is(r.stage, COMPLETE);
  assert.is(r.finishedAtMs > 0, true);
  assert.ok(stagesSeen.includes(2) && stagesSeen.includes(3));

  // kubernetes CA: the 20 workers go two at a time, and alongside the control plane.
  let k: CaRotationRecord = { ...base, kind: 'kubernetes' };
  const step = stepRotation(k, fleet(k, specs, () => true), 1);
  assert.equal(step.record!.admitted, ['e1', 'w00', 'w01']);
  k = step.record!;
  // w00 applied, w01 not: one free worker slot, and e1 still pending holds e2 back.
  const next = stepRotation(k, fleet(k, specs, (n) => n === 'w00'), 2);
  assert.equal(next.record!.admitted, ['e1', 'w00', 'w01', 'w02']);
});

test('a node admitted but not applied is in progress; removed nodes leave the admitted list; an empty rotation just finishes', () => {
  const r = { ...base, admitted: ['e1', 'gone'] };
  const nodes = fleet(r, [['e1', ['etcd']], ['e2', ['etcd']]], () => false);
  assert.equal(rotationProgress(r, nodes), [
    { name: 'e1', progress: 'in progress' },
    { name: 'e2', progress: 'waiting' },
  ]);
  assert.not.ok(doneWithStage(r, nodes[0]!));
  const s = stepRotation(r, nodes, 5);
  assert.equal(s.record!.admitted, ['e1']);
  // A committed assignment that does not yet carry the stage is not done, whatever the node applied.
  assert.not.ok(doneWithStage(r, { name: 'e1', roles: ['etcd'], committed: stageTarget(r, 0), appliedCommitted: true }));
  const empty = stepRotation(base, [], 9);
  assert.ok(empty.finish);
  assert.is(empty.record!.stage, COMPLETE);
});

test.run();
