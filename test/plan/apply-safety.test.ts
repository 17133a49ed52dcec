// plan apply refuses changes that would break a running cluster (unless --force), through the
// real CLI entry against a real coordinator whose three agents applied (installed) their roles.
// One table: each row is a plan change, the checks that refuse it and the nodes they name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tempDir, testCoordinator, runAgent, waitFor, type RunningAgent } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { main } from '../../coordinator/cli/main.ts';
import { memoryIO } from '../../shared/cli/io.ts';
import { PLAN_CHANGE_CHECKS } from '../../coordinator/assign/index.ts';

const net = addressBlock(import.meta.url);
const [A1, A2, A3] = [net.host(2), net.host(3), net.host(4)];
const dir = tempDir();
const dataDir = join(dir, 'coord');
let c: Awaited<ReturnType<typeof testCoordinator>> | undefined;
let agents: RunningAgent[] = [];

interface PlanShape {
  name?: string;
  version?: string;
  type?: string;
  pod?: string;
  service?: string;
  etcd?: string[];
  master?: string[];
  workers?: string[];
  workerExtra?: string;
}
const IP: Record<string, string> = { 'node-1': A1, 'node-2': A2, 'node-3': A3, ghost: net.host(9) };
const group = (hosts: string[], extra = '') => `  expected_count: ${hosts.length}\n  nodes:\n${hosts.map((h) => `    - { host: ${h}, ip: ${IP[h]}${extra} }`).join('\n')}\n`;
function plan(p: PlanShape = {}): string {
  return `cluster:
  name: ${p.name ?? 'safe'}
  version: ${p.version ?? 'v1.34.2'}
  networking:
    type: ${p.type ?? 'overlay'}
    pod_cidr_block: ${p.pod ?? '172.16.0.0/16'}
    service_cidr_block: ${p.service ?? '172.17.0.0/16'}
  preflight:
    max_peer_latency_ms: 1000
etcd:
${group(p.etcd ?? ['node-1'])}master:
${group(p.master ?? ['node-1'])}worker:
${group(p.workers ?? ['node-2', 'node-3'], p.workerExtra ?? '')}`;
}

let n = 0;
async function cli(...args: string[]) {
  const io = memoryIO();
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}
async function apply(text: string, ...flags: string[]) {
  const file = join(dir, `plan-${++n}.yaml`);
  writeFileSync(file, text);
  return cli('plan', 'apply', file, '--data-dir', dataDir, ...flags);
}
const refusedChecks = (text: string) => [...text.matchAll(/ \[([a-z-]+)\]$/gm)].map((m) => m[1]!).sort();
const planCount = () => c!.state.plans.history().length;

test.after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await c?.close();
});

test('set-up: three agents apply the first plan (v1.34.2)', async () => {
  const planFile = join(dir, 'plan-0.yaml');
  writeFileSync(planFile, plan());
  c = await testCoordinator(dataDir, { planFile, listen: `${net.host(1)}:0` });
  const { token } = await c.state.tokens.create({ uses: 3 });
  agents = ['node-1', 'node-2', 'node-3'].map((name) =>
    runAgent({ coordinator: c!.address, token, caHash: c!.identity.caPin, nodeName: name, address: IP[name]!, stateDir: join(dir, name, 'state'), root: join(dir, name, 'root') }),
  );
  await waitFor('all three applied', () => c!.state.status().length === 3 && c!.state.status().every((r) => r.state === 'applied' && r.upToDate));
  assert.is(planCount(), 1);
});

