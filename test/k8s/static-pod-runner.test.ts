// The static pod runner (test/helpers/static-pod-runner.ts): muster's rendered manifests map to
// processes with every path inside the node root, a manifest the runner cannot run faithfully is
// refused with a message naming why, and the real etcd 3.6 runs from its rendered manifest with
// real certificates, becomes ready through the manifest's own probe and answers etcdctl over TLS
// -- in the test's network namespace and inside one the test creates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createServer } from 'node:https';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { renderNodeFiles } from '../../shared/render/index.ts';
import { createCa, issueLeaf, type CertAndKey } from '../../shared/pki/x509.ts';
import { CLUSTER_CA_PATHS, certKind } from '../../shared/pki/catalogue.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { tempDir } from '../helpers/cluster.ts';
import { etcdProgram, k8sProgram } from '../helpers/k8s-programs.ts';
import { runStaticPod, type RunningPod } from '../helpers/static-pod-runner.ts';
import { processSpec, StaticPodRefused, type ProgramTable } from '../helpers/static-pod-spec.ts';
import { httpProbe } from '../helpers/static-pod-probe.ts';
import { renderAssignment } from '../render/fixtures.ts';

const run = promisify(execFile);
const net = addressBlock(import.meta.url);
const RUN_TIMEOUT_MS = 30_000;
const NODE = 'e1';
const MANIFESTS = '/etc/kubernetes/manifests';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The manifests muster renders for a node with these roles at this address, parsed. */
function renderPods(roles: string[], ip: string): Map<string, { path: string; content: string; pod: Json }> {
  const a = renderAssignment({ roles });
  a.node_name = NODE;
  a.node_ip = ip;
  a.etcd_members = [{ name: NODE, peer_url: `https://${ip}:2380`, client_url: `https://${ip}:2379` }];
  const out = new Map<string, { path: string; content: string; pod: Json }>();
  for (const f of renderNodeFiles({ assignment: a }).files) {
    if (f.path.startsWith(`${MANIFESTS}/`)) out.set(f.path.slice(MANIFESTS.length + 1, -'.yaml'.length), { path: f.path, content: f.content, pod: parse(f.content) });
  }
  return out;
}

const PROGRAMS: ProgramTable = {
  'registry.k8s.io/etcd': '/opt/test/etcd',
  'registry.k8s.io/kube-apiserver': '/opt/test/kube-apiserver',
  'registry.k8s.io/kube-controller-manager': '/opt/test/kube-controller-manager',
  'registry.k8s.io/kube-scheduler': '/opt/test/kube-scheduler',
};

test('the rendered etcd manifest maps to its program with every path inside the node root', () => {
  const { pod } = renderPods(['etcd'], '127.1.2.3').get('etcd')!;
  const s = processSpec(pod, '/r', PROGRAMS);
  assert.is(s.program, '/opt/test/etcd');
  assert.equal(s.args, [
    '--advertise-client-urls=https://127.1.2.3:2379',
    '--cert-file=/r/etc/kubernetes/pki/etcd/server.crt',
    '--client-cert-auth=true',
    '--data-dir=/r/var/lib/etcd',
    '--feature-gates=InitialCorruptCheck=true',
    '--initial-advertise-peer-urls=https://127.1.2.3:2380',
    '--initial-cluster=e1=https://127.1.2.3:2380',
    '--initial-cluster-state=new',
    '--key-file=/r/etc/kubernetes/pki/etcd/server.key',
    '--listen-client-urls=https://127.0.0.1:2379,https://127.1.2.3:2379',
    '--listen-metrics-urls=http://127.0.0.1:2381',
    '--listen-peer-urls=https://127.1.2.3:2380',
    '--name=e1',
    '--peer-cert-file=/r/etc/kubernetes/pki/etcd/peer.crt',
    '--peer-client-cert-auth=true',
    '--peer-key-file=/r/etc/kubernetes/pki/etcd/peer.key',
    '--peer-trusted-ca-file=/r/etc/kubernetes/pki/etcd/ca.crt',
    '--snapshot-count=10000',
    '--trusted-ca-file=/r/etc/kubernetes/pki/etcd/ca.crt',
    '--watch-progress-notify-interval=5s',
  ]);
  assert.equal(s.probes.startup && { host: s.probes.startup.host, port: s.probes.startup.port, path: s.probes.startup.path, scheme: s.probes.startup.scheme, initialDelayMs: s.probes.startup.initialDelayMs, periodMs: s.probes.startup.periodMs, failureThreshold: s.probes.startup.failureThreshold },
    { host: '127.0.0.1', port: 2381, path: '/readyz', scheme: 'http', initialDelayMs: 10_000, periodMs: 10_000, failureThreshold: 24 });
  assert.equal(s.probes.readiness && [s.probes.readiness.path, s.probes.readiness.periodMs, s.probes.readiness.failureThreshold], ['/readyz', 1000, 3]);
  assert.equal(s.volumes.find((v) => v.hostPath === '/var/lib/etcd'), { hostPath: '/var/lib/etcd', type: 'DirectoryOrCreate', readOnly: false });
});

