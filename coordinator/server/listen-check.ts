// Whether the coordinator can listen where it was told, asked before a first start writes
// anything to the data dir (a taken port must not leave a half-made data dir behind), and the
// words for a listen that failed: one sentence with what to do, not "listen EADDRINUSE".
import { createServer } from 'node:net';
import { ConfigError } from '../../shared/errors/index.ts';

export function listenFailure(host: string, port: number, err: NodeJS.ErrnoException, flag = '--listen'): ConfigError {
  const where = `${host}:${port}`;
  const why: Record<string, string> = {
    EADDRINUSE: `another program is using port ${port} (see which: ss -ltnp 'sport = :${port}'); stop it, or pass another ${flag}`,
    EADDRNOTAVAIL: `${host} is not an address of this machine; pass one of its addresses (ip -brief address), or 0.0.0.0 for all`,
    EACCES: `ports below 1024 need root; run as root, or pass a port of 1024 or more to ${flag}`,
  };
  return new ConfigError(`cannot listen on ${where}: ${why[err.code ?? ''] ?? err.message}`, { cause: err });
}

/** Binds host:port for a moment; throws listenFailure's error when that is refused. */
export async function checkCanListen(host: string, port: number, flag = '--listen'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) => reject(listenFailure(host, port, err, flag)));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve()));
  });
}