interface Row {
  name: string;
  plan: string;
  /** Checks that refuse it, sorted; [] = accepted. */
  refused: string[];
  /** Text every refusal message must contain between them (node names, fields). */
  mentions?: string[];
}
const kismatic = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'kismatic-cluster.yaml'), 'utf8').replace('version: v1.10.5', 'version: v1.34.2');
const ROWS: Row[] = [
  { name: 'the only etcd+master moved to another node', plan: plan({ etcd: ['node-2'], master: ['node-2'], workers: ['node-1', 'node-3'] }), refused: ['etcd-quorum', 'installed-roles'], mentions: ['from 1 of the 1 current members (node-1) and gives it to node-2', 'node-1 (etcd, master)'] },
  { name: 'the last master to a node that never joined', plan: plan({ master: ['ghost'] }), refused: ['installed-roles', 'last-master'], mentions: ['no node holds the master role (today: node-1)', 'node-1 (master)'] },
  { name: 'a worker dropped from the plan', plan: plan({ workers: ['node-2'] }), refused: ['installed-roles'], mentions: ['node-3 (worker)'] },
  { name: 'a cluster rename', plan: plan({ name: 'renamed' }), refused: ['cluster-name'], mentions: ['cluster.name: safe -> renamed', 'node-1, node-2, node-3'] },
  { name: 'overlay -> routed', plan: plan({ type: 'routed' }), refused: ['network-type'], mentions: ['cluster.networking.type: overlay -> routed'] },
  { name: 'a pod CIDR change', plan: plan({ pod: '10.32.0.0/16' }), refused: ['network-ranges'], mentions: ['cluster.networking.pod_cidr_block: 172.16.0.0/16 -> 10.32.0.0/16'] },
  { name: 'a service CIDR change', plan: plan({ service: '10.96.0.0/16' }), refused: ['network-ranges'], mentions: ['cluster.networking.service_cidr_block: 172.17.0.0/16 -> 10.96.0.0/16'] },
  { name: 'a skip of a minor (v1.34 -> v1.36)', plan: plan({ version: 'v1.36.3' }), refused: ['version-skew'], mentions: ['v1.34.2 -> v1.36.3 skips 1 minor release', 'apply a v1.35 release first'] },
  { name: 'an imported Kismatic plan on a running cluster', plan: kismatic, refused: ['cluster-name', 'etcd-quorum', 'installed-roles', 'last-master', 'network-ranges'], mentions: ['cluster.name: safe -> kubernetes', 'node-1 (etcd, master), node-2 (worker), node-3 (worker)', '172.17.0.0/16 -> 172.20.0.0/16'] },
  { name: 'a patch upgrade is accepted', plan: plan({ version: 'v1.34.3' }), refused: [] },
  { name: 'one minor up is accepted', plan: plan({ version: 'v1.35.0' }), refused: [] },
  { name: 'a downgrade (v1.35.0 -> v1.34.3)', plan: plan({ version: 'v1.34.3' }), refused: ['version-downgrade'], mentions: ['v1.35.0 -> v1.34.3 is a downgrade'] },
];

for (const row of ROWS) {
  test(`plan apply: ${row.name}`, async () => {
    const before = planCount();
    const r = await apply(row.plan);
    if (!row.refused.length) {
      assert.is(r.code, 0, r.stderr);
      assert.is(planCount(), before + 1);
      await waitFor('every node up to date again', () => c!.state.status().every((s) => s.upToDate));
      return;
    }
    assert.is(r.code, 1, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, 'would disrupt the running cluster');
    assert.match(r.stderr, 'apply it with --force');
    assert.equal(refusedChecks(r.stderr), row.refused, r.stderr);
    for (const m of row.mentions ?? []) assert.match(r.stderr, m);
    assert.is(planCount(), before, 'nothing stored');
  });
}

test('an unsupported version is invalid, naming the range', async () => {
  for (const v of ['v1.5.0', 'v1.99.0']) {
    const r = await apply(plan({ version: v }));
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, `Kubernetes ${v} is not supported: muster supports v1.34 to v1.36`);
  }
});