test('every control-plane manifest muster renders is runnable: each path it names is under a mount', () => {
  const pods = renderPods(['etcd', 'master'], '127.1.2.3');
  assert.equal([...pods.keys()].sort(), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
  for (const [name, { pod }] of pods) {
    const s = processSpec(pod, '/r', PROGRAMS);
    assert.is(s.program, `/opt/test/${name}`, name);
    const paths = s.args.flatMap((a) => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : a).split(',')).filter((v) => v.startsWith('/'));
    assert.ok(paths.length > 0, `${name} names files`);
    for (const p of paths) assert.ok(p.startsWith('/r/'), `${name}: ${p} is inside the root`);
    // The API server's and the others' probes are HTTPS on loopback.
    if (name !== 'etcd') assert.is(s.probes.liveness?.scheme, 'https', name);
  }
});

/** The rendered etcd pod with one change, for the refusal rows. */
function etcdWith(change: (pod: Json) => void): Json {
  const pod = structuredClone(renderPods(['etcd'], '127.1.2.3').get('etcd')!.pod);
  change(pod);
  return pod;
}

const REFUSALS: [string, (pod: Json) => void, RegExp][] = [
  ['a command that is not the image\'s program', (p) => { p.spec.containers[0].command[0] = 'sh'; }, /command "sh" is not etcd, the program of image registry\.k8s\.io\/etcd:3\.6\.\d+-0/],
  ['the right program under another path', (p) => { p.spec.containers[0].command[0] = '/usr/local/bin/etcd'; }, /command "\/usr\/local\/bin\/etcd" is not etcd/],
  ['a path outside every mount', (p) => { p.spec.containers[0].command.push('--wal-dir=/var/lib/etcd-wal'); }, /path \/var\/lib\/etcd-wal \(in "--wal-dir=\/var\/lib\/etcd-wal"\) is under no volume mount/],
  ['a path outside every mount as a separate argument', (p) => { p.spec.containers[0].args = ['--wal-dir', '/srv/wal']; }, /path \/srv\/wal \(in "\/srv\/wal"\) is under no volume mount/],
  ['a path that climbs out of its mount', (p) => { p.spec.containers[0].command.push('--wal-dir=/var/lib/etcd/../wal'); }, /path \/var\/lib\/etcd\/\.\.\/wal .* is not normalised/],
  ['hostNetwork false', (p) => { p.spec.hostNetwork = false; }, /hostNetwork is not true/],
  ['hostNetwork absent', (p) => { delete p.spec.hostNetwork; }, /hostNetwork is not true/],
  ['two containers', (p) => { p.spec.containers.push({ ...p.spec.containers[0], name: 'second' }); }, /2 containers; exactly one is supported/],
  ['an init container', (p) => { p.spec.initContainers = [p.spec.containers[0]]; }, /initContainers are not supported/],
  ['an unknown image', (p) => { p.spec.containers[0].image = 'registry.k8s.io/etcd-custom:3.6.8-0'; }, /no program for image registry\.k8s\.io\/etcd-custom:3\.6\.8-0/],
  ['another registry', (p) => { p.spec.containers[0].image = 'mirror.example/etcd:3.6.8-0'; }, /no program for image mirror\.example\/etcd:3\.6\.8-0/],
  ['no command (the image entrypoint)', (p) => { delete p.spec.containers[0].command; }, /has no command/],
  ['$(VAR) expansion', (p) => { p.spec.containers[0].command.push('--name=$(NODE)'); }, /uses \$\(VAR\) expansion/],
  ['env from the downward API', (p) => { p.spec.containers[0].env = [{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }]; }, /env IP uses valueFrom/],
  ['a volume that is not hostPath', (p) => { p.spec.volumes.push({ name: 'scratch', emptyDir: {} }); }, /volume scratch is emptyDir; only hostPath/],
  ['a subPath mount', (p) => { p.spec.containers[0].volumeMounts[0].subPath = 'x'; }, /volumeMount \S+ has subPath/],
  ['an exec probe', (p) => { p.spec.containers[0].livenessProbe = { exec: { command: ['true'] } }; }, /livenessProbe has exec: only httpGet probes/],
  ['a probe without host', (p) => { delete p.spec.containers[0].readinessProbe.httpGet.host; }, /readinessProbe\.httpGet has no host/],
  ['a workingDir', (p) => { p.spec.containers[0].workingDir = '/var/lib/etcd'; }, /has workingDir, which this runner does not reproduce/],
  ['an unknown spec field', (p) => { p.spec.shareProcessNamespace = true; }, /spec has shareProcessNamespace/],
];

