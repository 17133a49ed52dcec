// A TCP port free on `host` right now, from a throwaway listener: for a coordinator that must know
// its port before it binds (its certificate and admin config name it), and for tests that restart
// one on the same address.
import { createServer } from 'node:net';

export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
