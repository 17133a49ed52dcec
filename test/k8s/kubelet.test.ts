// The real kubelet, of the plan's version and of the previous minor, started as systemd would
// start it from what muster rendered for a node: argv from the rendered unit and drop-in (parsed,
// not retyped), the rendered KubeletConfiguration, real certificates and the kubeconfig the agent
// writes. It must get past configuration and stop for want of a container runtime -- the one
// thing a test machine lacks -- and not on a flag or configuration error (a flag one version
// dropped is exactly what this catches).
//
// What is mapped, and why: every node path (flags, the configuration's path fields, the CRI
// endpoint's socket) moves under a temporary node root, as the static pod runner does for pods,
// so the kubelet touches no /var/lib/kubelet or /run of the host and cannot reach a real
// containerd there; --root-dir (the kubelet's built-in /var/lib/kubelet) moves likewise. The
// kubelet runs in a network namespace of its own (unshare --net, loopback only), and its
// kubeconfig points at 127.0.0.1 inside it, where nothing listens. One deviation from the
// rendered file: on a cgroup v1 host (this machine) failCgroupV1 is set false, since the kubelet
// of 1.35+ otherwise stops at that check before it looks for its runtime; muster never relaxes it
// for real nodes (test/render/node-daemons-programs.test.ts asserts the refusal).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderNodeFiles } from '../../shared/render/index.ts';
import { KUBELET_PATHS } from '../../shared/render/node/kubelet.ts';
import { renderKubeconfig } from '../../shared/render/kubeconfig.ts';
import { createCa, issueLeaf } from '../../shared/pki/x509.ts';
import { K8S_PREVIOUS_VERSION, K8S_VERSION, k8sProgram } from '../helpers/k8s-programs.ts';
import { effectiveExecStart, kubeletConfigText, mapFlags, mapKubeletConfig, underRoot } from '../helpers/kubelet-launch.ts';
import { requireTool } from '../helpers/tools.ts';
import { tempDir } from '../helpers/cluster.ts';
import { renderAssignment } from '../render/fixtures.ts';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const cgroupV1 = () => statfsSync('/sys/fs/cgroup').type !== CGROUP2_SUPER_MAGIC;

/** The kubelet's complaint when nothing answers at the CRI endpoint (both versions). */
const NO_RUNTIME = /validate CRI v1 runtime API for endpoint \\?"unix:\/\/([^"\\]+)\\?"/;
const CONFIG_ERROR = /strict decoding error|unknown flag|invalid configuration|failed to load kubelet config|failed to validate kubelet|unknown field/i;
/** The kubelet's one fatal line: `run.go] "command failed" err=...`. */
const FATAL = /"command failed" err="(.*)$/gm;

function writeAt(p: string, content: string, mode = 0o644) {
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content, { mode });
}

const write = (root: string, nodePath: string, content: string, mode = 0o644) => writeAt(underRoot(root, nodePath), content, mode);
const found = <T>(v: T | undefined, what: string): T => (v === undefined ? assert.unreachable(what) as never : v);

async function prepareNode(version: string, roles: string[] = ['worker']) {
  const root = tempDir('muster-kubelet-run-');
  const assignment = renderAssignment({ roles, kubernetes_version: version });
  const { files } = renderNodeFiles({ assignment });
  for (const f of files) write(root, f.path, f.content);
  const text = (p: string) => found(files.find((f) => f.path === p)?.content, `nothing rendered at ${p}`);
  const argv = effectiveExecStart([text(KUBELET_PATHS.unit), text(KUBELET_PATHS.dropIn)]);

  const flag = (name: string) => found(argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1), `the rendered unit has no ${name}`);
  const cfg = mapKubeletConfig(root, text(KUBELET_PATHS.config));
  if (cgroupV1()) cfg.failCgroupV1 = false;
  write(root, flag('--config'), kubeletConfigText(cfg));
  // An etcd-only member's kubelet is standalone: no kubeconfig, no certificates of its own.
  if (!roles.includes('worker') && !roles.includes('master')) return { root, argv, cfg };

  // The identities the agent installs: the cluster CA, the kubelet's client certificate inside
  // its kubeconfig, its serving certificate.
  const ca = await createCa('kubernetes', 1);
  const client = await issueLeaf(ca, { cn: 'system:node:w1', orgs: ['system:nodes'], usages: ['client'], days: 1 });
  const serving = await issueLeaf(ca, { cn: 'w1', dnsNames: ['w1'], ips: ['10.0.0.5'], usages: ['server'], days: 1 });
  const x509 = (cfg.authentication as { x509: { clientCAFile: string } }).x509;
  writeAt(x509.clientCAFile, ca.certPem);
  writeAt(cfg.tlsCertFile as string, serving.certPem);
  writeAt(cfg.tlsPrivateKeyFile as string, serving.keyPem, 0o600);
  write(root, flag('--kubeconfig'), renderKubeconfig({ clusterName: 'render-test', server: 'https://127.0.0.1:6443', caPem: ca.certPem, userName: 'system:node:w1', certPem: client.certPem, keyPem: client.keyPem }), 0o600);
  return { root, argv, cfg };
}

