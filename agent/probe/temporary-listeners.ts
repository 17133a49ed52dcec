// Before install nothing listens on a node's role ports, so peers would see "connection refused"
// whether or not a firewall is in the way. The agent opens each free role port for a while, with
// the probe handler, so that peers test the path itself. A port already held (by the real
// component on an installed node, or by something else) is left alone and reported busy; the
// ports-free preflight check says whether the holder is the right one.
import { listenProbeServer, type ProbeServer } from './listener.ts';
import { describeSocketError } from './socket-error.ts';

export interface TemporaryListeners {
  /** Ports now listening with the probe handler. */
  opened: number[];
  /** Ports something else holds (EADDRINUSE). */
  busy: number[];
  /** Ports that could not be opened for another reason (e.g. EACCES below 1024 without root). */
  failed: Array<{ port: number; error: string }>;
  close(): Promise<void>;
}

export async function openTemporaryListeners(ports: readonly number[], host: string): Promise<TemporaryListeners> {
  const servers: ProbeServer[] = [];
  const out: TemporaryListeners = {
    opened: [],
    busy: [],
    failed: [],
    close: async () => {
      await Promise.all(servers.splice(0).map((s) => s.close()));
    },
  };
  for (const port of [...new Set(ports)]) {
    try {
      servers.push(await listenProbeServer(host, port));
      out.opened.push(port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') out.busy.push(port);
      else out.failed.push({ port, error: describeSocketError(err) });
    }
  }
  return out;
}
