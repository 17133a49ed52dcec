// Socket errors in words an operator can act on, keeping the errno code for searching.
const WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens on the port, or a firewall rejects it)',
  ECONNRESET: 'connection reset by the peer',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'the source address is not an address of this node',
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  ETIMEDOUT: 'timed out',
};

export function describeSocketError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code && WORDS[code]) return `${code}: ${WORDS[code]}`;
  return err instanceof Error ? err.message : String(err);
}

/** The message of a try that got no answer in time (a firewall that drops, or a host that is down). */
export function timeoutMessage(timeoutMs: number): string {
  return `timed out after ${timeoutMs} ms (a firewall drops the traffic, or the host is down)`;
}