/** Runs the kubelet until it exits (bounded: killed after two minutes); its whole output. */
function runKubelet(program: string, args: string[]): Promise<{ out: string; code: number | null }> {
  requireTool('unshare', 'util-linux');
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--net', program, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ out, code });
    });
  });
}

for (const version of [K8S_VERSION, K8S_PREVIOUS_VERSION]) {
  test(`kubelet ${version} starts from its rendered unit and config, and stops only for want of a container runtime`, async () => {
    const { root, argv, cfg } = await prepareNode(version);
    assert.is(argv[0], '/usr/bin/kubelet', 'the unit runs the kubelet');
    const args = [...mapFlags(root, argv.slice(1)), `--root-dir=${underRoot(root, '/var/lib/kubelet')}`];
    const { out, code } = await runKubelet(k8sProgram('kubelet', version), args);
    assert.not.match(out, CONFIG_ERROR, `a configuration or flag error:\n${out}`);
    const fatal = [...out.matchAll(FATAL)].map((f) => f[1]!);
    assert.is(fatal.length, 1, `one fatal error:\n${out}`);
    assert.match(fatal[0]!, /^failed to run Kubelet: validate service connection: /, `the kubelet stopped at its container runtime, not before:\n${out}`);
    const m = NO_RUNTIME.exec(fatal[0]!);
    assert.ok(m, `the kubelet did not stop at its container runtime:\n${out}`);
    assert.is(`unix://${m[1]}`, cfg.containerRuntimeEndpoint, 'the endpoint from the rendered config, under the node root');
    assert.match(out, /no such file or directory/, out);
    assert.ok(code !== 0, 'the kubelet exits non-zero');
    assert.ok(readFileSync(cfg.tlsCertFile as string, 'utf8').includes('BEGIN CERTIFICATE'));
  });
}

for (const version of [K8S_VERSION, K8S_PREVIOUS_VERSION]) {
  test(`kubelet ${version}, standalone on an etcd-only member (no kubeconfig, no server): starts from its rendered files and stops only for want of a container runtime`, async () => {
    const { root, argv, cfg } = await prepareNode(version, ['etcd']);
    assert.not.ok(argv.some((a) => a.startsWith('--kubeconfig')), argv.join(' '));
    const args = [...mapFlags(root, argv.slice(1)), `--root-dir=${underRoot(root, '/var/lib/kubelet')}`];
    const { out, code } = await runKubelet(k8sProgram('kubelet', version), args);
    assert.not.match(out, CONFIG_ERROR, `a configuration or flag error:\n${out}`);
    assert.match(out, /"Standalone mode, no API client"/, `the kubelet runs standalone:\n${out}`);
    const fatal = [...out.matchAll(FATAL)].map((f) => f[1]!);
    assert.is(fatal.length, 1, `one fatal error:\n${out}`);
    const m = NO_RUNTIME.exec(fatal[0]!);
    assert.ok(m, `the kubelet did not stop at its container runtime:\n${out}`);
    assert.is(`unix://${m[1]}`, cfg.containerRuntimeEndpoint, 'the endpoint from the rendered config, under the node root');
    assert.ok(code !== 0, 'the kubelet exits non-zero');
  });
}

test('kubelet: a flag the version does not know is caught (the check can fail)', async () => {
  const { root, argv } = await prepareNode(K8S_VERSION);
  const { out } = await runKubelet(k8sProgram('kubelet'), [...mapFlags(root, argv.slice(1)), `--root-dir=${underRoot(root, '/var/lib/kubelet')}`, '--container-runtime=remote']);
  assert.match(out, /unknown flag: --container-runtime/);
  assert.not.match(out, NO_RUNTIME);
});

test.run();