for (const [what, change, message] of REFUSALS) {
  test(`refused: ${what}`, () => {
    const pod = etcdWith(change);
    try {
      processSpec(pod, '/r', PROGRAMS);
      assert.unreachable('accepted');
    } catch (err) {
      assert.instance(err, StaticPodRefused);
      assert.match((err as Error).message, /^static pod etcd: cannot run faithfully: /);
      assert.match((err as Error).message, message);
    }
  });
}

test('a program keyed by image and tag insists on the tag', () => {
  const pod = etcdWith(() => {});
  const tag = (pod.spec.containers[0].image as string).split(':')[1]!;
  assert.is(processSpec(pod, '/r', { [`registry.k8s.io/etcd:${tag}`]: '/opt/a/etcd' }).program, '/opt/a/etcd');
  assert.throws(() => processSpec(pod, '/r', { 'registry.k8s.io/etcd:3.5.0-0': '/opt/a/etcd' }), /no program for image/);
});

test('the HTTPS probe skips certificate verification, as the kubelet does, and fails on 5xx', async () => {
  const ca = await createCa('probe-test-ca', 1);
  const leaf = await issueLeaf(ca, { cn: 'probe', ips: [net.host(3)], usages: ['server'], days: 1 });
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    res.writeHead(req.url === '/livez' ? 200 : 503).end(req.url === '/livez' ? 'ok' : '[-]etcd failed');
  });
  server.listen(0, net.host(3));
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  try {
    const t = { host: net.host(3), port, scheme: 'https' as const, headers: {}, timeoutMs: 5_000 };
    assert.equal(await httpProbe({ ...t, path: '/livez' }), { ok: true, detail: '200' });
    assert.equal(await httpProbe({ ...t, path: '/readyz' }), { ok: false, detail: '503: [-]etcd failed' });
    const closed = await httpProbe({ ...t, port: 1, path: '/livez' });
    assert.is(closed.ok, false);
    assert.match(closed.detail, /ECONNREFUSED/);
  } finally {
    server.close();
  }
});

// ---- the real etcd ----

/** An etcd CA and the node's etcd certificates at the catalogue's paths under root; returns the CA. */
async function writeEtcdPki(root: string, ip: string): Promise<CertAndKey> {
  const ca = await createCa('etcd-ca', 1);
  const write = (rel: string, content: string, mode: number) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), content, { mode });
  };
  write(CLUSTER_CA_PATHS.etcd, ca.certPem, 0o644);
  for (const kind of ['etcd-server', 'etcd-peer', 'etcd-healthcheck-client']) {
    const k = certKind(kind)!;
    // The etcd SAN rule (coordinator/pki/sans.ts): node name and address, localhost, loopback.
    const sans = k.sans === 'etcd' ? { dnsNames: [NODE, 'localhost'], ips: [ip, '127.0.0.1', '::1'] } : {};
    const leaf = await issueLeaf(ca, { cn: k.cn(NODE), orgs: [...k.orgs], usages: [...k.usages], days: 1, ...sans });
    write(k.certPath, leaf.certPem, 0o644);
    write(k.keyPath, leaf.keyPem, 0o600);
  }
  return ca;
}

/** A node root with the etcd PKI and the rendered etcd manifest written where the agent writes them. */
async function etcdNode(ip: string): Promise<{ root: string; manifest: string }> {
  const root = tempDir('muster-podrun-');
  await writeEtcdPki(root, ip);
  const f = renderPods(['etcd'], ip).get('etcd')!;
  mkdirSync(join(root, MANIFESTS), { recursive: true });
  writeFileSync(join(root, f.path), f.content, { mode: 0o600 });
  return { root, manifest: join(root, f.path) };
}

function etcdctl(root: string, ip: string, args: string[], netns?: string): Promise<{ stdout: string; stderr: string }> {
  const pki = (rel: string) => join(root, rel);
  const hc = certKind('etcd-healthcheck-client')!;
  const argv = [`--endpoints=https://${ip}:2379`, `--cacert=${pki(CLUSTER_CA_PATHS.etcd)}`, `--cert=${pki(hc.certPath)}`, `--key=${pki(hc.keyPath)}`, ...args];
  return netns ? run('ip', ['netns', 'exec', netns, etcdProgram('etcdctl'), ...argv], { timeout: RUN_TIMEOUT_MS }) : run(etcdProgram('etcdctl'), argv, { timeout: RUN_TIMEOUT_MS });
}

