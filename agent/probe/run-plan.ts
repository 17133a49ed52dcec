// One probe round: open the role ports for peers, measure latency and reachability, report.
// The temporary listeners stay open for `holdListenersMs` after they were opened, because peers
// run their own plans at about the same time (each when its next report is answered), not at
// the same instant; the results are returned without waiting for that.
import { splitHostPort } from '../../shared/net/host-port.ts';
import type { ProbePlan } from '../../proto/gen/types/muster/v1/ProbePlan.ts';
import type { ProbeResults__Output } from '../../proto/gen/types/muster/v1/ProbeResults.ts';
import { measureLatency } from './latency.ts';
import { checkReach } from './reach.ts';
import { openTemporaryListeners, type TemporaryListeners } from './temporary-listeners.ts';
import { mapLimit } from './limit.ts';
import { realTimers, type Timers } from '../../shared/probe/timers.ts';

export interface RunProbePlanOptions {
  /** The node's cluster address: every probe connects from it. @default the kernel's choice */
  sourceAddress?: string;
  /** Where the temporary role-port listeners listen. @default "0.0.0.0" */
  listenHost?: string;
  /** How long temporary listeners stay open after opening. @default 60000 */
  holdListenersMs?: number;
  /** Latency tries per target. @default 5 */
  tries?: number;
  /** Latency targets measured at once (tries of one target are sequential). @default 4 */
  latencyConcurrency?: number;
  /** Reach connections in flight. @default 16 */
  reachConcurrency?: number;
  /** Closes the temporary listeners early (agent shutdown). */
  signal?: AbortSignal;
  /** Also measure the TCP handshake round trip to the coordinator at this HOST:PORT. */
  coordinator?: string;
  /** Receives the listeners' outcome (opened/busy/failed ports), e.g. for the agent's log. */
  onListeners?: (l: Omit<TemporaryListeners, 'close'>) => void;
  /** Called once the temporary listeners have closed (hold over, aborted, or the round failed). */
  onListenersClosed?: () => void;
  /** The hold's timer; tests pass fake ones. @default realTimers */
  timers?: Timers;
}

/** A proto int64 as given to us: number, decimal string or Long. */
function int64(v: number | string | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'object' ? v.toNumber() : Number(v) || 0;
}


/** Used when a plan carries no timeout. */
export const DEFAULT_PROBE_TIMEOUT_MS = 1000;

/**
 * Runs a ProbePlan. Bounded: latency takes at most ceil(targets / latencyConcurrency) * tries *
 * timeout, reach at most ceil(targets / reachConcurrency) * timeout.
 */
export async function runProbePlan(plan: ProbePlan, options: RunProbePlanOptions = {}): Promise<ProbeResults__Output> {
  const timeoutMs = int64(plan.timeout_ms) || DEFAULT_PROBE_TIMEOUT_MS;
  const listeners = await openTemporaryListeners(plan.listen_ports ?? [], options.listenHost ?? '0.0.0.0');
  options.onListeners?.({ opened: listeners.opened, busy: listeners.busy, failed: listeners.failed });
  let closing: Promise<void> | null = null;
  const close = () => (closing ??= listeners.close().then(() => options.onListenersClosed?.()));
  const cancelHold = (options.timers ?? realTimers).after(options.signal?.aborted ? 0 : (options.holdListenersMs ?? 60_000), () => void close());
  options.signal?.addEventListener('abort', () => { cancelHold(); void close(); }, { once: true });
  try {
    const coord = options.coordinator ? splitHostPort(options.coordinator) : null;
    const [latency, reach, coordinator] = await Promise.all([
      mapLimit(plan.latency_targets ?? [], options.latencyConcurrency ?? 4, (t) =>
        measureLatency(t, { tries: options.tries ?? 5, timeoutMs, localAddress: options.sourceAddress })),
      checkReach(plan.reach_targets ?? [], { sourceAddress: options.sourceAddress, timeoutMs, concurrency: options.reachConcurrency ?? 16 }),
      coord ? measureLatency({ node_name: 'coordinator', address: coord.host, port: coord.port }, { tries: options.tries ?? 5, timeoutMs, handshakeOnly: true }) : Promise.resolve(null),
    ]);
    return { plan_id: int64(plan.id), latency, reach, coordinator };
  } catch (err) {
    cancelHold();
    await close();
    throw err;
  }
}
