// agent/kube/etcd-ready.ts: when an apply changed an etcd member's manifest, what the agent waits
// for before it reports. A real etcd (the one test/etcd/go.mod names) on the file's loopback
// block, its metrics listener where the rendered manifest puts it relative to its node:
//   - the member that ran before the change still runs: no wait ends, however ready it is;
//   - it is restarted: the wait ends once the new process is ready, never while the old one runs;
//   - a restarted member without quorum is not back: the wait ends in an error that says so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { START_SLACK_S, etcdStartTime, processStartTime, waitForEtcdMember } from '../../agent/kube/etcd-ready.ts';
import { etcdProgram } from '../helpers/k8s-programs.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { captureLogger, tempDir } from '../helpers/cluster.ts';

const net = addressBlock(import.meta.url);
const HOST = net.host(9);
const CLIENT = `http://${HOST}:2379`;
const PEER = `http://${HOST}:2380`;
const METRICS = `http://${HOST}:2381`;
const children = new Set<ChildProcess>();

test.after(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** A one-member etcd (or, with `missingPeer`, one of two whose other never starts: no quorum). */
function startEtcd(dataDir: string, missingPeer = false): { child: ChildProcess; log: string[] } {
  const cluster = missingPeer ? `a=${PEER},b=http://${HOST}:2390` : `a=${PEER}`;
  const args = ['--name', 'a', '--data-dir', dataDir, '--listen-client-urls', CLIENT, '--advertise-client-urls', CLIENT, '--listen-peer-urls', PEER, '--initial-advertise-peer-urls', PEER, '--initial-cluster', cluster, '--listen-metrics-urls', METRICS];
  // No ETCD_* variable of this environment may reach etcd's settings.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD')));
  const child = spawn(etcdProgram('etcd'), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const log: string[] = [];
  const keep = (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (l && log.length < 2_000) log.push(l);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, log };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

test('process_start_time_seconds is read from the exposition, with or without labels; absent is null', () => {
  assert.is(processStartTime('# HELP x\nprocess_cpu_seconds_total 1.5\nprocess_start_time_seconds 1.79629875607e+09\n'), 1.79629875607e9);
  assert.is(processStartTime('process_start_time_seconds{job="etcd"} 1700000000.25\n'), 1700000000.25);
  assert.is(processStartTime('process_start_time_seconds_total 5\nother 1\n'), null);
  assert.is(processStartTime(''), null);
});

test('the member that ran before is not a restarted one; a restarted one is waited for until it is ready', async () => {
  const dir = tempDir('muster-etcd-ready-');
  const data = join(dir, 'etcd');
  const first = startEtcd(data);
  const log = captureLogger('agent');
  // No member before (first apply of a node): the first ready answer counts.
  await waitForEtcdMember({ metricsUrl: METRICS, before: null, timeoutMs: 60_000, everyMs: 100, log });
  const before = await etcdStartTime(METRICS);
  assert.ok(before && before > 1.7e9, `a start time in seconds since the epoch (${before})`);

  // Nothing restarted it: ready all along, and still no wait ends.
  const err = await waitForEtcdMember({ metricsUrl: METRICS, before, timeoutMs: 1_500, everyMs: 100, log }).then(() => null, (e: Error) => e);
  assert.ok(err, 'the wait must not end while the member that ran before the change runs');
  assert.match(err!.message, 'did not come back restarted and ready');
  assert.match(err!.message, 'the member that ran before the change still runs');

  // No start time from before the write (none was read, or the wait is owed): a member that
  // started before the manifest's mtime (less the slack) is the old one; one within it counts.
  const stale = await waitForEtcdMember({ metricsUrl: METRICS, before: null, changedAt: before! + START_SLACK_S + 1, timeoutMs: 1_500, everyMs: 100, log }).then(() => null, (e: Error) => e);
  assert.ok(stale, 'a member older than its manifest is not the restarted one');
  assert.match(stale!.message, 'before its manifest changed');
  await waitForEtcdMember({ metricsUrl: METRICS, before: null, changedAt: before! + START_SLACK_S - 0.5, timeoutMs: 10_000, everyMs: 100, log });

  // Restarted (as the kubelet does when the manifest changes): the wait ends with the new process.
  let ended = false;
  const waiting = waitForEtcdMember({ metricsUrl: METRICS, before, timeoutMs: 120_000, everyMs: 100, log }).then(() => (ended = true));
  await stop(first.child);
  assert.not.ok(ended, 'the wait ended while the old member ran');
  const second = startEtcd(data);
  await waiting;
  const after = await etcdStartTime(METRICS);
  assert.ok(after !== null && after !== before, 'the member that answers now is the restarted one');
  assert.ok(log.lines.some((l) => l.includes('the local etcd member is ready')), log.lines.join('\n'));
  await stop(second.child);
});

test('a restarted member without quorum is not back: the wait fails and says what /readyz said', async () => {
  const dir = tempDir('muster-etcd-ready-');
  const lone = startEtcd(join(dir, 'etcd'), true);
  try {
    // Its metrics listener answers (the process runs); only then is what the wait says decided by /readyz.
    for (let i = 0; (await etcdStartTime(METRICS)) === null; i++) {
      if (i > 600 || lone.child.exitCode !== null) throw new Error(`etcd did not start:\n${lone.log.slice(-10).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const err = await waitForEtcdMember({ metricsUrl: METRICS, before: 1, timeoutMs: 3_000, everyMs: 200, log: captureLogger('agent') }).then(() => null, (e: Error) => e);
    assert.ok(err, 'a member without quorum must not count as back');
    assert.match(err!.message, /last: \/readyz 503: .*linearizable_read failed/);
  } finally {
    await stop(lone.child);
  }
});

test.run();
