// `muster plan validate | init | import` run in-process on real files in a temporary directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { memoryIO } from '../../shared/cli/io.ts';
import { planValidateCommand, planInitCommand, planImportCommand } from '../../coordinator/cli/plan-file.ts';
import { parsePlan } from '../../shared/plan/index.ts';
import { VALID, GROUPS, withGroups } from './rows.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'muster-plan-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function io(answers: string[] | null = null) {
  const x = memoryIO(answers);
  x.cwd = dir;
  return x;
}
function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}
function read(name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}

// ---- validate

test('validate: a valid plan exits 0 and says so', async () => {
  const out = io();
  assert.is(await planValidateCommand([write('ok.yaml', VALID)], out), 0);
  assert.is(out.stdout, 'ok.yaml: valid plan (no problems)\n');
});

test('validate: warnings still exit 0', async () => {
  const out = io();
  const file = write('warn.yaml', withGroups('etcd: { expected_count: 1, pool: {} }', ...GROUPS.slice(1)));
  assert.is(await planValidateCommand([file], out), 0);
  assert.match(out.stdout, 'warn.yaml:2:25: warning: etcd.expected_count: 1 etcd node is unsafe, development only');
  assert.match(out.stdout, 'warn.yaml: valid plan (1 warning)');
});

test('validate: every problem at once, exit 1', async () => {
  const out = io();
  const file = write('bad.yaml', withGroups('etcd: { expected_count: 2, pool: {} }', 'master: { expected_count: 2, pool: {} }', GROUPS[2] as string));
  assert.is(await planValidateCommand([file], out), 1);
  assert.equal(out.stdout.trim().split('\n').map((l) => l.replace(/: .*\[/, ' [')), [
    'bad.yaml:2:25 [etcd-count]',
    'bad.yaml:3:1 [load-balancer]',
    'bad.yaml: invalid plan: 2 errors, 0 warnings',
  ]);
});

test('validate: unreadable or unparsable files exit 2', async () => {
  const missing = io();
  assert.is(await planValidateCommand(['nope.yaml'], missing), 2);
  assert.match(missing.stdout, 'nope.yaml: error: cannot read the plan file: no such file');
  const broken = io();
  assert.is(await planValidateCommand([write('broken.yaml', 'cluster: [\n')], broken), 2);
  assert.match(broken.stdout, /broken\.yaml:2:1: error: .* \[yaml\]/);
});

test('validate: usage errors exit 2', async () => {
  assert.is(await planValidateCommand([], io()), 2);
  assert.is(await planValidateCommand(['a.yaml', 'b.yaml'], io()), 2);
  assert.is(await planValidateCommand(['ok.yaml', '--strict'], io()), 2);
});

test('validate --json', async () => {
  const out = io();
  const file = write('json.yaml', withGroups('etcd: { expected_count: 2, pool: {} }', ...GROUPS.slice(1)));
  assert.is(await planValidateCommand([file, '--json'], out), 1);
  const j = JSON.parse(out.stdout);
  assert.equal({ ...j, problems: j.problems.length }, { file: 'json.yaml', format: 'muster', valid: false, exit_code: 1, problems: 1 });
  assert.equal(Object.keys(j.problems[0]), ['severity', 'rule', 'file', 'line', 'column', 'path', 'message', 'fix']);
  assert.is(j.problems[0].line, 2);
});

test('validate: a Kismatic plan', async () => {
  copyFileSync(join(ROOT, 'examples/kismatic-cluster.yaml'), join(dir, 'kismatic-cluster.yaml'));
  const out = io();
  assert.is(await planValidateCommand(['kismatic-cluster.yaml'], out), 1);
  assert.match(out.stdout + out.stderr, 'cluster.version: Kubernetes v1.10.5 is not supported: muster supports v1.34 to v1.36');
  writeFileSync(join(dir, 'kismatic-135.yaml'), readFileSync(join(dir, 'kismatic-cluster.yaml'), 'utf8').replace('version: v1.10.5', 'version: v1.35.1'));
  const ok = io();
  assert.is(await planValidateCommand(['kismatic-135.yaml'], ok), 0);
  assert.match(ok.stdout, 'kismatic-135.yaml: valid Kismatic plan (1 warning)');
});

// ---- init

test('init without a terminal and without --yes names the flags and writes nothing', async () => {
  const out = io(null);
  assert.is(await planInitCommand([], out), 2);
  for (const flag of ['--yes', '--name', '--etcd', '--master', '--worker', '--network', '--pod-cidr', '--service-cidr', '--load-balancer', '--expiry', '--update-hosts-files', '--network-policy']) {
    assert.match(out.stderr, flag);
  }
  assert.not.ok(existsSync(join(dir, 'muster-cluster.yaml')));
});

test('init --yes: without --load-balancer one master (a plan that validates); --master 2 without one is refused', async () => {
  const two = io(null);
  assert.is(await planInitCommand(['--yes', '--master', '2'], two), 2);
  assert.match(two.stderr, 'pass --load-balancer HOST:PORT');
  assert.not.ok(existsSync(join(dir, 'muster-cluster.yaml')));
  const out = io(null);
  assert.is(await planInitCommand(['--yes'], out), 0);
  assert.match(out.stderr, '1 master (a development cluster)');
  const r = parsePlan(read('muster-cluster.yaml'), 'muster-cluster.yaml');
  assert.ok(r.plan, JSON.stringify(r.problems));
  assert.is(r.plan?.master.expected_count, 1);
  rmSync(join(dir, 'muster-cluster.yaml'));
});

test('init --yes writes a plan that passes validation, with pools', async () => {
  const out = io(null);
  assert.is(await planInitCommand(['--yes', '--load-balancer', 'k8s.example.com:6443'], out), 0);
  const text = read('muster-cluster.yaml');
  const r = parsePlan(text, 'muster-cluster.yaml');
  assert.equal(r.problems, []);
  assert.is(r.plan?.etcd.expected_count, 3);
  assert.is(r.plan?.master.expected_count, 2);
  assert.is(r.plan?.worker.expected_count, 3);
  assert.is(r.plan?.master.load_balancer, 'k8s.example.com:6443');
  assert.is(r.plan?.master.pool?.min_cpus, 2);
  assert.equal(r.plan?.worker.nodes, []);
  assert.match(text, /^# Generated by "muster plan init"/);
  assert.is(await planValidateCommand(['muster-cluster.yaml'], io()), 0);
});

test('init refuses to overwrite without --force', async () => {
  const before = read('muster-cluster.yaml');
  const out = io(null);
  assert.is(await planInitCommand(['--yes', '--master', '1'], out), 1);
  assert.match(out.stderr, 'muster-cluster.yaml already exists; pass --force');
  assert.is(read('muster-cluster.yaml'), before);
  assert.is(await planInitCommand(['--yes', '--master', '1', '--force'], io(null)), 0);
  assert.is(parsePlan(read('muster-cluster.yaml'), 'x').plan?.master.expected_count, 1);
});

test('init flags: counts, network, CIDRs, hosts, -o', async () => {
  const out = io(null);
  const args = ['--yes', '-o', 'flags.yaml', '--name', 'lab', '--etcd', '1', '--master', '1', '--worker', '2', '--network', 'routed',
    '--pod-cidr', '10.244.0.0/16', '--service-cidr', '10.96.0.0/12', '--expiry', '8760h', '--update-hosts-files', '--network-policy',
    '--etcd-hosts', 'cp1=10.0.0.11', '--master-hosts', 'cp1=10.0.0.11', '--worker-hosts', 'w1'];
  assert.is(await planInitCommand(args, out), 0, out.stderr);
  const r = parsePlan(read('flags.yaml'), 'flags.yaml');
  const p = r.plan;
  assert.ok(p);
  assert.equal([p.cluster.name, p.cluster.networking.type, p.cluster.networking.pod_cidr_block, p.cluster.networking.service_cidr_block, p.cluster.networking.dns_service_ip],
    ['lab', 'routed', '10.244.0.0/16', '10.96.0.0/12', '10.96.0.10']);
  assert.equal([p.cluster.networking.update_hosts_files, p.cluster.networking.network_policy, p.cluster.certificates.expiry, p.cluster.networking.bgp_as_number], [true, true, '8760h', 64512]);
  assert.equal(p.etcd.nodes.map((n) => `${n.host} ${n.ip}`), ['cp1 10.0.0.11']);
  assert.is(p.etcd.pool, null, 'a group fully named has no pool');
  assert.equal([p.worker.expected_count, p.worker.nodes.length, p.worker.pool?.min_cpus], [2, 1, 1], 'one named worker, one from the pool');
  assert.equal(r.problems.map((x) => x.rule), ['etcd-count', 'master-count'], 'only the development-size warnings');
});

test('init: bad flag values are usage errors', async () => {
  for (const args of [['--yes', '--etcd', '2'], ['--yes', '--network', 'bgp'], ['--yes', '--pod-cidr', '10.0.0.0'], ['--yes', '--expiry', '2y'], ['--yes', '--bogus']]) {
    const out = io(null);
    assert.is(await planInitCommand([...args, '-o', 'never.yaml'], out), 2, args.join(' '));
    assert.ok(out.stderr.length);
  }
  assert.not.ok(existsSync(join(dir, 'never.yaml')));
});

test('init interactive: defaults on empty answers, re-asks on a bad one', async () => {
  // name, etcd (bad, then 5), master, worker, network, hosts files, policy, pod, service, load balancer, expiry
  const out = io(['prod', '4', '5', '', '', 'routed', 'y', '', '', '10.100.0.0/16', 'lb.example.com:6443', '']);
  assert.is(await planInitCommand(['-o', 'asked.yaml'], out), 0, out.stderr);
  assert.match(out.stderr, 'the etcd count must be one of 1, 3, 5, 7');
  const p = parsePlan(read('asked.yaml'), 'asked.yaml').plan;
  assert.ok(p);
  assert.equal([p.cluster.name, p.etcd.expected_count, p.master.expected_count, p.worker.expected_count, p.cluster.networking.type],
    ['prod', 5, 2, 3, 'routed']);
  assert.equal([p.cluster.networking.update_hosts_files, p.cluster.networking.network_policy, p.cluster.networking.service_cidr_block, p.master.load_balancer, p.cluster.certificates.expiry],
    [true, false, '10.100.0.0/16', 'lb.example.com:6443', '17520h']);
});

test('init interactive: flags skip their questions; a DNS name becomes load_balanced_fqdn', async () => {
  const asked: string[] = [];
  const out = io();
  out.ask = async (q) => {
    asked.push(q);
    return q.startsWith('Load-balanced') ? 'k8s.example.com' : '';
  };
  assert.is(await planInitCommand(['-o', 'mixed.yaml', '--name', 'x', '--etcd', '3', '--network', 'overlay'], out), 0, out.stderr);
  assert.equal(asked.map((q) => q.split(' [')[0]?.split(':')[0]), [
    'Number of master nodes', 'Number of worker nodes', 'Let muster manage /etc/hosts on the nodes (instead of DNS)?', 'Enable network policy (Calico)?',
    'Pod network CIDR block', 'Service network CIDR block', "Load-balanced address of the masters' API server (host", 'Certificate lifetime (17520h = 2 years)',
  ]);
  assert.is(parsePlan(read('mixed.yaml'), 'm').plan?.master.load_balanced_fqdn, 'k8s.example.com');
});

test('init interactive: gives up after three bad answers', async () => {
  const out = io(['x', 'two', 'two', 'two']);
  assert.is(await planInitCommand(['-o', 'gaveup.yaml'], out), 2);
  assert.match(out.stderr, 'no valid answer for "Number of etcd nodes (1, 3, 5 or 7)" after 3 tries');
  assert.not.ok(existsSync(join(dir, 'gaveup.yaml')));
});

// ---- import

test('import: YAML on stdout, what was left out on stderr', async () => {
  const out = io();
  assert.is(await planImportCommand(['kismatic-cluster.yaml'], out), 0, out.stderr);
  const r = parsePlan(out.stdout, 'converted.yaml');
  assert.is(r.format, 'muster');
  assert.equal(r.problems, []);
  assert.equal(r.plan?.etcd.nodes.map((n) => n.internal_ip), ['10.0.42.2', '10.0.42.3', '10.0.42.4']);
  assert.match(out.stderr, 'left out of the conversion (6):');
  assert.match(out.stderr, 'changed in the conversion (1):\n  cluster.version: v1.10.5 -> v1.36.3 (muster supports v1.34 to v1.36; set the release you run)');
  assert.is(r.plan?.cluster.version, 'v1.36.3');
  assert.match(out.stdout, '#   cluster.version: v1.10.5 -> v1.36.3');
  assert.match(out.stderr, '  cluster.ssh (line 20): agents pull their work from the coordinator');
  assert.match(out.stdout, '#   cluster.ssh (line 20): agents pull');
  assert.not.match(out.stdout + out.stderr, 'change-me');
});

test('import -o writes the file; refuses to overwrite without --force', async () => {
  const out = io();
  assert.is(await planImportCommand(['kismatic-cluster.yaml', '-o', 'imported.yaml'], out), 0);
  assert.is(out.stdout, '');
  assert.equal(parsePlan(read('imported.yaml'), 'i').problems, []);
  const again = io();
  assert.is(await planImportCommand(['kismatic-cluster.yaml', '-o', 'imported.yaml'], again), 1);
  assert.match(again.stderr, 'already exists');
});

test('import: a muster plan or an invalid Kismatic plan is not converted', async () => {
  const muster = io();
  assert.is(await planImportCommand(['ok.yaml'], muster), 1);
  assert.match(muster.stderr, 'ok.yaml is not a Kismatic plan');
  const bad = io();
  const text = readFileSync(join(ROOT, 'examples/kismatic-cluster.yaml'), 'utf8').replace('expected_count: 3', 'expected_count: 2');
  assert.is(await planImportCommand([write('bad-kismatic.yaml', text)], bad), 1);
  assert.match(bad.stderr, '[etcd-count]');
  assert.match(bad.stderr, 'not converted');
  assert.is(bad.stdout, '');
});

test.run();
