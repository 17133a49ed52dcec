// The kubelet and kube-proxy renderers: their configuration per role, runtime and Kubernetes
// minor, the flags that stay flags, labels the kubelet may not set itself left to the API, and
// every unit and drop-in passing `systemd-analyze verify`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { renderNodeFiles } from '../../shared/render/index.ts';
import { compileContext } from '../../shared/render/context.ts';
import { kubeletFlags, labelsForApi } from '../../shared/render/node/kubelet.ts';
import { isKubeletLabel } from '../../shared/render/node/kubelet-labels.ts';
import { MANAGED_NOTICE } from '../../shared/render/header.ts';
import { verifyUnits } from '../helpers/systemd.ts';
import { renderAssignment } from './fixtures.ts';
import { MINORS } from '../../shared/render/versions.ts';
import { SUPPORTED_MINORS } from '../../shared/plan/k8s-version.ts';

const file = (files: { path: string; content: string }[], path: string) => {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`no ${path} among ${files.map((x) => x.path).join(', ')}`);
  return f.content;
};

for (const minor of [34, 35, 36]) {
  for (const runtime of ['containerd', 'docker'] as const) {
    test(`kubelet on a worker, v1.${minor}, ${runtime}: configuration, flags, units verify`, () => {
      const a = renderAssignment({ roles: ['worker'], kubernetes_version: `v1.${minor}.1`, runtime });
      const { files } = renderNodeFiles({ assignment: a });
      const cfg = parse(file(files, '/var/lib/kubelet/config.yaml'));
      assert.is(cfg.kind, 'KubeletConfiguration');
      assert.is(cfg.apiVersion, 'kubelet.config.k8s.io/v1beta1');
      assert.is(cfg.cgroupDriver, 'systemd');
      assert.equal(cfg.clusterDNS, ['172.17.0.10']);
      assert.is(cfg.clusterDomain, 'cluster.local');
      assert.is(cfg.staticPodPath, '/etc/kubernetes/manifests');
      assert.is(cfg.readOnlyPort, 0);
      assert.is(cfg.authentication.anonymous.enabled, false);
      assert.is(cfg.authentication.webhook.enabled, true);
      assert.is(cfg.authentication.x509.clientCAFile, '/etc/kubernetes/pki/ca.crt');
      assert.is(cfg.authorization.mode, 'Webhook');
      assert.is(cfg.tlsCertFile, '/var/lib/kubelet/pki/kubelet.crt');
      assert.is(cfg.tlsPrivateKeyFile, '/var/lib/kubelet/pki/kubelet.key');
      assert.is(cfg.rotateCertificates, false, "muster renews the kubelet's certificates");
      assert.is(cfg.containerRuntimeEndpoint, runtime === 'docker' ? 'unix:///run/cri-dockerd.sock' : 'unix:///run/containerd/containerd.sock');
      assert.equal(cfg.registerWithTaints, [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }]);
      assert.not.ok('failCgroupV1' in cfg, 'never relaxed for real nodes');
      const dropIn = file(files, '/etc/systemd/system/kubelet.service.d/10-muster.conf');
      assert.match(dropIn, /^ExecStart=$/m);
      assert.match(dropIn, `--hostname-override=w1`);
      assert.match(dropIn, `--node-ip=10.0.0.5`);
      assert.match(dropIn, `--node-labels=disk=ssd`);
      assert.not.match(dropIn, 'node-role.kubernetes.io', 'the kubelet refuses to start with node-role labels');
      const unit = file(files, '/etc/systemd/system/kubelet.service');
      assert.match(unit, runtime === 'docker' ? 'After=network-online.target cri-docker.service' : 'After=network-online.target containerd.service');
      const proxy = parse(file(files, '/var/lib/kube-proxy/config.conf'));
      assert.is(proxy.kind, 'KubeProxyConfiguration');
      assert.is(proxy.clusterCIDR, '172.16.0.0/16');
      assert.is(proxy.mode, 'iptables');
      assert.is(proxy.clientConnection.kubeconfig, '/var/lib/kube-proxy/kubeconfig.conf');
      for (const f of files) if (!f.path.endsWith('.json')) assert.ok(f.content.includes(MANAGED_NOTICE), `${f.path} says muster manages it`);
      const v = verifyUnits(files);
      assert.ok(v.ok, v.output);
    });
  }
}

