// The coordinator's PreflightTracker on its own: states, the gate, probe plans, hostname
// namesakes through the index, drift after install, latency judged over rounds, and re-probing
// with backoff. No network: probe results are hand-made, and time is a FakeTime the tests move.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PreflightTracker, type PreflightNodeInput } from '../../coordinator/preflight/tracker.ts';
import { parsePlan } from '../../shared/plan/index.ts';
import { compileReprobeOptions, reprobeCeilingMs, reprobeDelayMs, type ReprobeOptions } from '../../shared/probe/reprobe.ts';
import type { FactsRecord } from '../../coordinator/state/records.ts';
import type { ProbeResultsOut } from '../../shared/wire/types.ts';
import type { Role } from '../../shared/constants.ts';
import { goodFacts } from './fixtures.ts';
import { FakeTime } from '../probe/fake-timers.ts';
import { addressBlock } from '../helpers/addresses.ts';

const net = addressBlock(import.meta.url);
const M = net.host(2);
const W1 = net.host(3);
const W2 = net.host(4);
const PLAN_DELAY_MS = 1;

function plan(extra = '') {
  const r = parsePlan(`cluster:\n  name: t\n  version: v1.36.3\n  networking: { pod_cidr_block: 172.16.0.0/16, service_cidr_block: 172.17.0.0/16 }\n${extra}etcd: { expected_count: 1, nodes: [ { host: m, ip: ${M} } ] }\nmaster: { expected_count: 1, nodes: [ { host: m, ip: ${M} } ] }\nworker: { expected_count: 2, nodes: [ { host: w1, ip: ${W1} }, { host: w2, ip: ${W2} } ] }\n`, 'plan.yaml');
  if (!r.plan) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

function facts(hostname: string, address: string, edit?: (f: ReturnType<typeof goodFacts>) => void, atMs = 1): FactsRecord {
  const f = goodFacts();
  f.network!.hostname = hostname;
  f.network!.default_address = address;
  f.network!.interfaces = [{ name: 'lo', addresses: [`${address}/8`], mtu: 65536, state: 'up', mac: '' }];
  edit?.(f);
  return { facts: f, complete: true, atMs };
}

const input = (name: string, address: string, roles: Role[], f: FactsRecord | undefined, installed = false): PreflightNodeInput => ({ name, address, roles, installed, facts: f });

/** A tracker on fake time. random 0.5: every backoff delay is exactly 3/4 of its ceiling. */
function setup(extra = '', reprobe: ReprobeOptions = {}) {
  const woken: string[][] = [];
  const time = new FakeTime();
  const t = new PreflightTracker({ clock: time.now, timers: time, notify: (n) => woken.push(n), planDelayMs: PLAN_DELAY_MS, reprobe: { random: () => 0.5, ...reprobe } });
  t.setPlan(plan(extra), 1);
  /** The coalesced planning pass runs. */
  const plan_ = () => time.advance(PLAN_DELAY_MS);
  return { t, woken, time, planPass: plan_ };
}

/** w1 (worker) and m (etcd, master) with good facts; m listens for probes on 40002. */
function twoNodes(t: PreflightTracker, w1Facts = facts('w1', W1)) {
  t.update([input('w1', W1, ['worker'], w1Facts), input('m', M, ['etcd', 'master'], facts('m', M))]);
  t.noteReport('m', 40002, 5);
}

const planId = (t: PreflightTracker, name: string) => Number(t.probePlanFor(name, 0)?.id ?? 0);

/** Answers the node's current plan (or `id`) with the same latency to every target. */
function answer(t: PreflightTracker, name: string, latencyMs = 0.5, id = planId(t, name)): ProbeResultsOut {
  const p = t.probePlanFor(name, 0)!;
  const r: ProbeResultsOut = {
    plan_id: id,
    latency: p.latency_targets.map((target) => ({ target, median_ms: latencyMs, tries: 5, error: '' })),
    reach: p.reach_targets.map((target) => ({ target, source_address: '', ok: true, error: '' })),
    coordinator: null,
  };
  assert.ok(t.recordProbeResults(name, r), `results of plan ${id} taken`);
  return r;
}

test('pending until facts and probe results arrive, then passed and the gate opens', () => {
  const { t, woken, planPass } = setup();
  t.update([input('w1', W1, ['worker'], undefined)]);
  assert.is(t.get('w1')!.state, 'pending');
  assert.is(t.gateReason('w1'), 'preflight pending: waiting for the node\'s first full facts report');
  twoNodes(t);
  t.noteReport('w1', 40001, 5);
  assert.is(t.probePlanFor('w1', 0), null, 'plans are made in the coalesced pass');
  planPass();
  const p = t.probePlanFor('w1', 0)!;
  assert.ok(p, 'a probe plan for w1');
  assert.equal(p.latency_targets.map((x) => `${x.node_name}:${x.port}`), ['m:40002']);
  assert.is(t.probePlanFor('w1', Number(p.id)), null, 'not again once run');
  assert.match(t.gateReason('w1')!, /^preflight pending: waiting for the node's probe results \(plan \d+\)$/);
  answer(t, 'w1');
  assert.is(t.get('w1')!.state, 'passed');
  assert.is(t.gateReason('w1'), null);
  assert.ok(woken.some((n) => n.includes('w1')), 'the watch of w1 is woken');
});

test('results for a plan that was never issued are not taken', () => {
  const { t, planPass } = setup();
  twoNodes(t);
  planPass();
  assert.not.ok(t.recordProbeResults('w1', { plan_id: 1, latency: [], reach: [], coordinator: null }), 'plan 1 is older than w1\'s plan');
  assert.not.ok(t.recordProbeResults('w1', { plan_id: planId(t, 'w1') + 1, latency: [], reach: [], coordinator: null }), 'a plan from the future');
  assert.is(t.get('w1')!.state, 'pending');
});

test('one slow round does not block: the node stays pending and is measured again until rounds decide', () => {
  const { t, time, woken, planPass } = setup('', { confirmMs: 1000 });
  twoNodes(t);
  planPass();
  const first = planId(t, 'w1');
  answer(t, 'w1', 25);
  let v = t.get('w1')!;
  assert.is(v.state, 'pending', 'one round over 10 ms is not a verdict');
  assert.is(v.detail, 'confirming peer latency: m over 10 ms in 1 of 1 probe round; 3 rounds decide');
  const warn = v.report!.results.find((r) => r.check === 'peer-latency')!;
  assert.is(warn.severity, 'warning');
  assert.match(warn.found, /^round trip of 25\.0 ms from w1 to m at [\d.]+:40002 \(median of 1 probe round of 5 tries: 25\.0 ms\); 1 of 3 probe rounds so far, measuring again before deciding$/);
  // The confirming round goes out after confirmMs, not before, and wakes the node's watch.
  time.advance(999);
  assert.is(planId(t, 'w1'), first);
  woken.length = 0;
  time.advance(1);
  const second = planId(t, 'w1');
  assert.ok(second > first, 'a new plan id');
  assert.ok(woken.some((n) => n.includes('w1')), 'the node\'s watch is woken');
  assert.is(t.probePlanFor('w1', first)!.latency_targets[0]!.node_name, 'm', 'the same targets');
  // [25, 0.5]: the median (12.75 ms) is still over; a third round decides: [25, 0.5, 0.6] -> 0.6 ms.
  answer(t, 'w1', 0.5);
  assert.is(t.get('w1')!.state, 'pending');
  time.advance(1000);
  answer(t, 'w1', 0.6);
  v = t.get('w1')!;
  assert.is(v.state, 'passed', v.detail);
  assert.is(v.report!.results.filter((r) => r.check === 'peer-latency').length, 0);
  assert.is(t.gateReason('w1'), null);
  // Passed: no more rounds.
  const last = planId(t, 'w1');
  time.advance(60 * 60_000);
  assert.is(planId(t, 'w1'), last);
});

test('a first round within the limit passes at once: no extra rounds for a healthy node', () => {
  const { t, time, planPass } = setup();
  twoNodes(t);
  planPass();
  answer(t, 'w1', 0.4);
  assert.is(t.get('w1')!.state, 'passed');
  const id = planId(t, 'w1');
  time.advance(60 * 60_000);
  assert.is(planId(t, 'w1'), id, 'and is not probed again');
});

test('three slow rounds block, and the finding says over how many rounds', () => {
  const { t, time, planPass } = setup('', { confirmMs: 500 });
  twoNodes(t);
  planPass();
  answer(t, 'w1', 25);
  time.advance(500);
  answer(t, 'w1', 31);
  assert.is(t.get('w1')!.state, 'pending');
  assert.is(t.get('w1')!.detail, 'confirming peer latency: m over 10 ms in 2 of 2 probe rounds; 3 rounds decide');
  time.advance(500);
  answer(t, 'w1', 24);
  const v = t.get('w1')!;
  assert.is(v.state, 'blocked');
  assert.is(t.gateReason('w1'), 'preflight blocked: 1 error: peer-latency');
  const err = v.report!.results.find((r) => r.check === 'peer-latency')!;
  assert.is(err.severity, 'error');
  assert.match(err.found, /^round trip of 25\.0 ms from w1 to m at [\d.]+:40002 \(median of 3 probe rounds of 5 tries: 25\.0 ms, 31\.0 ms, 24\.0 ms\)$/);
  assert.is(err.required, 'at most 10 ms (cluster.preflight.max_peer_latency_ms)');
});

test('a refused peer blocks once most of the last rounds failed', () => {
  const { t, time, planPass } = setup('', { confirmMs: 10 });
  twoNodes(t);
  planPass();
  const fail = (id = planId(t, 'w1')) => {
    const p = t.probePlanFor('w1', 0)!;
    assert.ok(t.recordProbeResults('w1', { plan_id: id, latency: p.latency_targets.map((target) => ({ target, median_ms: -1, tries: 5, error: 'ECONNREFUSED: connection refused' })), reach: [], coordinator: null }));
  };
  fail();
  assert.is(t.get('w1')!.state, 'pending');
  time.advance(10);
  fail();
  time.advance(10);
  fail();
  const err = t.get('w1')!.report!.results.find((r) => r.check === 'peer-latency')!;
  assert.is(err.severity, 'error');
  assert.match(err.found, /^no latency measurement from w1 to m at [\d.]+:40002 in 3 of 3 probe rounds: ECONNREFUSED: connection refused$/);
});

test('a blocked node is probed again after the backoff, not before; the backoff doubles to its cap', () => {
  // Swap blocks w1: no latency rounds to confirm, only the backoff.
  const { t, time, woken, planPass } = setup('', { initialMs: 5000, maxMs: 300_000 });
  twoNodes(t, facts('w1', W1, (f) => void (f.memory!.swap_total_bytes = 2 ** 30)));
  planPass();
  let id = planId(t, 'w1');
  answer(t, 'w1');
  assert.is(t.get('w1')!.state, 'blocked');
  // random 0.5 and equal jitter: each delay is 3/4 of a ceiling of 5 s, 10 s, ... capped at 5 min,
  // counted from when the previous plan went out.
  const ceilings = [5000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000];
  for (const ceiling of ceilings) {
    const delay = ceiling * 0.75;
    assert.is(t.get('w1')!.reprobeAtMs, time.now() + delay, `next re-probe in ${delay} ms`);
    time.advance(delay - 1);
    assert.is(planId(t, 'w1'), id, `not before ${delay} ms`);
    woken.length = 0;
    time.advance(1);
    const next = planId(t, 'w1');
    assert.ok(next > id, `a new plan after ${delay} ms`);
    // (m, which never answers its own plan, may be re-probed at the same moment.)
    assert.ok(woken.some((n) => n.includes('w1')), 'the node\'s watch is woken');
    assert.is(t.get('w1')!.state, 'blocked', 'still blocked while the new round runs (the last results stand)');
    id = next;
    answer(t, 'w1');
  }
});

test('jitter: every delay lies in [ceiling / 2, ceiling), ceilings double from 5 s and stop at 5 min', () => {
  for (const r of [0, 0.25, 0.5, 0.999999]) {
    const c = compileReprobeOptions({ random: () => r });
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = reprobeCeilingMs(c, attempt);
      assert.is(ceiling, Math.min(300_000, 5000 * 2 ** attempt));
      const d = reprobeDelayMs(c, attempt);
      assert.ok(d >= ceiling / 2 && d < ceiling, `attempt ${attempt}, random ${r}: ${d} ms outside [${ceiling / 2}, ${ceiling})`);
    }
  }
  assert.is(reprobeDelayMs(compileReprobeOptions({ random: () => 0 }), 0), 2500);
  assert.throws(() => compileReprobeOptions({ initialMs: 0 }), /invalid retry options/);
});

test('jitter in the tracker: with the smallest and largest random, re-probes stay within the bounds', () => {
  for (const r of [0, 0.999]) {
    const { t, time, planPass } = setup('', { random: () => r });
    twoNodes(t, facts('w1', W1, (f) => void (f.memory!.swap_total_bytes = 2 ** 30)));
    planPass();
    answer(t, 'w1');
    for (const ceiling of [5000, 10_000, 20_000]) {
      const inMs = t.get('w1')!.reprobeAtMs! - time.now();
      assert.ok(inMs >= ceiling / 2 && inMs < ceiling, `random ${r}: ${inMs} ms outside [${ceiling / 2}, ${ceiling})`);
      time.advance(inMs);
      answer(t, 'w1');
    }
  }
});

test('a node whose results never come is asked again; late results of the same targets still count', () => {
  const { t, time, planPass } = setup();
  twoNodes(t);
  planPass();
  const first = planId(t, 'w1');
  assert.is(t.get('w1')!.state, 'pending');
  time.advance(3750);
  const second = planId(t, 'w1');
  assert.ok(second > first, 'a new plan for a node that did not answer');
  // The agent was still running the first plan: its results answer the same targets.
  answer(t, 'w1', 0.5, first);
  assert.is(t.get('w1')!.state, 'passed');
  assert.is(t.get('w1')!.reprobeAtMs, undefined, 'passed: nothing planned');
  assert.not.ok(t.recordProbeResults('w1', { plan_id: first, latency: [], reach: [], coordinator: null }), 'the same round twice is not a new round');
});

test('re-probing stops once the node passes, is installed or is forgotten', () => {
  const swap = facts('w1', W1, (f) => void (f.memory!.swap_total_bytes = 2 ** 30));
  for (const how of ['ignored', 'installed', 'forgotten'] as const) {
    const { t, time, planPass } = setup();
    twoNodes(t, swap);
    planPass();
    answer(t, 'w1');
    assert.is(t.get('w1')!.state, 'blocked');
    assert.ok(t.get('w1')!.reprobeAtMs, `${how}: a re-probe is planned while blocked`);
    if (how === 'ignored') t.setOperatorIgnore(['swap']);
    if (how === 'installed') t.update([input('w1', W1, ['worker'], swap, true)]);
    if (how === 'forgotten') t.forget('w1');
    planPass();
    const id = planId(t, 'w1');
    time.advance(60 * 60_000);
    assert.is(planId(t, 'w1'), id, `${how}: no new plan`);
    assert.is(t.get('w1')?.reprobeAtMs, undefined, how);
    t.close();
    assert.is(time.pending, 0, `${how}: no timer left`);
  }
});

test('hostname namesakes block each other, found through the index; renaming one frees both', () => {
  const { t, planPass } = setup('  preflight: { ignore: [peer-latency, peer-reach] }\n');
  t.update([input('w1', W1, ['worker'], facts('box', W1)), input('w2', W2, ['worker'], facts('box', W2))]);
  assert.is(t.get('w1')!.state, 'blocked');
  assert.is(t.get('w1')!.report!.results[0]!.found, 'hostname "box" also used by node w2');
  assert.is(t.get('w2')!.report!.results[0]!.found, 'hostname "box" also used by node w1');
  t.update([input('w2', W2, ['worker'], facts('box-2', W2, undefined, 2))]);
  assert.is(t.get('w1')!.state, 'passed', 'w1 re-checked when its namesake renamed');
  assert.is(t.get('w2')!.state, 'passed');
  // With both peer checks ignored nobody is asked to probe.
  planPass();
  assert.is(t.probePlanFor('w1', 0), null);
});

test('installed roles are not gated: drift shows as failing; a new role is gated again', () => {
  const { t } = setup('  preflight: { ignore: [peer-latency, peer-reach] }\n');
  const small = facts('w1', W1, (f) => void (f.memory!.total_bytes = 512 * 2 ** 20));
  t.update([input('w1', W1, ['worker'], small, true)]);
  assert.is(t.get('w1')!.state, 'failing');
  assert.is(t.gateReason('w1'), null);
  t.update([input('w1', W1, ['master', 'worker'], small, false)]);
  assert.is(t.get('w1')!.state, 'blocked');
  assert.match(t.gateReason('w1')!, /hardware-memory/);
});

test('the operator ignore list releases a blocked node; probe plan ids only grow', () => {
  const { t, planPass } = setup();
  t.update([input('w1', W1, ['worker'], facts('w1', W1, (f) => void (f.memory!.swap_total_bytes = 2 ** 30)))]);
  planPass();
  const first = planId(t, 'w1');
  answer(t, 'w1');
  assert.is(t.get('w1')!.state, 'blocked');
  t.setOperatorIgnore(['swap']);
  assert.is(t.get('w1')!.state, 'passed');
  assert.equal(t.ignored(), ['swap']);
  // A new member changes w1's plan: a newer id, and w1 is pending again until it answers.
  t.update([input('m', M, ['etcd', 'master'], facts('m', M))]);
  t.noteReport('m', 40002, 5);
  planPass();
  assert.ok(planId(t, 'w1') > first);
  assert.is(t.get('w1')!.state, 'pending');
});

test('a probe port learned from a watch alone (a node with nothing to report) reaches its peers\' plans', () => {
  const { t, planPass } = setup();
  t.update([input('w1', W1, ['worker'], facts('w1', W1)), input('m', M, ['etcd', 'master'], facts('m', M))]);
  t.noteReport('w1', 40001, 5);
  planPass();
  const targetsTo = (name: string) => (t.probePlanFor('w1', 0)?.latency_targets ?? []).filter((x) => x.node_name === name);
  assert.equal(targetsTo('m'), [], 'no port known for m yet: no latency target');
  t.notePort('m', 40002);
  planPass();
  assert.equal(targetsTo('m').map((x) => x.port), [40002]);
});

test.run();
