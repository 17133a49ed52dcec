// The real Kubernetes programs and etcd that test/install-k8s.sh builds from Go modules: each runs
// and reports the version test/k8s/go.mod and test/etcd/go.mod name (a binary reporting v0.0.0
// would confuse version-skew checks), and etcd serves on loopback.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { addressBlock } from '../helpers/addresses.ts';
import { tempDir } from '../helpers/cluster.ts';
import { ETCD_VERSION, K8S_PROGRAMS, K8S_VERSION, etcdProgram, k8sProgram } from '../helpers/k8s-programs.ts';

const run = promisify(execFile);
const net = addressBlock(import.meta.url);
const RUN_TIMEOUT_MS = 30_000;

test('the versions come from the module files', () => {
  assert.match(K8S_VERSION, /^v1\.36\.\d+$/);
  assert.match(ETCD_VERSION, /^v3\.6\.\d+$/);
});

for (const name of K8S_PROGRAMS.filter((n) => n !== 'kubectl')) {
  test(`${name} --version reports Kubernetes ${K8S_VERSION}`, async () => {
    const { stdout } = await run(k8sProgram(name), ['--version'], { timeout: RUN_TIMEOUT_MS });
    assert.is(stdout.trim(), `Kubernetes ${K8S_VERSION}`);
  });
}

test(`kubectl version --client reports ${K8S_VERSION}`, async () => {
  const { stdout } = await run(k8sProgram('kubectl'), ['version', '--client', '-o', 'json'], { timeout: RUN_TIMEOUT_MS });
  const v = (JSON.parse(stdout) as { clientVersion: { gitVersion: string; major: string; minor: string } }).clientVersion;
  const [, minor] = /^v1\.(\d+)\./.exec(K8S_VERSION)!;
  assert.equal({ gitVersion: v.gitVersion, major: v.major, minor: v.minor }, { gitVersion: K8S_VERSION, major: '1', minor });
});

test('kubelet --help lists --config', async () => {
  const { stdout, stderr } = await run(k8sProgram('kubelet'), ['--help'], { timeout: RUN_TIMEOUT_MS });
  assert.match(stdout + stderr, /^\s+--config string\b/m);
});

test(`etcd and etcdctl report ${ETCD_VERSION}`, async () => {
  const etcd = await run(etcdProgram('etcd'), ['--version'], { timeout: RUN_TIMEOUT_MS });
  assert.match(etcd.stdout, new RegExp(`^etcd Version: ${ETCD_VERSION.slice(1).replaceAll('.', '\\.')}$`, 'm'));
  const ctl = await run(etcdProgram('etcdctl'), ['version'], { timeout: RUN_TIMEOUT_MS });
  assert.match(ctl.stdout, new RegExp(`^etcdctl version: ${ETCD_VERSION.slice(1).replaceAll('.', '\\.')}$`, 'm'));
});

/** Resolves when etcd logs that it serves clients; rejects if it exits first or takes too long. */
function servingClients(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => done(new Error(`etcd did not serve clients within ${timeoutMs} ms; log:\n${log}`)), timeoutMs);
    const onData = (d: Buffer) => {
      log += d;
      if (log.includes('serving client traffic')) done();
    };
    const onExit = (code: number | null) => done(new Error(`etcd exited (${code}) before serving clients; log:\n${log}`));
    function done(err?: Error) {
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err); else resolve();
    }
    child.stderr!.on('data', onData);
    child.on('exit', onExit);
  });
}

test('etcd serves on a loopback address and answers etcdctl endpoint health', async () => {
  const dir = tempDir('muster-etcd-');
  const ip = net.host(2);
  const client = `http://${ip}:2379`;
  const peer = `http://${ip}:2380`;
  const child = spawn(etcdProgram('etcd'), [
    '--name', 'test', '--data-dir', join(dir, 'data'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `test=${peer}`, '--initial-cluster-state', 'new',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await servingClients(child, 60_000);
    const ctl = etcdProgram('etcdctl');
    const health = await run(ctl, ['--endpoints', client, 'endpoint', 'health'], { timeout: RUN_TIMEOUT_MS });
    assert.match(health.stdout, new RegExp(`^${client.replaceAll('.', '\\.')} is healthy`, 'm'));
    const status = await run(ctl, ['--endpoints', client, 'endpoint', 'status', '-w', 'json'], { timeout: RUN_TIMEOUT_MS });
    const [s] = JSON.parse(status.stdout) as { Status: { version: string } }[];
    assert.is(s?.Status.version, ETCD_VERSION.slice(1));
    await run(ctl, ['--endpoints', client, 'put', 'muster/k', 'v'], { timeout: RUN_TIMEOUT_MS });
    const got = await run(ctl, ['--endpoints', client, 'get', '--print-value-only', 'muster/k'], { timeout: RUN_TIMEOUT_MS });
    assert.is(got.stdout.trim(), 'v');
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      // etcd stops within a second on SIGTERM; the bound keeps a wedged one from hanging the file.
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(kill);
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