async function stopped(pod: RunningPod | undefined, root: string): Promise<void> {
  if (pod) await pod.stop();
  rmSync(root, { recursive: true, force: true });
}

test('etcd runs from its rendered manifest, is ready by the manifest\'s probe, and answers etcdctl with the healthcheck-client certificate', async () => {
  const ip = net.host(2);
  const { root, manifest } = await etcdNode(ip);
  let pod: RunningPod | undefined;
  try {
    const t0 = Date.now();
    pod = await runStaticPod(manifest, { root, programs: { 'registry.k8s.io/etcd': etcdProgram('etcd') } });
    await pod.ready();
    const readyMs = Date.now() - t0;
    // The startup probe waits its initialDelaySeconds (10 s) before the first attempt, as the kubelet does.
    assert.ok(readyMs >= 10_000, `ready after ${readyMs} ms, before the startup probe's initial delay`);
    console.log(`  etcd ready after ${readyMs} ms`);
    const health = await etcdctl(root, ip, ['endpoint', 'health']);
    assert.match(health.stdout + health.stderr, new RegExp(`^https://${ip.replaceAll('.', '\\.')}:2379 is healthy`, 'm'));
    await etcdctl(root, ip, ['put', 'muster/k', 'v']);
    assert.is((await etcdctl(root, ip, ['get', '--print-value-only', 'muster/k'])).stdout.trim(), 'v');
    // The data went where the manifest's data volume's hostPath is, inside the root.
    await run('test', ['-d', join(root, 'var/lib/etcd/member/wal')]);
    // etcd wrote nothing under its read-only mounts (its PKI files).
    assert.equal(pod.changedReadOnlyPaths(), []);
    const e = await pod.stop();
    assert.ok(e.code === 0 || e.signal === 'SIGTERM', `stopped: ${JSON.stringify(e)}`);
  } finally {
    await stopped(pod, root);
  }
});

test('ready() rejects with the log tail when the process exits first', async () => {
  const ip = net.host(4);
  const { root, manifest } = await etcdNode(ip);
  let pod: RunningPod | undefined;
  try {
    const bad = parse(readFileSync(manifest, 'utf8'));
    bad.spec.containers[0].command.push('--no-such-flag=1');
    pod = await runStaticPod(bad, { root, programs: { 'registry.k8s.io/etcd': etcdProgram('etcd') } });
    try {
      await pod.ready();
      assert.unreachable('ready');
    } catch (err) {
      assert.match((err as Error).message, /^static pod etcd: exited \(\d+\) before ready; log tail:\n/);
      assert.match((err as Error).message, /no-such-flag/);
    }
  } finally {
    await stopped(pod, root);
  }
});

test('a File mount that is not written yet is refused before anything starts', async () => {
  const ip = net.host(5);
  const { root, manifest } = await etcdNode(ip);
  try {
    rmSync(join(root, certKind('etcd-peer')!.keyPath));
    await runStaticPod(manifest, { root, programs: { 'registry.k8s.io/etcd': etcdProgram('etcd') } }).then(
      () => assert.unreachable('started'),
      (err: Error) => assert.match(err.message, /hostPath \/etc\/kubernetes\/pki\/etcd\/peer\.key \(File\) is not a file under /),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('with netns, etcd binds and is probed inside a network namespace the test created', async () => {
  const ns = `muster-podrun-${process.pid}`;
  const ip = net.host(6);
  const { root, manifest } = await etcdNode(ip);
  let pod: RunningPod | undefined;
  await run('ip', ['netns', 'add', ns]);
  try {
    // A new namespace's loopback is down; up, it carries 127.0.0.0/8 like the host's.
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    pod = await runStaticPod(manifest, { root, programs: { 'registry.k8s.io/etcd': etcdProgram('etcd') }, netns: ns });
    await pod.ready();
    const health = await etcdctl(root, ip, ['endpoint', 'health'], ns);
    assert.match(health.stdout + health.stderr, / is healthy/);
    // Not in the test's own namespace: 127.0.0.1:2381 there is someone else's (or nobody's).
    const outside = await httpProbe({ host: ip, port: 2379, path: '/health', scheme: 'https', headers: {}, timeoutMs: 2_000 });
    assert.is(outside.ok, false, 'etcd is not reachable from the root namespace');
  } finally {
    await stopped(pod, root);
    await run('ip', ['netns', 'del', ns]);
  }
});

test.run();
