// Container runtime renderers, table-style per runtime, containerd release line and Kubernetes
// minor: the exact daemon.json, the cri-dockerd command line, the config.toml tables of each
// schema, the hosts.toml files; every unit and drop-in passes `systemd-analyze verify`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { context, type NodeKnobs } from './fixture-nodes.ts';
import { dockerDaemonConfig, renderDocker } from '../../shared/render/runtime/docker.ts';
import { criDockerdArgs, renderCriDockerd } from '../../shared/render/runtime/cri-dockerd.ts';
import { renderContainerd, renderContainerdConfig } from '../../shared/render/runtime/containerd.ts';
import { renderNodeFiles } from '../../shared/render/index.ts';
import { assignment } from './fixture-nodes.ts';
import { tomlSections, value } from './toml-sections.ts';
import { requireTool } from '../helpers/tools.ts';
import type { FileSpec } from '../../shared/render/types.ts';

const PAUSE = { 34: '3.10.1', 35: '3.10.1', 36: '3.10.2' } as const;
const MINORS = [34, 35, 36] as const;

const dockerRows: { name: string; knobs: NodeKnobs; want: Record<string, unknown> }[] = [
  {
    name: 'overlay, Kismatic log defaults, no registries',
    knobs: { runtime: 'docker' },
    want: {
      'exec-opts': ['native.cgroupdriver=systemd'], 'ip-masq': true, iptables: true, 'live-restore': true, 'log-driver': 'json-file',
      'log-opts': { 'max-file': '1', 'max-size': '50m' }, 'storage-driver': 'overlay2',
    },
  },
  {
    name: 'routed: docker leaves iptables and masquerade to Calico; mtu, mirrors, insecure, storage opts',
    knobs: { runtime: 'docker', network: 'routed', mtu: 1450, mirrors: ['https://mirror.example.com'], insecure: ['registry.local:5000'], storageOpts: { 'overlay2.size': '20G' }, logOpts: { 'max-size': '100m', 'max-file': '3' } },
    want: {
      'exec-opts': ['native.cgroupdriver=systemd'], 'insecure-registries': ['registry.local:5000'], 'ip-masq': false, iptables: false, 'live-restore': true,
      'log-driver': 'json-file', 'log-opts': { 'max-file': '3', 'max-size': '100m' }, mtu: 1450,
      'registry-mirrors': ['https://mirror.example.com'], 'storage-driver': 'overlay2', 'storage-opts': ['overlay2.size=20G'],
    },
  },
  {
    name: 'storage driver "" lets docker choose',
    knobs: { runtime: 'docker', storageDriver: '' },
    want: { 'exec-opts': ['native.cgroupdriver=systemd'], 'ip-masq': true, iptables: true, 'live-restore': true, 'log-driver': 'json-file', 'log-opts': { 'max-file': '1', 'max-size': '50m' } },
  },
];

for (const row of dockerRows) {
  test(`daemon.json: ${row.name}`, () => {
    const cfg = dockerDaemonConfig(context(row.knobs));
    assert.equal(cfg, row.want);
    assert.equal(Object.keys(cfg), Object.keys(cfg).sort(), 'keys sorted: stable bytes');
    const [json] = renderDocker(context(row.knobs));
    assert.equal(JSON.parse(json!.content), row.want);
    assert.equal(json!.triggers, [{ kind: 'restart', unit: 'docker.service' }]);
  });
}

for (const minor of MINORS) {
  test(`cri-dockerd for v1.${minor}: fd:// socket activation, the plan's pause image, CNI`, () => {
    const ctx = context({ runtime: 'docker', minor });
    assert.equal(criDockerdArgs(ctx), [
      '--container-runtime-endpoint', 'fd://',
      `--pod-infra-container-image=registry.local:5000/k8s/pause:${PAUSE[minor]}`,
      '--network-plugin=cni',
    ]);
    const [socket, service] = renderCriDockerd(ctx);
    assert.match(socket!.content, /^ListenStream=\/run\/cri-dockerd\.sock$/m);
    assert.is(ctx.runtime.criEndpoint, 'unix:///run/cri-dockerd.sock');
    assert.match(service!.content, new RegExp(`^ExecStart=/usr/local/bin/cri-dockerd --container-runtime-endpoint fd:// --pod-infra-container-image=registry.local:5000/k8s/pause:${PAUSE[minor].replace(/\./g, '\\.')} --network-plugin=cni$`, 'm'));
    assert.equal(service!.triggers, [{ kind: 'unit', unit: 'cri-docker.service' }, { kind: 'restart', unit: 'cri-docker.service' }]);
  });
}