test('--dry-run: what each node would get and what would be refused; nothing stored', async () => {
  const before = planCount();
  const ok = await apply(plan({ version: 'v1.35.0', workerExtra: ', labels: { tier: web }' }), '--dry-run');
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, `would be plan revision ${before + 1}; 2 node(s) would get a new assignment:`);
  assert.match(ok.stdout, '  node-2: roles worker\n      labels.tier: (none) -> web\n  node-3: roles worker\n      labels.tier: (none) -> web\n');
  assert.match(ok.stdout, 'no refusals: muster plan apply would accept it');
  assert.not.match(ok.stdout, 'node-1:');

  const bad = await apply(plan({ version: 'v1.35.0', etcd: ['node-2'], master: ['node-2'], workers: ['node-1', 'node-3'] }), '--dry-run');
  assert.is(bad.code, 1);
  assert.match(bad.stdout, '  node-1: roles etcd,master -> worker');
  assert.match(bad.stdout, '  node-2: roles worker -> etcd,master');
  assert.match(bad.stdout, 'would be refused (2):');
  assert.equal(refusedChecks(bad.stdout), ['etcd-quorum', 'installed-roles']);

  const json = await apply(plan({ version: 'v1.35.0', name: 'other' }), '--dry-run', '--json');
  assert.is(json.code, 1);
  const j = JSON.parse(json.stdout);
  assert.is(j.dry_run, true);
  assert.equal(j.refusals.map((r: { check: string }) => r.check), ['cluster-name']);
  assert.equal(j.refusals[0].nodes, ['node-1', 'node-2', 'node-3']);
  assert.is(planCount(), before, 'a dry run stores nothing');
});

test('--force applies a refused change, says what it forced, history marks it', async () => {
  const r = await apply(plan({ version: 'v1.35.0', name: 'renamed' }), '--force');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, 'forced past 1 refusal(s): cluster-name (node-1, node-2, node-3)');
  const h = await cli('plan', 'history', '--data-dir', dataDir);
  assert.match(h.stdout, /revision \d+ .* \(forced\)/);
});

test('--wait follows the rollout until every changed node applied', async () => {
  const r = await apply(plan({ version: 'v1.35.0', name: 'renamed', workerExtra: ', labels: { tier: api }' }), '--wait', '--timeout', '30s');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /plan revision (\d+): all 2 node\(s\) applied their assignment/);
  assert.match(r.stderr, '2/2 applied');
  // Plans are numbered 1, 2, 3... and each one can be shown.
  const revs = c!.state.plans.history().map((p) => p.revision);
  assert.equal(revs, revs.map((_, i) => i + 1));
  const show = await cli('plan', 'show', String(revs.length), '--data-dir', dataDir);
  assert.is(show.code, 0, show.stderr);
  assert.match(show.stdout, `# plan revision ${revs.length},`);
});

test('--wait times out (exit 1) naming the node that did not apply', async () => {
  await agents[2]!.stop();
  const r = await apply(plan({ version: 'v1.35.0', name: 'renamed', workerExtra: ', labels: { tier: db }' }), '--wait', '--timeout', '1s');
  assert.is(r.code, 1, r.stdout);
  assert.match(r.stderr, /timed out after 1s; not applied yet: node-3 \(applying rev \d+\)/);
});

test('--wait ends (exit 1) when a node fails to apply, naming it and why', async () => {
  // node-3 (stopped by the test before) comes back, so that node-2 is the only one not applying.
  agents[2] = runAgent({ coordinator: c!.address, nodeName: 'node-3', address: IP['node-3']!, stateDir: join(dir, 'node-3', 'state'), root: join(dir, 'node-3', 'root') });
  await waitFor('node-3 up to date again', () => c!.state.status().find((r) => r.name === 'node-3')?.upToDate);
  // node-2 cannot write its kubelet config: a directory stands where the file goes.
  const cfg = join(dir, 'node-2', 'root', 'var/lib/kubelet/config.yaml');
  rmSync(cfg, { force: true });
  mkdirSync(cfg, { recursive: true });
  const r = await apply(plan({ version: 'v1.35.0', name: 'renamed', workerExtra: ', labels: { tier: cache }' }), '--wait', '--timeout', '30s');
  assert.is(r.code, 1, r.stdout);
  assert.match(r.stderr, /muster: node-2: failed: .*\/var\/lib\/kubelet\/config\.yaml.*not a regular file/);
  assert.not.match(r.stderr, /timed out/, 'it ended on the failure, not at the timeout');
});

test('every plan-change check has a refusing row here or in test/assign/plan-change.test.ts', () => {
  const covered = new Set(ROWS.flatMap((r) => r.refused));
  // etcd-quorum's count rules, and network-ranges' pod_block_size, are rows of the unit test.
  assert.equal(PLAN_CHANGE_CHECKS.map((c) => c.name).filter((n) => !covered.has(n)), []);
});

test.run();
