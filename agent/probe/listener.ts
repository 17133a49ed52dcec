// The agent's probe port. Peers measure latency to it: they connect, send one byte and time the
// echo (see latency.ts for why an echo and not the TCP handshake). The same handler serves the
// temporary role-port listeners, so a peer may measure through either.
import { createServer, type Server, type Socket } from 'node:net';
import { FailedPreconditionError } from '../../shared/errors/index.ts';
import { describeSocketError } from './socket-error.ts';

/** A probe connection that says nothing for this long is dropped. */
export const PROBE_IDLE_MS = 5_000;
/** Upper bound on simultaneous probe connections (peers probe a bounded sample each). */
export const PROBE_MAX_CONNECTIONS = 512;

/** Echo the first chunk and close: one round trip per connection, nothing else is read. */
export function handleProbeConnection(socket: Socket): void {
  socket.setNoDelay(true);
  socket.setTimeout(PROBE_IDLE_MS, () => socket.destroy());
  socket.once('data', (chunk: Buffer) => socket.end(chunk.subarray(0, 1)));
  socket.on('error', () => socket.destroy());
}

export interface ProbeServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** A listening probe server; its close() also drops the connections still open. */
export function listenProbeServer(host: string, port: number): Promise<ProbeServer> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    handleProbeConnection(s);
  });
  server.maxConnections = PROBE_MAX_CONNECTIONS;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve({
        server,
        port: typeof addr === 'object' && addr ? addr.port : port,
        close: () => new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

export interface ProbeListenerOptions {
  /** Address to listen on; "0.0.0.0" for every IPv4 address. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
}

/** Starts the agent's probe port (DEFAULT_PROBE_PORT in production). */
export async function startProbeListener(options: ProbeListenerOptions): Promise<{ port: number; close(): Promise<void> }> {
  try {
    const s = await listenProbeServer(options.host, options.port);
    return { port: s.port, close: s.close };
  } catch (err) {
    throw new FailedPreconditionError(
      'probe-port-unavailable',
      `cannot listen on the probe port ${options.host}:${options.port}: ${describeSocketError(err)}; ` +
        'stop whatever holds it, or configure another probe port for muster-agent (its peers must use the same one)',
      { cause: err },
    );
  }
}
