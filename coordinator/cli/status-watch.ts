// `muster status --watch`: the status table, redrawn when something other than the clock
// changes. Polls once a second; ends on Ctrl-C (or io.signal), after --timeout, or after a day.
import type { CliIO } from '../../shared/cli/io.ts';
import { UsageError } from '../../shared/errors/index.ts';
import { withAdmin, formatStatus } from './admin-commands.ts';

const POLL_MS = 1000;
/** A watch left running ends after a day: every loop is bounded. */
const MAX_WATCH_MS = 24 * 3600_000;
const CLEAR = '\x1b[H\x1b[2J';

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** io.signal, or one that Ctrl-C aborts (the handler is removed when the command ends). */
export function interruptSignal(io: CliIO): { signal: AbortSignal; release(): void } {
  if (io.signal) return { signal: io.signal, release: () => undefined };
  const ac = new AbortController();
  const onInt = () => ac.abort();
  process.once('SIGINT', onInt);
  return { signal: ac.signal, release: () => void process.off('SIGINT', onInt) };
}

import { durationFlag as parseTimeout } from './flag-values.ts';
export { parseTimeout };

export async function statusWatch(values: { 'data-dir'?: string; config?: string; coordinator?: string; json?: boolean; timeout?: string }, io: CliIO): Promise<number> {
  if (values.json) throw new UsageError('status --watch draws a table; use status --json for one snapshot');
  const limitMs = Math.min(parseTimeout('--timeout', values.timeout, MAX_WATCH_MS), MAX_WATCH_MS);
  const { signal, release } = interruptSignal(io);
  try {
    return await withAdmin(values, io, async (a) => {
      const deadline = Date.now() + limitMs;
      let shown = '';
      for (let i = 0; i < MAX_WATCH_MS / POLL_MS && !signal.aborted && Date.now() < deadline; i++) {
        const res = await a.call('Status', {});
        // Redraw on change, not on the clock: last-seen times move every second.
        const key = JSON.stringify({ ...res, nodes: res.nodes.map((n) => ({ ...n, last_seen_ms: 0 })) });
        if (key !== shown) {
          shown = key;
          const frame = `${formatStatus(res)}\n(watching; Ctrl-C to stop)`;
          io.out(io.isTTY ? `${CLEAR}${frame}` : `--- ${new Date().toISOString()}\n${frame}`);
        }
        await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), signal);
      }
      return 0;
    });
  } finally {
    release();
  }
}
