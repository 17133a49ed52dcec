// The kubelet and kube-proxy of the built version load what muster renders for them: the
// KubeletConfiguration decodes strictly (no unknown field) and passes validation -- on this
// machine's cgroup v1 the one complaint left is cgroup v1 itself, which muster never relaxes for
// real nodes -- with every flag of the drop-in accepted; the KubeProxyConfiguration validates and
// kube-proxy goes on to look for its kubeconfig. Both run in a network namespace of their own
// (unshare --net), so nothing they might set up reaches the host's network. A broken setting
// is caught, so the check can fail.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderNodeFiles } from '../../shared/render/index.ts';
import { k8sProgram } from '../helpers/k8s-programs.ts';
import { requireTool } from '../helpers/tools.ts';
import { tempDir } from '../helpers/cluster.ts';
import { renderAssignment } from './fixtures.ts';

const CGROUP_V1 = 'kubelet is configured to not run on a host using cgroup v1';

function renderTo(root: string, runtime: 'containerd' | 'docker', proxyMode = 'iptables') {
  const { files } = renderNodeFiles({ assignment: renderAssignment({ roles: ['worker'], runtime, proxyMode }) });
  for (const f of files) {
    mkdirSync(dirname(join(root, f.path)), { recursive: true });
    writeFileSync(join(root, f.path), f.content);
  }
  return files;
}

/** The kubelet's flags from the rendered drop-in, node paths moved under the test root. */
function dropInFlags(files: { path: string; content: string }[], root: string): string[] {
  const dropIn = files.find((f) => f.path.endsWith('kubelet.service.d/10-muster.conf'))!.content;
  const exec = dropIn.split('\n').filter((l) => l.startsWith('ExecStart=') || l.startsWith('    ')).join(' ');
  const argv = exec.replace(/ExecStart=/g, ' ').replace(/\\/g, ' ').split(/\s+/).filter(Boolean).slice(1);
  return argv.map((a) => a.replace(/=(\/(?:etc|var)\/)/, `=${root}$1`));
}

function run(program: string, args: string[]): string {
  requireTool('unshare', 'util-linux');
  const r = spawnSync('unshare', ['--net', program, ...args], { encoding: 'utf8', timeout: 30_000 });
  return `${r.stdout}${r.stderr}`;
}

for (const runtime of ['containerd', 'docker'] as const) {
  test(`kubelet loads the rendered configuration and flags (${runtime})`, () => {
    const root = tempDir('muster-kubelet-');
    const files = renderTo(root, runtime);
    const out = run(k8sProgram('kubelet'), [...dropInFlags(files, root), `--root-dir=${join(root, 'kubelet-root')}`]);
    assert.not.match(out, /strict decoding error|unknown flag|invalid configuration|failed to load kubelet config/i, out);
    assert.match(out, CGROUP_V1, `validation ran to its end:\n${out}`);
  });
}

test('kubelet: a broken setting is caught (the check can fail)', () => {
  const root = tempDir('muster-kubelet-');
  const files = renderTo(root, 'containerd');
  const cfg = join(root, 'var/lib/kubelet/config.yaml');
  writeFileSync(cfg, files.find((f) => f.path === '/var/lib/kubelet/config.yaml')!.content.replace('healthzPort: 10248', 'healthzPort: -5').replace('readOnlyPort: 0', 'readOnlyPorts: 0'));
  const out = run(k8sProgram('kubelet'), [...dropInFlags(files, root), `--root-dir=${join(root, 'kubelet-root')}`]);
  assert.match(out, /strict decoding error: unknown field \\?"readOnlyPorts\\?"/);
  assert.match(out, /healthzPort \(--healthz-port\) -5 must be between 1 and 65535/);
});

for (const mode of ['iptables', 'ipvs', 'nftables']) {
  test(`kube-proxy accepts the rendered configuration (mode ${mode}) and goes on to its kubeconfig`, () => {
    const root = tempDir('muster-kube-proxy-');
    renderTo(root, 'containerd', mode);
    const out = run(k8sProgram('kube-proxy'), [`--config=${join(root, 'var/lib/kube-proxy/config.conf')}`]);
    assert.not.match(out, /failed validate|strict decoding|unknown field|unknown flag/i, out);
    assert.match(out, /stat \/var\/lib\/kube-proxy\/kubeconfig\.conf: no such file or directory/, `got past validation:\n${out}`);
  });
}

test('kube-proxy: an invalid mode is caught (the check can fail)', () => {
  const root = tempDir('muster-kube-proxy-');
  renderTo(root, 'containerd', 'bogus');
  const out = run(k8sProgram('kube-proxy'), [`--config=${join(root, 'var/lib/kube-proxy/config.conf')}`]);
  assert.match(out, /failed validate: KubeProxyConfiguration\.Mode\.ProxyMode: Invalid value: \\?"bogus\\?"/);
});

test.run();
