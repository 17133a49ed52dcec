// After an apply that changed an etcd member's static pod manifest, the agent waits for its own
// member to be back before it reports the apply: the coordinator moves a new version or new
// settings over the etcd members one at a time on those reports (coordinator/assign/rollout.ts),
// and a second member restarted while the first is still down or catching up loses quorum.
//
// "Back" is the member's /readyz on its loopback metrics listener (shared/render/static-pods/
// etcd.ts), whose checks include a linearizable read: it has a leader, a quorum answers, and it
// has applied what the cluster committed. A restart is told from the process that ran before by
// /metrics' process_start_time_seconds, read before the manifest was written: no poll can miss
// it, however short the gap between the old process and the new one. When that read found no
// member (it was down) or was not made (a wait owed from an earlier pass), the member must have
// started after the manifest was last written (its mtime, less START_SLACK_S: the start time is
// the kernel's boot time, in whole seconds, plus the process's start ticks), else it is the one
// the kubelet has yet to replace.
import { request } from 'node:http';
import { lstat } from 'node:fs/promises';
import type { Logger } from '../../shared/log/logger.ts';
import { errorMessage, UnavailableError } from '../../shared/errors/index.ts';
import { sleep } from '../../shared/retry.ts';

/** How much earlier than the manifest's mtime a member's reported start may be and still count as after it. */
export const START_SLACK_S = 2;

// Above etcd's own timeout for a linearizable read (about 7 s), so a member without quorum says so.
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 4 << 20;

/** One bounded plain-HTTP GET to the member's metrics listener. */
function get(url: string, signal?: AbortSignal): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: REQUEST_TIMEOUT_MS, signal, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`GET ${url}: answer larger than ${MAX_RESPONSE_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** process_start_time_seconds from a Prometheus text exposition, or null if it has none. */
export function processStartTime(metrics: string): number | null {
  const m = /^process_start_time_seconds(?:\{[^}]*\})? ([0-9.eE+-]+)$/m.exec(metrics);
  const v = m ? Number(m[1]) : NaN;
  return Number.isFinite(v) ? v : null;
}

/** When the member now running started (seconds since the epoch), or null if none answers. */
export async function etcdStartTime(metricsUrl: string, signal?: AbortSignal): Promise<number | null> {
  try {
    const r = await get(`${metricsUrl}/metrics`, signal);
    return r.status === 200 ? processStartTime(r.body) : null;
  } catch (err) {
    if (signal?.aborted) throw err;
    return null;
  }
}

/** When the manifest at `path` was last written, seconds since the epoch; undefined when it is not there. */
export async function manifestWrittenAt(path: string): Promise<number | undefined> {
  try {
    return (await lstat(path)).mtimeMs / 1000;
  } catch {
    return undefined;
  }
}

export interface WaitForEtcdOptions {
  /** http://127.0.0.1:2381 (etcdMetricsUrl). */
  metricsUrl: string;
  /** etcdStartTime() before the manifest was written: null when no member ran, or it was not read. */
  before: number | null;
  /** With `before` null: when the manifest was last written (seconds since the epoch); a member that started before it is not the restarted one. */
  changedAt?: number;
  timeoutMs: number;
  log: Logger;
  signal?: AbortSignal;
  everyMs?: number;
  clock?: () => number;
}

/** Resolves once a member started after `before` says /readyz ok; rejects after `timeoutMs` with the last thing seen. */
export async function waitForEtcdMember(o: WaitForEtcdOptions): Promise<void> {
  const clock = o.clock ?? Date.now;
  const deadline = clock() + o.timeoutMs;
  let last = 'no answer yet';
  o.log.info(`waiting for the local etcd member to be ${o.before === null ? '' : 'restarted and '}ready (up to ${Math.round(o.timeoutMs / 1000)} s)`);
  for (;;) {
    try {
      const started = await etcdStartTime(o.metricsUrl, o.signal);
      if (started === null) last = `no member answers at ${o.metricsUrl}/metrics`;
      else if (o.before !== null && started === o.before) last = 'the member that ran before the change still runs';
      else if (o.before === null && o.changedAt !== undefined && started < o.changedAt - START_SLACK_S) {
        last = `the member running started at ${new Date(started * 1000).toISOString()}, before its manifest changed (${new Date(o.changedAt * 1000).toISOString()}): the kubelet has yet to restart it`;
      } else {
        const ready = await get(`${o.metricsUrl}/readyz?verbose`, o.signal);
        if (ready.status === 200) {
          o.log.info('the local etcd member is ready');
          return;
        }
        last = `/readyz ${ready.status}: ${ready.body.replace(/\s+/g, ' ').trim().slice(0, 300)}`;
      }
    } catch (err) {
      if (o.signal?.aborted) throw err;
      last = errorMessage(err);
    }
    if (clock() >= deadline) throw new UnavailableError(`the local etcd member did not come back ${o.before !== null ? 'restarted and ' : ''}ready within ${Math.round(o.timeoutMs / 1000)} s; last: ${last}`);
    await sleep(o.everyMs ?? 1000, o.signal);
  }
}
