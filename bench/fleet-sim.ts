// One simulator process of bench/fleet.ts: runs simulated agents [from, to) (sim-agent.ts) and
// sends what happened to the parent over IPC, batched (one message per 100 ms, not per event).
// Started by fleet.ts with fork(); stops on the parent's "stop" message or when the parent goes.
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
export type SimMessage = { events: SimEvent[]; errors: Record<string, number>; lastError: string };

export const ip = (i: number): string => `127.1.${Math.floor(i / 250)}.${(i % 250) + 2}`;
export const nodeName = (i: number): string => `node-${String(i).padStart(5, '0')}`;

if (process.send) {
  const cfg = JSON.parse(process.argv[2]!) as SimConfig;
  const ac = new AbortController();
  let batch: SimEvent[] = [];
  let errors: Record<string, number> = {};
  let lastError = '';
  const flush = () => {
    if (!batch.length && !Object.keys(errors).length) return;
    process.send!({ events: batch, errors, lastError } satisfies SimMessage);
    batch = [];
    errors = {};
  };
  const timer = setInterval(flush, 100);

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
    runs.push(
      runSimAgent(o, ev, ac.signal).catch((e) => {
        if (!ac.signal.aborted) ev.error('fatal', (e as MusterError).kind ?? 'internal', (e as Error).message);
      }),
    );
  }
  const stop = async () => {
    ac.abort(new Error('bench done'));
    await Promise.allSettled(runs);
    flush();
    clearInterval(timer);
    process.disconnect();
  };
  process.on('message', (m) => {
    if (m === 'stop') void stop();
  });
  process.on('disconnect', () => process.exit(0));
}
