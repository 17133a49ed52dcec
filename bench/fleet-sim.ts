// One simulator process of bench/fleet.ts: runs simulated agents [from, to) (sim-agent.ts) and
// sends what happened to the parent over IPC, batched (one message per 100 ms, not per event).
// Started by fleet.ts with fork(); stops on the parent's "stop" message or when the parent goes.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { runSimAgent, type SimEvents } from './sim-agent.ts';
import type { MusterError } from '../shared/errors/index.ts';

export interface SimConfig {
  coordinator: string;
  token: string;
  caHash: string;
  from: number;
  to: number;
  reportIntervalMs: number;
  watchHoldMs: number;
  /** Joins in flight in this process at most. */
  joinConcurrency: number;
}

/** [kind, agent index, revision, epoch ms]; kind 0 joined, 1 received, 2 applied. */
export type SimEvent = [0 | 1 | 2, number, number, number];
/** `lagMs`, in the last message only: the process's event-loop delay until the stop, [p99, max] in ms (at most how late it answered a keepalive ping). */
export type SimMessage = { events: SimEvent[]; errors: Record<string, number>; lastError: string; lagMs?: [number, number] };

export const ip = (i: number): string => `127.1.${Math.floor(i / 250)}.${(i % 250) + 2}`;
export const nodeName = (i: number): string => `node-${String(i).padStart(5, '0')}`;

if (process.send) {
  const cfg = JSON.parse(process.argv[2]!) as SimConfig;
  // One AbortController per agent, not one signal shared by all: every call and sleep adds and
  // removes an abort listener, and Node's EventTarget scans its listener list to do so, which on
  // a shared signal made each call O(agents) (measured: 46% of a simulator's steady CPU at 3,000).
  const controllers: AbortController[] = [];
  let stopping = false;
  let batch: SimEvent[] = [];
  let errors: Record<string, number> = {};
  let lastError = '';
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const flush = (lagMs?: [number, number]) => {
    if (!batch.length && !Object.keys(errors).length && !lagMs) return;
    process.send!({ events: batch, errors, lastError, lagMs } satisfies SimMessage);
    batch = [];
    errors = {};
  };
  const timer = setInterval(() => flush(), 100);

  // A counting semaphore for joins in flight.
  let free = cfg.joinConcurrency;
  const queue: (() => void)[] = [];
  const joinSlot = async (): Promise<() => void> => {
    if (free > 0) free--;
    else await new Promise<void>((r) => queue.push(r));
    return () => {
      const next = queue.shift();
      if (next) next();
      else free++;
    };
  };

  const runs: Promise<void>[] = [];
  for (let i = cfg.from; i < cfg.to; i++) {
    const ev: SimEvents = {
      joined: (at) => batch.push([0, i, 0, at]),
      received: (rev, at) => batch.push([1, i, rev, at]),
      applied: (rev, at) => batch.push([2, i, rev, at]),
      error: (what, kind, message) => {
        const key = `${what} ${kind}`;
        errors[key] = (errors[key] ?? 0) + 1;
        lastError = `${nodeName(i)} ${what}: ${message}`;
      },
    };
    const o = { coordinator: cfg.coordinator, token: cfg.token, caHash: cfg.caHash, name: nodeName(i), address: ip(i), reportIntervalMs: cfg.reportIntervalMs, watchHoldMs: cfg.watchHoldMs, joinSlot };
    const ac = new AbortController();
    controllers.push(ac);
    runs.push(
      runSimAgent(o, ev, ac.signal).catch((e) => {
        if (!stopping) ev.error('fatal', (e as MusterError).kind ?? 'internal', (e as Error).message);
      }),
    );
  }
  const stop = async () => {
    const lagMs: [number, number] = [lag.percentile(99) / 1e6, lag.max / 1e6]; // before the stop's own burst
    stopping = true;
    for (const ac of controllers) ac.abort(new Error('bench done'));
    await Promise.allSettled(runs);
    flush(lagMs);
    clearInterval(timer);
    process.disconnect();
  };
  process.on('message', (m) => {
    if (m === 'stop') void stop();
  });
  process.on('disconnect', () => process.exit(0));
}
