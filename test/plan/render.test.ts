// The rendered plan parses back to the same Plan; the example plans are valid; docs/plan.md
// documents every field of the schema.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePlan, parsePlanFile, renderPlan, planFromAnswers, INIT_DEFAULTS, formatProblem, type Plan } from '../../shared/plan/index.ts';
import { schemaPaths } from '../../shared/plan/schema.ts';
import { PLAN_CHECKS } from '../../shared/plan/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function roundTrip(plan: Plan): Plan {
  const r = parsePlan(renderPlan(plan), 'rendered.yaml');
  assert.equal(r.problems.filter((p) => p.severity === 'error').map(formatProblem), []);
  assert.ok(r.plan);
  return r.plan;
}

test('the default init plan renders, validates without problems and parses back equal', () => {
  const plan = planFromAnswers({ ...INIT_DEFAULTS, loadBalancer: 'k8s.example.com:6443' });
  assert.equal(parsePlan(renderPlan(plan), 'x.yaml').problems, []);
  assert.equal(roundTrip(plan), plan);
});

test('a plan with named nodes, labels, taints, odd strings and sizes parses back equal', () => {
  const plan = planFromAnswers({
    ...INIT_DEFAULTS, name: 'prod: east', network: 'routed', loadBalancer: 'k8s.example.com', master: 2, worker: 2,
    hosts: { etcd: [{ host: 'e1', ip: '10.0.0.1' }], master: [{ host: 'm1', ip: '10.0.0.2' }, { host: 'm2', ip: '' }], worker: [] },
  });
  plan.worker.nodes.push({ host: 'w1', ip: '10.0.0.3', internal_ip: '192.168.0.3', labels: { 'example.com/gpu': 'true', tier: '' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] });
  plan.container_runtime.logs.opts = { 'max-size': '50m', labels: 'a,b' };
  plan.cluster.certificates.apiserver_cert_extra_sans = ['k8s.example.com', '10.0.0.10'];
  plan.cluster.networking.no_proxy = '.example.com,10.0.0.0/8';
  const pool = plan.worker.pool;
  assert.ok(pool);
  pool.selector = { 'example.com/tier': 'general' };
  pool.min_memory_bytes = 4 * 2 ** 30;
  assert.equal(roundTrip(plan), plan);
  assert.is(plan.cluster.networking.bgp_as_number, 64512, 'routed init plans use a private AS');
});

test('examples/muster-cluster.yaml is valid', async () => {
  const file = 'examples/muster-cluster.yaml';
  const r = await parsePlanFile(join(ROOT, file), file);
  assert.equal(r.problems.filter((p) => p.severity === 'error').map(formatProblem), []);
  assert.ok(r.plan);
});

test('examples/kismatic-cluster.yaml is valid but for its (Kismatic-era) Kubernetes version', async () => {
  const file = 'examples/kismatic-cluster.yaml';
  const r = await parsePlanFile(join(ROOT, file), file);
  assert.equal(r.problems.filter((p) => p.severity === 'error').map((p) => p.rule), ['version-supported']);
});

test('the muster example uses named nodes, a shared etcd/master node and a pool', async () => {
  const r = await parsePlanFile(join(ROOT, 'examples/muster-cluster.yaml'));
  assert.is(r.format, 'muster');
  assert.equal(r.problems, []);
  assert.is(r.plan?.worker.pool?.min_memory_bytes, 4 * 2 ** 30);
  assert.is(r.plan?.worker.nodes[0]?.internal_ip, '10.0.0.21');
  assert.is(r.plan?.etcd.nodes[0]?.host, r.plan?.master.nodes[0]?.host);
});

test('docs/plan.md documents every field and every rule', () => {
  const doc = readFileSync(join(ROOT, 'docs/plan.md'), 'utf8');
  const fields = [...new Set(schemaPaths().map((p) => p.replace(/^(etcd|master|worker)\./, '<group>.')))];
  // A field only masters have is documented as master.X, the groups' shared ones as <group>.X.
  const mastersOnly = (p: string) => p.startsWith('<group>.') && !schemaPaths().includes(p.replace('<group>', 'etcd'));
  const missing = fields.filter((p) => !doc.includes(`\`${mastersOnly(p) ? p.replace('<group>', 'master') : p}\``));
  assert.equal(missing, []);
  const rules = PLAN_CHECKS.map((c) => c.name).filter((n) => !doc.includes(`| \`${n}\` |`));
  assert.equal(rules, []);
});

test.run();
