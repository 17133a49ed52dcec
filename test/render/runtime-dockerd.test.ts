// The rendered daemon.json loads into a real dockerd (Debian's docker.io) on a private socket,
// data root, exec root and pidfile in a temp dir. Only for this test run, --bridge=none and
// --iptables=false keep dockerd off the host's network (so the file's iptables / ip-masq keys are
// taken out of the copy it loads -- dockerd refuses a setting given both as flag and in the file --
// and asserted on the rendered object instead); every other setting comes from the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { context, type NodeKnobs } from './fixture-nodes.ts';
import { renderDocker } from '../../shared/render/runtime/docker.ts';
import { requireTool } from '../helpers/tools.ts';

const START_TIMEOUT_MS = 60_000;

function dockerdVersion(): number {
  const out = execFileSync('dockerd', ['--version'], { encoding: 'utf8' });
  return Number(/version (\d+)\./.exec(out)?.[1] ?? 0);
}

/** The docker CLI of the same package when there is one (the API is negotiated either way). */
function dockerCli(): string {
  return existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
}

interface Daemon { dir: string; sock: string; child: ChildProcess; log: () => string; exited: Promise<number | null> }

/** Starts dockerd with `config`; resolves when it listens, rejects with its log when it exits first. */
async function startDockerd(config: Record<string, unknown>): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'muster-dockerd-'));
  const file = join(dir, 'daemon.json');
  const cfg: Record<string, unknown> = { ...config };
  delete cfg.iptables;
  delete cfg['ip-masq'];
  // dockerd before 23 writes a trust key to /etc/docker/key.json unless told otherwise; keep the
  // host's /etc untouched.
  if (dockerdVersion() < 23) cfg['deprecated-key-path'] = join(dir, 'key.json');
  writeFileSync(file, JSON.stringify(cfg));
  const sock = join(dir, 'docker.sock');
  const child = spawn('dockerd', [
    '--config-file', file, '-H', `unix://${sock}`,
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'docker.pid'),
    '--bridge=none', '--iptables=false',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dockerd did not listen within ${START_TIMEOUT_MS} ms:\n${log.slice(-3000)}`)), START_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      log += d.toString();
      if (log.includes('API listen on')) { clearTimeout(timer); resolve(); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => { clearTimeout(timer); reject(new DockerdExit(code, log)); });
  });
  const d: Daemon = { dir, sock, child, log: () => log, exited };
  try {
    await listening;
  } catch (e) {
    await stop(d);
    throw e;
  }
  return d;
}

class DockerdExit extends Error {
  readonly code: number | null;
  readonly log: string;
  constructor(code: number | null, log: string) {
    super(`dockerd exited with ${code}:\n${log.slice(-3000)}`);
    this.code = code;
    this.log = log;
  }
}

async function stop(d: Daemon): Promise<void> {
  if (d.child.exitCode === null) {
    d.child.kill('SIGTERM');
    const killer = setTimeout(() => d.child.kill('SIGKILL'), 30_000);
    await d.exited;
    clearTimeout(killer);
  }
  cleanUp(d.dir);
}

/**
 * dockerd bind-mounts its data root onto itself (to make it a private mount) and does not undo
 * that when it stops early on a bad setting; unmount what is left under our temp dir, deepest
 * first, before removing it, so test runs do not pile up mounts on the host.
 */
function cleanUp(dir: string): void {
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
}

async function startFails(config: Record<string, unknown>): Promise<DockerdExit> {
  let d: Daemon;
  try {
    d = await startDockerd(config);
  } catch (e) {
    if (e instanceof DockerdExit) return e;
    throw e;
  }
  await stop(d);
  throw new Error('dockerd started with a setting it should refuse');
}

const daemonJson = (k: NodeKnobs) => JSON.parse(renderDocker(context(k))[0]!.content) as Record<string, unknown>;

test('dockerd starts with the rendered daemon.json; docker info shows its settings', async () => {
  requireTool('dockerd', 'docker.io');
  const rendered = daemonJson({ runtime: 'docker', network: 'routed', mtu: 1450, mirrors: ['https://mirror.example.com'], insecure: ['registry.local:5000'] });
  assert.is(rendered.iptables, false);
  assert.is(rendered['ip-masq'], false);
  const hadKey = existsSync('/etc/docker/key.json');
  const d = await startDockerd(rendered);
  try {
    const info = JSON.parse(execFileSync(dockerCli(), ['-H', `unix://${d.sock}`, 'info', '--format', '{{json .}}'], { encoding: 'utf8', timeout: 30_000 })) as {
      CgroupDriver: string; LoggingDriver: string; Driver: string; LiveRestoreEnabled: boolean;
      RegistryConfig: { Mirrors: string[]; IndexConfigs: Record<string, { Secure: boolean; Mirrors: string[] }> };
    };
    assert.is(info.CgroupDriver, 'systemd');
    assert.is(info.LoggingDriver, 'json-file');
    assert.is(info.Driver, 'overlay2');
    assert.is(info.LiveRestoreEnabled, true, 'containers outlive a restart of docker for a settings change');
    assert.equal(info.RegistryConfig.Mirrors, ['https://mirror.example.com/']);
    assert.is(info.RegistryConfig.IndexConfigs['registry.local:5000']?.Secure, false);
    assert.is(info.RegistryConfig.IndexConfigs['docker.io']?.Secure, true);
    assert.is(existsSync('/etc/docker/key.json'), hadKey, "the host's /etc/docker is left alone");
  } finally {
    await stop(d);
  }
});

test('dockerd refuses invalid plan settings the renderer passes through', async () => {
  requireTool('dockerd', 'docker.io');
  const badOpt = await startFails(daemonJson({ runtime: 'docker', logOpts: { 'max-size': '50m', 'max-files': '1' } }));
  assert.match(badOpt.log, /unknown log opt 'max-files'/);
  const badDriver = await startFails(daemonJson({ runtime: 'docker', storageDriver: 'overlay3' }));
  assert.match(badDriver.log, /driver not supported/);
  assert.ok(badOpt.code !== 0 && badDriver.code !== 0);
});

test('dockerd --validate accepts the rendered file, where this dockerd has --validate', () => {
  requireTool('dockerd', 'docker.io');
  const help = spawnSync('dockerd', ['--help'], { encoding: 'utf8' }).stdout;
  if (!help.includes('--validate')) {
    // dockerd 20.10 (Debian 12) predates --validate (23.0); the start-up tests above cover it.
    console.log(`dockerd ${dockerdVersion()} has no --validate; covered by the start-up tests`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'muster-dockerd-'));
  try {
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, renderDocker(context({ runtime: 'docker' }))[0]!.content);
    assert.is(spawnSync('dockerd', ['--validate', '--config-file', ok]).status, 0);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...daemonJson({ runtime: 'docker' }), 'log-opts': { 'max-size': 'fifty' } }));
    assert.is.not(spawnSync('dockerd', ['--validate', '--config-file', bad]).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
