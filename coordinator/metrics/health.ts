// /healthz and /readyz. Liveness: the process answers and its event loop is not stuck (a
// heartbeat timer that ran late by more than `stallMs` says the loop was blocked that long).
// Readiness: the checks below, each a small named object; the first that fails is the reason
// of the 503. The coordinator moves its Lifecycle as it starts, runs and fails.

/** What the coordinator tells the checks as it goes. */
export class Lifecycle {
  storeOpen = false;
  storeFailure: string | null = null;
  casLoaded = false;
  /** Whether the gRPC listener accepts connections now. */
  accepting: () => boolean = () => false;
  closing = false;
}

export interface ReadinessCheck {
  readonly name: string;
  /** null when ready, else why not (a sentence for an operator). */
  check(l: Lifecycle): string | null;
}

export const READINESS_CHECKS: readonly ReadinessCheck[] = [
  { name: 'shutdown', check: (l) => (l.closing ? 'the coordinator is shutting down' : null) },
  { name: 'store', check: (l) => (l.storeFailure ? `the state store failed: ${l.storeFailure}` : l.storeOpen ? null : 'the state store is not open yet') },
  { name: 'cas', check: (l) => (l.casLoaded ? null : 'the CAs are not loaded yet') },
  { name: 'grpc', check: (l) => (l.accepting() ? null : 'the gRPC listener is not accepting connections') },
];

export function readiness(l: Lifecycle): { ready: boolean; reasons: string[] } {
  const reasons = READINESS_CHECKS.flatMap((c) => {
    const r = c.check(l);
    return r ? [`${c.name}: ${r}`] : [];
  });
  return { ready: reasons.length === 0, reasons };
}

/** The event loop's heartbeat: a timer every `intervalMs`; how late the last one ran. */
export class LoopHeartbeat {
  readonly #intervalMs: number;
  readonly #timer: NodeJS.Timeout;
  #last = performance.now();
  #worstLateMs = 0;

  constructor(intervalMs = 1000) {
    this.#intervalMs = intervalMs;
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#worstLateMs = Math.max(0, now - this.#last - this.#intervalMs);
      this.#last = now;
    }, intervalMs);
    this.#timer.unref();
  }

  /** ms the loop was blocked: the last beat's lateness, or the time since it if that is longer. */
  stalledMs(): number {
    return Math.max(this.#worstLateMs, performance.now() - this.#last - this.#intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
