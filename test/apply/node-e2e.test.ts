// A node rendered and applied end to end: real coordinator, real agents on node roots. The files
// the agent writes are the ones `muster render` previews; a hand edit is shown by
// `muster-agent apply --dry-run`, undone by the agent's next pass and reported, so `muster
// status` says drift was repaired; a role taken away leaves none of its files behind (the
// service-account key included).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { tempDir, testCoordinator, threeNodePlan, runAgent, waitFor, type RunningAgent } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { main as muster } from '../../coordinator/cli/main.ts';
import { main as agentCli } from '../../agent/cli/main.ts';
import { memoryIO } from '../../shared/cli/io.ts';
import { NoServices } from '../../agent/apply/services.ts';
import { SERVICE_ACCOUNT_PATHS } from '../../shared/pki/catalogue.ts';
import { execFileSync } from 'node:child_process';
import { k8sProgram } from '../helpers/k8s-programs.ts';
import { issuedBy } from '../../shared/pki/x509.ts';

const net = addressBlock(import.meta.url);
const dir = tempDir('muster-node-e2e-');
const dataDir = join(dir, 'coord');
const rootOf = (n: string) => join(dir, n, 'root');
const stateOf = (n: string) => join(dir, n, 'state');
const agents = new Map<string, RunningAgent & { services: NoServices }>();
let c: Awaited<ReturnType<typeof testCoordinator>>;

async function cli(args: string[]) {
  const io = memoryIO();
  const code = await muster([...args, '--data-dir', dataDir], io);
  return { code, out: io.stdout, err: io.stderr };
}

const applied = (name: string) => {
  const a = c.state.assignments.get(name);
  const r = c.state.reports.applies.get(name);
  return Boolean(a && r?.ok && r.revision === a.revision);
};

test('set-up: a master+etcd node and two workers apply their rendered files', async () => {
  writeFileSync(join(dir, 'plan.yaml'), threeNodePlan('node-e2e', '', { addresses: [net.host(2), net.host(3), net.host(4)] }).replace('max_peer_latency_ms: 1000', 'max_peer_latency_ms: 1000\n    ignore: [all]'));
  c = await testCoordinator(dataDir, { planFile: join(dir, 'plan.yaml'), listen: `${net.host(1)}:0` });
  const { token } = await c.state.tokens.create({ uses: 3 });
  for (const [name, ip] of [['node-1', net.host(2)], ['node-2', net.host(3)], ['node-3', net.host(4)]] as const) {
    const services = new NoServices(null, 'test');
    const a = runAgent({ coordinator: c.address, token, caHash: c.identity.caPin, nodeName: name, address: ip, stateDir: stateOf(name), root: rootOf(name), reportIntervalMs: 400 }, undefined, { services });
    agents.set(name, Object.assign(a, { services }));
  }
  await waitFor('every node applied', () => ['node-1', 'node-2', 'node-3'].every(applied), 30_000);
  for (const f of ['etc/kubernetes/manifests/kube-apiserver.yaml', 'etc/kubernetes/manifests/etcd.yaml', 'var/lib/kubelet/config.yaml', 'etc/systemd/system/kubelet.service', SERVICE_ACCOUNT_PATHS.privateKey]) {
    assert.ok(existsSync(join(rootOf('node-1'), f)), `node-1 has /${f}`);
  }
  assert.not.ok(existsSync(join(rootOf('node-2'), 'etc/kubernetes/manifests/kube-apiserver.yaml')), 'a worker runs no API server');
});

test("kubectl (the built v1.36) reads every kubeconfig the agents wrote: the plan's API server, the node's CA bundle, the kind's client certificate", () => {
  const kubectl = k8sProgram('kubectl');
  const rows: [string, string, string][] = [
    ['node-1', 'etc/kubernetes/kubelet.conf', `https://127.0.0.1:6443`],
    ['node-1', 'etc/kubernetes/controller-manager.conf', 'https://127.0.0.1:6443'],
    ['node-1', 'etc/kubernetes/scheduler.conf', 'https://127.0.0.1:6443'],
    ['node-1', 'etc/kubernetes/admin.conf', 'https://127.0.0.1:6443'],
    ['node-2', 'etc/kubernetes/kubelet.conf', `https://${net.host(2)}:6443`],
    ['node-2', 'var/lib/kube-proxy/kubeconfig.conf', `https://${net.host(2)}:6443`],
  ];
  for (const [node, file, server] of rows) {
    const path = join(rootOf(node), file);
    const out = execFileSync(kubectl, ['config', 'view', '--kubeconfig', path, '--raw', '-o', 'json'], { encoding: 'utf8' });
    const cfg = JSON.parse(out) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[]; users: { user: { 'client-certificate-data': string } }[]; 'current-context': string };
    assert.is(cfg.clusters[0]!.cluster.server, server, `${node} ${file}`);
    assert.is(Buffer.from(cfg.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString(), readFileSync(join(rootOf(node), 'etc/kubernetes/pki/ca.crt'), 'utf8'), `${node} ${file}: the node's kubernetes CA bundle`);
    assert.ok(cfg['current-context'], `${node} ${file} has a current context`);
    const cert = Buffer.from(cfg.users[0]!.user['client-certificate-data'], 'base64').toString();
    assert.ok(issuedBy(cert, readFileSync(join(rootOf(node), 'etc/kubernetes/pki/ca.crt'), 'utf8')), `${node} ${file}: its client certificate is the kubernetes CA's`);
  }
});

