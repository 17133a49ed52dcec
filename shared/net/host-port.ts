// "host:port" and "[v6]:port", the one parser both programs use.
export function splitHostPort(hp: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(hp) ?? /^([^:]*):(\d+)$/.exec(hp);
  if (!m) throw new Error(`"${hp}" is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** The inverse: "[v6]:port" for an IPv6 address, "host:port" otherwise. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
