// The rendered config.toml loads into real containerd (`containerd --config F config dump`):
// schema 2 into Debian's containerd 1.6 (which reads version 2), schema 3 into a containerd 2.x
// built from its Go module by test/install-containerd.sh into the tool cache. The dump is
// containerd's own view after parsing, so asserting on it shows the settings took.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { context } from './fixture-nodes.ts';
import { renderContainerdConfig } from '../../shared/render/runtime/containerd.ts';
import { tomlSections, value } from './toml-sections.ts';
import { requireTool } from '../helpers/tools.ts';

const V2_VERSION = process.env.MUSTER_CONTAINERD_V2_VERSION ?? 'v2.1.9';
const V2_BIN = join(process.env.MUSTER_TOOL_CACHE ?? join(homedir(), '.cache', 'muster-tools'), `containerd-${V2_VERSION}`, 'bin', 'containerd');

function containerd2(): string {
  if (!existsSync(V2_BIN)) {
    throw new Error(`containerd ${V2_VERSION} is not built at ${V2_BIN}; build it with: bash test/install-containerd.sh (needs go and the Go module proxy; npm test runs it through test/install-tools.sh)`);
  }
  return V2_BIN;
}

const dir = mkdtempSync(join(tmpdir(), 'muster-containerd-'));

function dump(bin: string, toml: string): { code: number | null; out: string; err: string } {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(file, toml);
  const r = spawnSync(bin, ['--config', file, 'config', 'dump'], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const PAUSE = '"registry.local:5000/k8s/pause:3.10.2"';

test('schema 2 (containerd 1.7 plans) loads into Debian\'s containerd: SystemdCgroup, sandbox image, certs.d', () => {
  requireTool('containerd', 'containerd');
  const r = dump('containerd', renderContainerdConfig(context({ containerdVersion: '1.7', mirrors: ['https://mirror.example.com'] })));
  assert.is(r.code, 0, r.err);
  const s = tomlSections(r.out);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  assert.is(value(s, '', 'version'), '2');
  assert.is(value(s, cri, 'sandbox_image'), PAUSE);
  assert.is(value(s, `${cri}.containerd.runtimes.runc.options`, 'SystemdCgroup'), 'true');
  assert.is(value(s, `${cri}.containerd`, 'snapshotter'), '"overlayfs"');
  assert.is(value(s, `${cri}.registry`, 'config_path'), '"/etc/containerd/certs.d"');
});

test('schema 3 (containerd 2.x plans) loads into containerd 2.x: SystemdCgroup, pinned sandbox, certs.d', () => {
  const bin = containerd2();
  const r = dump(bin, renderContainerdConfig(context({ containerdVersion: '2.1' })));
  assert.is(r.code, 0, r.err);
  const s = tomlSections(r.out);
  assert.is(value(s, '', 'version'), '3');
  assert.is(value(s, 'plugins."io.containerd.cri.v1.images".pinned_images', 'sandbox'), PAUSE);
  assert.is(value(s, 'plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options', 'SystemdCgroup'), 'true');
  assert.is(value(s, 'plugins."io.containerd.cri.v1.runtime".containerd', 'default_runtime_name'), '"runc"');
  assert.is(value(s, 'plugins."io.containerd.cri.v1.images"', 'snapshotter'), '"overlayfs"');
  assert.is(value(s, 'plugins."io.containerd.cri.v1.images".registry', 'config_path'), '"/etc/containerd/certs.d"');
});

test('an invalid setting in the rendered file is caught by each containerd', () => {
  requireTool('containerd', 'containerd');
  const v2 = renderContainerdConfig(context({ containerdVersion: '1.7' })).replace(/sandbox_image = ".*"/, 'sandbox_image = 5');
  const r2 = dump('containerd', v2);
  assert.is.not(r2.code, 0);
  assert.match(r2.err, /convert 5|cannot decode/i);
  const v3 = renderContainerdConfig(context({ containerdVersion: '2.1' })).replace(/sandbox = ".*"/, 'sandbox = ["x"]');
  const r3 = dump(containerd2(), v3);
  assert.is.not(r3.code, 0);
  assert.match(r3.err, /PinnedImages/);
  // Why schema 3 needs a 2.x in this test: 1.6 reads a version-3 file without complaint and
  // without any of its settings.
  const quiet = dump('containerd', renderContainerdConfig(context({ containerdVersion: '2.1' })));
  assert.is(quiet.code, 0);
  assert.not.match(quiet.out, /pause:3\.10\.2/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