test('the flags in order; a master keeps its node-role label for the API; proxy mode from the plan', () => {
  const a = renderAssignment({ roles: ['master'], kubernetes_version: 'v1.36.3', proxyMode: 'nftables' });
  const ctx = compileContext({ assignment: a });
  assert.equal(kubeletFlags(ctx), ['--config=/var/lib/kubelet/config.yaml', '--kubeconfig=/etc/kubernetes/kubelet.conf', '--hostname-override=w1', '--node-ip=10.0.0.5', '--node-labels=disk=ssd']);
  assert.equal(labelsForApi(ctx), { 'node-role.kubernetes.io/control-plane': '' });
  const { files } = renderNodeFiles({ assignment: a });
  assert.is(parse(file(files, '/var/lib/kube-proxy/config.conf')).mode, 'nftables');
});

test('an etcd-only node gets a standalone kubelet (static pods only: no API server, no server of its own) and no kube-proxy or pod-network settings', () => {
  const { files } = renderNodeFiles({ assignment: renderAssignment({ roles: ['etcd'] }) });
  const paths = files.map((f) => f.path);
  assert.not.ok(paths.some((p) => p.includes('kube-proxy') || p.startsWith('/etc/sysctl.d/') || p.startsWith('/etc/modules-load.d/')), paths.join(', '));
  const cfg = parse(file(files, '/var/lib/kubelet/config.yaml'));
  assert.is(cfg.enableServer, false, 'nothing but healthz listens');
  assert.is(cfg.healthzBindAddress, '127.0.0.1');
  assert.is(cfg.staticPodPath, '/etc/kubernetes/manifests');
  assert.is(cfg.authentication.anonymous.enabled, false);
  assert.is(cfg.authentication.webhook.enabled, false, 'no API server to ask');
  assert.is(cfg.authorization.mode, 'AlwaysAllow');
  for (const k of ['tlsCertFile', 'clusterDNS', 'registerWithTaints']) assert.is(cfg[k], undefined, k);
  const dropIn = file(files, '/etc/systemd/system/kubelet.service.d/10-muster.conf');
  assert.not.match(dropIn, '--kubeconfig', 'no kubeconfig: standalone');
  assert.not.match(dropIn, '--node-labels');
  assert.ok(paths.includes('/etc/kubernetes/manifests/etcd.yaml'));
  const v = verifyUnits(files);
  assert.ok(v.ok, v.output);
});

test('which labels a kubelet may set on itself (k8s.io/kubelet IsKubeletLabel)', () => {
  const rows: [string, boolean][] = [
    ['disk', true],
    ['example.com/rack', true],
    ['node-role.kubernetes.io/control-plane', false],
    ['node-role.kubernetes.io/node', false],
    ['kubernetes.io/hostname', true],
    ['topology.kubernetes.io/zone', true],
    ['node.kubernetes.io/instance-type', true],
    ['x.node.kubernetes.io/foo', true],
    ['kubelet.kubernetes.io/foo', true],
    ['foo.k8s.io/bar', false],
    ['kubernetes.io/foo', false],
  ];
  for (const [k, ok] of rows) assert.is(isKubeletLabel(k), ok, k);
});

test('systemd-analyze verify catches a broken unit (the check can fail)', () => {
  const { files } = renderNodeFiles({ assignment: renderAssignment({ roles: ['worker'] }) });
  const broken = files.map((f) => (f.path.endsWith('kube-proxy.service') ? { ...f, content: f.content.replace('Restart=always', 'Restart=alwayz') } : f));
  const v = verifyUnits(broken);
  assert.not.ok(v.ok);
  assert.match(v.output, /restart specifier/);
});

test('the image-tag table has a row for every supported minor', () => {
  for (let m = SUPPORTED_MINORS.oldest; m <= SUPPORTED_MINORS.newest; m++) assert.ok(MINORS[m as keyof typeof MINORS], `1.${m}`);
});

test.run();