const SCHEMA3 = {
  images: 'plugins."io.containerd.cri.v1.images"',
  runc: 'plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc',
};
const SCHEMA2 = 'plugins."io.containerd.grpc.v1.cri"';

for (const minor of MINORS) {
  for (const version of ['2.1', '2.0', '1.7']) {
    test(`config.toml for containerd ${version}, v1.${minor}`, () => {
      const ctx = context({ containerdVersion: version, minor });
      const s = tomlSections(renderContainerdConfig(ctx));
      const pause = `"registry.local:5000/k8s/pause:${PAUSE[minor]}"`;
      if (version.startsWith('2.')) {
        assert.is(value(s, '', 'version'), '3');
        assert.is(value(s, `${SCHEMA3.images}.pinned_images`, 'sandbox'), pause);
        assert.is(value(s, `${SCHEMA3.images}.registry`, 'config_path'), '"/etc/containerd/certs.d"');
        assert.is(value(s, SCHEMA3.images, 'snapshotter'), '"overlayfs"');
        assert.is(value(s, `${SCHEMA3.runc}.options`, 'SystemdCgroup'), 'true');
        assert.is(value(s, SCHEMA3.runc, 'runtime_type'), '"io.containerd.runc.v2"');
        assert.not.ok([...s.keys()].some((t) => t.includes('grpc.v1.cri')), 'no schema-2 tables');
      } else {
        assert.is(value(s, '', 'version'), '2');
        assert.is(value(s, SCHEMA2, 'sandbox_image'), pause);
        assert.is(value(s, `${SCHEMA2}.registry`, 'config_path'), '"/etc/containerd/certs.d"');
        assert.is(value(s, `${SCHEMA2}.containerd`, 'snapshotter'), '"overlayfs"');
        assert.is(value(s, `${SCHEMA2}.containerd.runtimes.runc.options`, 'SystemdCgroup'), 'true');
        assert.not.ok([...s.keys()].some((t) => t.includes('cri.v1')), 'no schema-3 tables');
      }
      assert.match(renderContainerdConfig(ctx), /^# Managed by muster-agent/);
    });
  }
}

test('containerd registry files: Docker Hub mirrors in order, one hosts.toml per insecure registry', () => {
  const files = renderContainerd(context({ mirrors: ['https://mirror.example.com/', 'registry.local:5000'], insecure: ['registry.local:5000', 'Other.local'] }));
  const byPath = new Map(files.map((f) => [f.path, f]));
  assert.equal([...byPath.keys()], [
    '/etc/containerd/config.toml',
    '/etc/containerd/certs.d/docker.io/hosts.toml',
    '/etc/containerd/certs.d/other.local/hosts.toml',
    '/etc/containerd/certs.d/registry.local:5000/hosts.toml',
  ]);
  const hub = tomlSections(byPath.get('/etc/containerd/certs.d/docker.io/hosts.toml')!.content);
  assert.is(value(hub, '', 'server'), '"https://registry-1.docker.io"');
  assert.equal([...hub.keys()].filter((k) => k), ['host."https://mirror.example.com"', 'host."https://registry.local:5000"']);
  assert.is(value(hub, 'host."https://mirror.example.com"', 'skip_verify'), undefined);
  assert.is(value(hub, 'host."https://registry.local:5000"', 'skip_verify'), 'true', 'a mirror listed as insecure is not verified');
  const reg = tomlSections(byPath.get('/etc/containerd/certs.d/registry.local:5000/hosts.toml')!.content);
  assert.is(value(reg, '', 'server'), '"http://registry.local:5000"');
  assert.is(value(reg, 'host."http://registry.local:5000"', 'skip_verify'), 'true');
  for (const f of files) assert.equal(f.triggers, [{ kind: 'restart', unit: 'containerd.service' }], f.path);
});

test('the catalogue: runtime files on every node (an etcd-only member runs etcd in it), of the plan\'s runtime', () => {
  const paths = (k: NodeKnobs) => renderNodeFiles({ assignment: assignment(k) }).files.map((f) => f.path);
  const docker = paths({ runtime: 'docker' });
  assert.ok(docker.includes('/etc/docker/daemon.json') && docker.includes('/etc/systemd/system/cri-docker.service'));
  assert.not.ok(docker.some((p) => p.startsWith('/etc/containerd/')));
  const ctrd = paths({});
  assert.ok(ctrd.includes('/etc/containerd/config.toml'));
  assert.not.ok(ctrd.some((p) => p.startsWith('/etc/docker/') || p.includes('cri-docker')));
  const etcdOnly = paths({ roles: ['etcd'] });
  assert.ok(etcdOnly.includes('/etc/containerd/config.toml'), etcdOnly.join(','));
  assert.not.ok(etcdOnly.some((p) => p.includes('docker')), etcdOnly.join(','));
  const etcdDocker = paths({ roles: ['etcd'], runtime: 'docker' });
  assert.ok(etcdDocker.includes('/etc/docker/daemon.json') && etcdDocker.includes('/etc/systemd/system/cri-docker.service'), etcdDocker.join(','));
});

// --- systemd-analyze verify ------------------------------------------------------------------

function verifyRoot(files: FileSpec[], stubs: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'muster-units-'));
  // The distribution's units (docker.service, sysinit.target, ...) the rendered ones refer to.
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  for (const d of ['lib', 'bin', 'sbin']) symlinkSync(`usr/${d}`, join(root, d));
  for (const f of files) {
    mkdirSync(dirname(join(root, f.path)), { recursive: true });
    writeFileSync(join(root, f.path), f.content);
  }
  for (const s of stubs) {
    mkdirSync(dirname(join(root, s)), { recursive: true });
    writeFileSync(join(root, s), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  }
  return root;
}