test('muster render previews exactly the files the agent wrote (the same renderers, the same assignment)', async () => {
  const r = await cli(['render', '--node', 'node-2', '--json']);
  assert.is(r.code, 0, r.err);
  const preview = JSON.parse(r.out) as { files: { path: string }[] };
  assert.ok(preview.files.length > 10, `${preview.files.length} files`);
  for (const f of preview.files) {
    const shown = await cli(['render', '--node', 'node-2', '--show', f.path]);
    assert.is(shown.code, 0, shown.err);
    assert.is(`${readFileSync(join(rootOf('node-2'), f.path), 'utf8')}\n`.replace(/\n\n$/, '\n'), shown.out.replace(/\n\n$/, '\n'), `${f.path} as rendered on the node`);
  }
  const missing = await cli(['render', '--node', 'nope']);
  assert.is(missing.code, 1);
  assert.match(missing.err, /node nope is not registered/);
});

test('a hand edit: apply --dry-run shows it, the next pass undoes it, and status says drift was repaired', async () => {
  const cfg = join(rootOf('node-3'), 'var/lib/kubelet/config.yaml');
  const good = readFileSync(cfg, 'utf8');
  const a = agents.get('node-3')!;
  await a.stop();
  writeFileSync(cfg, good.replace('readOnlyPort: 0', 'readOnlyPort: 10255'));
  const io = memoryIO();
  const code = await agentCli(['apply', '--dry-run', '--state-dir', stateOf('node-3'), '--root', rootOf('node-3')], io);
  assert.is(code, 1, io.stderr);
  assert.match(io.stdout, /^-readOnlyPort: 10255$/m);
  assert.match(io.stdout, /^\+readOnlyPort: 0$/m);
  assert.is(readFileSync(cfg, 'utf8').includes('10255'), true, 'the dry run wrote nothing');
  const services = new NoServices(null, 'test');
  const again = runAgent({ coordinator: c.address, nodeName: 'node-3', address: net.host(4), stateDir: stateOf('node-3'), root: rootOf('node-3'), reportIntervalMs: 400 }, undefined, { services });
  agents.set('node-3', Object.assign(again, { services }));
  await waitFor('the kubelet config restored', () => readFileSync(cfg, 'utf8') === good, 20_000);
  // The restart runs after the pass's writes: wait for it rather than race it.
  await waitFor('the kubelet restarted for its restored config', () => services.skipped.some((x) => x.kind === 'restart' && x.unit === 'kubelet.service'), 20_000);
  await waitFor('status shows the drift', () => c.state.status().find((r) => r.name === 'node-3')?.detail.includes('drift repaired'), 20_000);
  const st = await cli(['status', '--json']);
  assert.match(st.out, /drift repaired .*\/var\/lib\/kubelet\/config\.yaml/);
  const clean = memoryIO();
  assert.is(await agentCli(['apply', '--dry-run', '--state-dir', stateOf('node-3'), '--root', rootOf('node-3')], clean), 0, clean.stdout);
});

test('a role taken away leaves nothing behind: node-1 loses master, and with it the API server, its certificates and the service-account key', async () => {
  const root = rootOf('node-1');
  const r = await cli(['node', 'assign', 'node-1', '--role', 'etcd']);
  assert.is(r.code, 0, r.err);
  await waitFor('node-1 applied etcd alone', () => applied('node-1') && c.state.assignments.get('node-1')!.body.roles.join() === 'etcd', 30_000);
  for (const f of ['etc/kubernetes/manifests/kube-apiserver.yaml', 'etc/kubernetes/manifests/kube-scheduler.yaml', SERVICE_ACCOUNT_PATHS.privateKey, 'etc/kubernetes/pki/apiserver.key', 'etc/kubernetes/admin.conf', 'etc/kubernetes/kubelet.conf', 'var/lib/kube-proxy/config.conf']) {
    assert.not.ok(existsSync(join(root, f)), `/${f} is gone`);
  }
  assert.ok(existsSync(join(root, 'etc/kubernetes/manifests/etcd.yaml')), 'the etcd manifest stays');
  // The kubelet stays to run it, standalone: no API server, no server of its own.
  const kubelet = parse(readFileSync(join(root, 'var/lib/kubelet/config.yaml'), 'utf8'));
  assert.is(kubelet.enableServer, false);
  assert.is(kubelet.staticPodPath, '/etc/kubernetes/manifests');
  assert.not.match(readFileSync(join(root, 'etc/systemd/system/kubelet.service.d/10-muster.conf'), 'utf8'), '--kubeconfig');
  const report = c.state.reports.applies.get('node-1')!;
  assert.ok(report.files.length > 0);
});

test('muster-agent reset removes exactly what muster wrote, and the identity; without --yes it only lists', async () => {
  const name = 'node-2';
  await agents.get(name)!.stop();
  const root = rootOf(name);
  writeFileSync(join(root, 'etc', 'operator.conf'), 'mine\n');
  const list = memoryIO();
  assert.is(await agentCli(['reset', '--state-dir', stateOf(name), '--root', root], list), 1);
  assert.match(list.stdout, /\/var\/lib\/kubelet\/config\.yaml/);
  assert.ok(existsSync(join(root, 'var/lib/kubelet/config.yaml')), 'nothing removed without --yes');
  const io = memoryIO();
  assert.is(await agentCli(['reset', '--yes', '--state-dir', stateOf(name), '--root', root], io), 0, io.stderr);
  const left = (await import('node:fs')).readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length));
  assert.equal(left, ['/etc/operator.conf'], 'only the operator\'s file is left');
  assert.not.ok(existsSync(join(stateOf(name), 'identity.pem')), 'the identity is gone');
});

test.after(async () => {
  for (const a of agents.values()) await a.stop();
  await c?.close();
});

test.run();
