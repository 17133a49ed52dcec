// Latency to a peer: the round trip of a one-byte echo over a fresh TCP connection.
//
// Why not the TCP handshake time: the kernel completes the handshake before any program calls
// accept(), so the handshake measures only the network path up to the peer's kernel. The echo
// crosses the path and the peer's user space once each way, so it is one network round trip plus
// what the peer's agent adds; anything in between that holds connections (a proxy, an overloaded
// peer) shows up, as it would for etcd and the API server. The clock starts when the connection is
// established, so the handshake's own round trip is not counted twice.
//
// Bounded: `tries` sequential tries, each given at most timeoutMs (connect + echo), so one target
// takes at most tries * timeoutMs.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ProbeTarget } from '../../proto/gen/types/muster/v1/ProbeTarget.ts';
import type { LatencyResult__Output } from '../../proto/gen/types/muster/v1/LatencyResult.ts';
import { describeSocketError, timeoutMessage } from './socket-error.ts';
import { median } from '../../shared/probe/median.ts';

export interface LatencyOptions {
  /** @default 5 */
  tries?: number;
  /** Per try, connect + echo. @default 1000 */
  timeoutMs?: number;
  /** Local address to connect from. @default the kernel's choice */
  localAddress?: string;
}

const PING = Buffer.from([0x6d]);

/**
 * One timed connection: `onConnect` decides what counts as done (it calls `done` with the
 * milliseconds); timeouts, errors and cleanup are shared by both kinds of try.
 */
function timedTry(host: string, port: number, timeoutMs: number, localAddress: string | undefined, onConnect: (socket: Socket, done: (ms: number) => void, startedAt: number) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const socket = connect({ host, port, localAddress, noDelay: true });
    let settled = false;
    const finish = (err: Error | null, value = 0) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new Error(timeoutMessage(timeoutMs))), timeoutMs);
    socket.once('connect', () => onConnect(socket, (ms) => finish(null, ms), startedAt));
    socket.once('error', (e) => finish(new Error(describeSocketError(e))));
    socket.once('close', () => finish(new Error('closed by the peer without answering (not a muster-agent probe port?)')));
  });
}

/** One try: connect, send a byte, resolve with the milliseconds until the echo arrives. */
export function echoRoundTrip(host: string, port: number, timeoutMs: number, localAddress?: string): Promise<number> {
  return timedTry(host, port, timeoutMs, localAddress, (socket, done) => {
    const sentAt = performance.now();
    socket.once('data', () => done(performance.now() - sentAt));
    socket.write(PING);
  });
}

/**
 * One try against a port that does not echo (the coordinator's gRPC port): the milliseconds from
 * connect() to "connected", one TCP handshake. The kernel answers the handshake, so this is the
 * network's round trip; good enough for the coordinator, which gates nothing on it.
 */
export function connectRoundTrip(host: string, port: number, timeoutMs: number, localAddress?: string): Promise<number> {
  return timedTry(host, port, timeoutMs, localAddress, (_socket, done, startedAt) => done(performance.now() - startedAt));
}

/** The median of one round's tries (shared with the coordinator, which takes it over rounds). */
export { median };

/**
 * Median echo round trip over `tries` to target's address:port. When every try fails the median
 * is -1 and `error` says why (the last error); when some fail, the median is over the others and
 * `error` counts the failures.
 */
export async function measureLatency(target: ProbeTarget, options: LatencyOptions & { handshakeOnly?: boolean } = {}): Promise<LatencyResult__Output> {
  const tries = Math.max(1, Math.floor(options.tries ?? 5));
  const timeoutMs = options.timeoutMs ?? 1000;
  const t = { node_name: target.node_name ?? '', address: target.address ?? '', port: target.port ?? 0, sample: target.sample ?? false };
  const samples: number[] = [];
  let lastError = '';
  const once = options.handshakeOnly ? connectRoundTrip : echoRoundTrip;
  for (let i = 0; i < tries; i++) {
    try {
      samples.push(await once(t.address, t.port, timeoutMs, options.localAddress));
    } catch (err) {
      lastError = (err as Error).message;
    }
  }
  if (samples.length === 0) return { target: t, median_ms: -1, tries, error: lastError };
  const failed = tries - samples.length;
  return { target: t, median_ms: median(samples), tries, error: failed ? `${failed} of ${tries} tries failed, last: ${lastError}` : '' };
}