function verify(root: string, units: string[]): { code: number | null; stderr: string } {
  const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stderr: (r.stderr + r.stdout).trim() };
}

test('cri-dockerd units and the docker drop-in pass systemd-analyze verify (stub binaries in a test root)', () => {
  requireTool('systemd-analyze', 'systemd');
  const ctx = context({ runtime: 'docker' });
  const files = [...renderDocker(ctx), ...renderCriDockerd(ctx)];
  const stubs = ['/usr/local/bin/cri-dockerd', '/usr/bin/kill', '/usr/sbin/dockerd'];
  const root = verifyRoot(files, stubs);
  try {
    // docker.service is the distribution's unit (copied into the root); verifying it loads
    // muster's drop-in from the root's /etc/systemd/system/docker.service.d/.
    const ok = verify(root, ['/etc/systemd/system/cri-docker.service', '/etc/systemd/system/cri-docker.socket', 'docker.service']);
    assert.is(ok.stderr, '', 'no warnings either (systemd only warns about unknown keys)');
    assert.is(ok.code, 0);
    // The check can fail: a unit key systemd does not know, and a missing binary.
    writeFileSync(join(root, 'etc/systemd/system/docker.service.d/10-muster.conf'), '[Service]\nLimitNOFILES=1\n');
    assert.match(verify(root, ['docker.service']).stderr, /Unknown key 'LimitNOFILES'/);
    rmSync(join(root, 'usr/local/bin/cri-dockerd'));
    const missing = verify(root, ['/etc/systemd/system/cri-docker.service']);
    assert.ok(missing.code !== 0 && /cri-dockerd is not executable/.test(missing.stderr), missing.stderr);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('every rendered file carries the managed notice, except daemon.json (JSON has no comments)', () => {
  for (const k of [{ runtime: 'docker' as const }, { containerdVersion: '1.7', mirrors: ['https://m.example.com'], insecure: ['r.local:5000'] }, {}]) {
    for (const f of renderNodeFiles({ assignment: assignment(k) }).files) {
      if (f.path === '/etc/docker/daemon.json' || f.path === '/etc/muster/assignment.yaml') continue;
      assert.match(f.content, /^# Managed by muster-agent: changes here are undone\./, f.path);
    }
  }
});

test.run();
