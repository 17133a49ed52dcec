// Port reachability: can this node open a TCP connection to peer:port? Each connection is made
// from a given source address so that a failure names both ends (Kismatic #1262: preflight at
// scale failed without naming the IP). Connections close at once; nothing is sent.
import { connect } from 'node:net';
import type { ProbeTarget } from '../../proto/gen/types/muster/v1/ProbeTarget.ts';
import type { ReachResult__Output } from '../../proto/gen/types/muster/v1/ReachResult.ts';
import { describeSocketError, timeoutMessage } from './socket-error.ts';
import { mapLimit } from './limit.ts';

export interface ReachOptions {
  /** Local address to connect from (the node's cluster address). @default the kernel's choice */
  sourceAddress?: string;
  /** Per connection. @default 1000 */
  timeoutMs?: number;
  /** Connections in flight. @default 16 */
  concurrency?: number;
}

function reachOne(target: ProbeTarget, sourceAddress: string | undefined, timeoutMs: number): Promise<ReachResult__Output> {
  const t = { node_name: target.node_name ?? '', address: target.address ?? '', port: target.port ?? 0, sample: target.sample ?? false };
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({ host: t.address, port: t.port, localAddress: sourceAddress });
    const finish = (ok: boolean, error: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const source = socket.localAddress ?? sourceAddress ?? '';
      socket.destroy();
      resolve({ target: t, source_address: source, ok, error });
    };
    const timer = setTimeout(() => finish(false, timeoutMessage(timeoutMs)), timeoutMs);
    socket.once('connect', () => finish(true, ''));
    socket.once('error', (e) => finish(false, describeSocketError(e)));
  });
}

/** Tries every target, `concurrency` at a time; results in the order of `targets`. */
export function checkReach(targets: readonly ProbeTarget[], options: ReachOptions = {}): Promise<ReachResult__Output[]> {
  const timeoutMs = options.timeoutMs ?? 1000;
  return mapLimit(targets, options.concurrency ?? 16, (t) => reachOne(t, options.sourceAddress, timeoutMs));
}
