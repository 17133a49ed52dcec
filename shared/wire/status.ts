// The one boundary between muster's typed errors and gRPC status codes, both directions.
// Servers wrap every handler with `toServiceError`; clients turn a failed call back into a
// MusterError with `fromServiceError`, so callers switch on `kind`/`reason`, never on codes.
import * as grpc from '@grpc/grpc-js';
import { coordinatorNotVerified } from './tls-errors.ts';
import { unreachableMessage } from './transport-errors.ts';
import { MusterError, ResourceExhaustedError, type ErrorKind } from '../errors/index.ts';
import { MAX_RECONNECT_WINDOW_MS } from '../constants.ts';

const KIND_TO_CODE: Record<ErrorKind, grpc.status> = {
  'invalid-argument': grpc.status.INVALID_ARGUMENT,
  'not-found': grpc.status.NOT_FOUND,
  'already-exists': grpc.status.ALREADY_EXISTS,
  'permission-denied': grpc.status.PERMISSION_DENIED,
  unauthenticated: grpc.status.UNAUTHENTICATED,
  'failed-precondition': grpc.status.FAILED_PRECONDITION,
  unavailable: grpc.status.UNAVAILABLE,
  'resource-exhausted': grpc.status.RESOURCE_EXHAUSTED,
  internal: grpc.status.INTERNAL,
};

const REASON_KEY = 'muster-reason';
/** How long a RESOURCE_EXHAUSTED caller should wait, in ms (decimal string). */
export const RETRY_AFTER_KEY = 'retry-after-ms';
/** Response header of WatchAssignment: over how many ms to spread the first reconnect after losing the coordinator. */
export const RECONNECT_WINDOW_KEY = 'muster-reconnect-window-ms';

/** The reconnect window a WatchAssignment's headers advise, at most MAX_RECONNECT_WINDOW_MS; undefined when absent or not a number of ms. */
export function advisedReconnectMs(headers: grpc.Metadata): number | undefined {
  const raw = headers.get(RECONNECT_WINDOW_KEY)[0];
  const v = typeof raw === 'string' && /^\d{1,12}$/.test(raw) ? Number(raw) : NaN;
  return Number.isFinite(v) ? Math.min(v, MAX_RECONNECT_WINDOW_MS) : undefined;
}
/** A hint beyond this is treated as this: a confused server must not park an agent for days. */
const MAX_RETRY_AFTER_MS = 3_600_000;

export function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (err instanceof MusterError) {
    metadata.set(REASON_KEY, err.reason);
    if (err instanceof ResourceExhaustedError && err.retryAfterMs !== undefined) metadata.set(RETRY_AFTER_KEY, String(Math.ceil(err.retryAfterMs)));
    return { code: KIND_TO_CODE[err.kind], details: err.message, metadata };
  }
  // Unexpected: do not leak internals (they may hold secrets); the server logs the full error.
  metadata.set(REASON_KEY, 'internal');
  return { code: grpc.status.INTERNAL, details: 'internal error in the coordinator (see its log)', metadata };
}

const CODE_TO_KIND = new Map<number, ErrorKind>(Object.entries(KIND_TO_CODE).map(([k, c]) => [c, k as ErrorKind]));

/** A failed call, as the typed error the server meant. Transport failures become `unavailable`. */
export function fromServiceError(err: unknown, target: string): MusterError {
  if (err instanceof MusterError) return err;
  const se = err as Partial<grpc.ServiceError>;
  if (typeof se?.code !== 'number') return new MusterError('internal', 'internal', String(err), { cause: err });
  const reason = String(se.metadata?.get(REASON_KEY)?.[0] ?? '');
  const kind = CODE_TO_KIND.get(se.code);
  if (se.code === grpc.status.RESOURCE_EXHAUSTED) {
    // Ours (a budget, with a hint) or grpc-js's own (a message over the receive limit): both
    // retryable, as RESOURCE_EXHAUSTED always was here; only ours carries a hint.
    const hint = Number(se.metadata?.get(RETRY_AFTER_KEY)?.[0] ?? NaN);
    const retryAfterMs = Number.isFinite(hint) && hint >= 0 ? Math.min(hint, MAX_RETRY_AFTER_MS) : undefined;
    const message = reason ? se.details || 'call refused' : `coordinator at ${target} refused the call: ${se.details || se.message}`;
    return new ResourceExhaustedError(reason || 'resource-exhausted', message, { retryAfterMs, cause: err });
  }
  // Something answered on the address but failed TLS verification: not "unreachable".
  const impostor = se.code === grpc.status.UNAVAILABLE && !reason ? coordinatorNotVerified(se.details ?? '', target) : null;
  if (impostor) return impostor;
  if (
    se.code === grpc.status.UNAVAILABLE ||
    se.code === grpc.status.DEADLINE_EXCEEDED ||
    se.code === grpc.status.CANCELLED ||
    (se.code === grpc.status.INTERNAL && !reason) ||
    (se.code === grpc.status.UNKNOWN && !reason)
  ) {
    return new MusterError('unavailable', 'unavailable', unreachableMessage(`${se.details || se.message}${se.code === grpc.status.DEADLINE_EXCEEDED ? ' (deadline)' : ''}`, target), { cause: err });
  }
  return new MusterError(kind ?? 'internal', reason || kind || 'internal', se.details || se.message || 'call failed', { cause: err });
}

/** Codes worth retrying: the coordinator is down, restarting or overloaded. */
export function isRetryable(err: MusterError): boolean {
  return err.kind === 'unavailable' || err.kind === 'resource-exhausted';
}

// The generated client interfaces overload each method; the last overload is
// (argument, callback), which these conditional types read.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- `any` is what lets the callback match both ways
type RequestOf<F> = F extends (arg: infer A, cb: grpc.requestCallback<any>) => unknown ? A : never;
type ResponseOf<F> = F extends (arg: never, cb: grpc.requestCallback<infer R>) => unknown ? R : never;

/**
 * One unary call with a deadline, as a promise; failures become typed MusterErrors. `onHeaders`
 * is called when the server's response headers arrive: for a held WatchAssignment that is as soon
 * as the coordinator has accepted the watch (it sends them before it holds), long before the answer.
 */
export function unary<C, K extends keyof C & string>(
  target: string,
  client: C,
  method: K,
  req: RequestOf<C[K]>,
  timeoutMs: number,
  signal?: AbortSignal,
  onHeaders?: (headers: grpc.Metadata) => void,
): Promise<ResponseOf<C[K]>> {
  type Res = ResponseOf<C[K]>;
  return new Promise<Res>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const fn = client[method] as unknown as (req: unknown, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;
    const call = fn.call(client, req, { deadline: Date.now() + timeoutMs }, (err, res) => {
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(signal?.aborted ? signal.reason : fromServiceError(err, target));
      else resolve(res as Res);
    });
    const onAbort = () => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (onHeaders) call.once('metadata', onHeaders);
  });
}
