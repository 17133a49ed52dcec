// The coordinator's PreflightTracker on its own: states, the gate, probe plans, hostname
// namesakes through the index, drift after install. No network: probe results are hand-made.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PreflightTracker, type PreflightNodeInput } from '../../coordinator/preflight/tracker.ts';
import { parsePlan } from '../../shared/plan/index.ts';
import type { FactsRecord } from '../../coordinator/state/records.ts';
import type { ProbeResultsOut } from '../../shared/wire/types.ts';
import type { Role } from '../../shared/constants.ts';
import { goodFacts } from './fixtures.ts';

function plan(extra = '') {
  const r = parsePlan(`cluster:\n  name: t\n  version: v1.31.2\n  networking: { pod_cidr_block: 172.16.0.0/16, service_cidr_block: 172.17.0.0/16 }\n${extra}etcd: { expected_count: 1, nodes: [ { host: m, ip: 127.0.0.2 } ] }\nmaster: { expected_count: 1, nodes: [ { host: m, ip: 127.0.0.2 } ] }\nworker: { expected_count: 2, nodes: [ { host: w1, ip: 127.0.0.3 }, { host: w2, ip: 127.0.0.4 } ] }\n`, 'plan.yaml');
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

function setup(extra = '') {
  const woken: string[][] = [];
  const t = new PreflightTracker({ clock: () => 1_000_000, notify: (n) => woken.push(n), planDelayMs: 1 });
  t.setPlan(plan(extra), 1);
  return { t, woken };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

function answer(t: PreflightTracker, name: string, latencyMs = 0.5): ProbeResultsOut {
  const p = t.probePlanFor(name, 0)!;
  const r: ProbeResultsOut = {
    plan_id: p.id,
    latency: p.latency_targets.map((target) => ({ target, median_ms: latencyMs, tries: 5, error: '' })),
    reach: p.reach_targets.map((target) => ({ target, source_address: '', ok: true, error: '' })),
    coordinator: null,
  };
  assert.ok(t.recordProbeResults(name, r));
  return r;
}

test('pending until facts and probe results arrive, then passed and the gate opens', async () => {
  const { t, woken } = setup();
  t.update([input('w1', '127.0.0.3', ['worker'], undefined)]);
  assert.is(t.get('w1')!.state, 'pending');
  assert.is(t.gateReason('w1'), 'preflight pending: waiting for the node\'s first full facts report');
  t.update([input('w1', '127.0.0.3', ['worker'], facts('w1', '127.0.0.3')), input('m', '127.0.0.2', ['etcd', 'master'], facts('m', '127.0.0.2'))]);
  t.noteReport('w1', 40001, 5);
  t.noteReport('m', 40002, 5);
  await tick();
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

test('a slow control-plane peer blocks; results for an old plan are not taken', async () => {
  const { t } = setup();
  t.update([input('w1', '127.0.0.3', ['worker'], facts('w1', '127.0.0.3')), input('m', '127.0.0.2', ['etcd', 'master'], facts('m', '127.0.0.2'))]);
  t.noteReport('m', 40002, 5);
  await tick();
  answer(t, 'w1', 25);
  assert.is(t.get('w1')!.state, 'blocked');
  assert.match(t.gateReason('w1')!, /^preflight blocked: 1 error: peer-latency$/);
  assert.not.ok(t.recordProbeResults('w1', { plan_id: 1, latency: [], reach: [], coordinator: null }), 'plan 1 is not current');
});

test('hostname namesakes block each other, found through the index; renaming one frees both', async () => {
  const { t } = setup('  preflight: { ignore: [peer-latency, peer-reach] }\n');
  t.update([input('w1', '127.0.0.3', ['worker'], facts('box', '127.0.0.3')), input('w2', '127.0.0.4', ['worker'], facts('box', '127.0.0.4'))]);
  assert.is(t.get('w1')!.state, 'blocked');
  assert.is(t.get('w1')!.report!.results[0]!.found, 'hostname "box" also used by node w2');
  assert.is(t.get('w2')!.report!.results[0]!.found, 'hostname "box" also used by node w1');
  t.update([input('w2', '127.0.0.4', ['worker'], facts('box-2', '127.0.0.4', undefined, 2))]);
  assert.is(t.get('w1')!.state, 'passed', 'w1 re-checked when its namesake renamed');
  assert.is(t.get('w2')!.state, 'passed');
  // With both peer checks ignored nobody is asked to probe.
  await tick();
  assert.is(t.probePlanFor('w1', 0), null);
});

test('installed roles are not gated: drift shows as failing; a new role is gated again', async () => {
  const { t } = setup('  preflight: { ignore: [peer-latency, peer-reach] }\n');
  const small = facts('w1', '127.0.0.3', (f) => void (f.memory!.total_bytes = 512 * 2 ** 20));
  t.update([input('w1', '127.0.0.3', ['worker'], small, true)]);
  assert.is(t.get('w1')!.state, 'failing');
  assert.is(t.gateReason('w1'), null);
  t.update([input('w1', '127.0.0.3', ['master', 'worker'], small, false)]);
  assert.is(t.get('w1')!.state, 'blocked');
  assert.match(t.gateReason('w1')!, /hardware-memory/);
});

test('the operator ignore list releases a blocked node; probe plan ids only grow', async () => {
  const { t } = setup();
  t.update([input('w1', '127.0.0.3', ['worker'], facts('w1', '127.0.0.3', (f) => void (f.memory!.swap_total_bytes = 2 ** 30)))]);
  await tick();
  const first = Number(t.probePlanFor('w1', 0)!.id);
  answer(t, 'w1');
  assert.is(t.get('w1')!.state, 'blocked');
  t.setOperatorIgnore(['swap']);
  assert.is(t.get('w1')!.state, 'passed');
  assert.equal(t.ignored(), ['swap']);
  // A new member changes w1's plan: a newer id, and w1 is pending again until it answers.
  t.update([input('m', '127.0.0.2', ['etcd', 'master'], facts('m', '127.0.0.2'))]);
  t.noteReport('m', 40002, 5);
  await tick();
  assert.ok(Number(t.probePlanFor('w1', 0)!.id) > first);
  assert.is(t.get('w1')!.state, 'pending');
});

test.run();
