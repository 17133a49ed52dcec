// What the plan's registry settings mean for a runtime, in one place for docker and containerd.
// `insecure_registries` are `host[:port]` (no scheme, the plan checks that); `registry_mirrors`
// are URLs of Docker Hub mirrors (Kismatic's and dockerd's meaning).

/** host[:port] of a mirror URL, e.g. "https://mirror.example.com:5000/" -> "mirror.example.com:5000". */
export function mirrorHost(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/]+)/i.exec(url);
  return m ? m[1]!.toLowerCase() : url.replace(/\/+$/, '').toLowerCase();
}

/** The mirror URL with a scheme (https when it has none) and without trailing slashes. */
export function mirrorUrl(url: string): string {
  const u = url.replace(/\/+$/, '');
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : `https://${u}`;
}

export function isInsecure(host: string, insecure: readonly string[]): boolean {
  const h = host.toLowerCase();
  return insecure.some((i) => i.toLowerCase() === h);
}
