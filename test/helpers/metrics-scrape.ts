// Reads a coordinator's /metrics over real HTTP into "name{labels}" -> value: for the tests'
// assertions and for bench/fleet.ts, so the figures it prints are the ones the coordinator exports.
export interface Scrape {
  text: string;
  get(series: string): number;
  sum(prefix: string): number;
  /** Upper bound (a bucket's `le`, seconds) under which fraction q of histogram `name`'s observations fall. */
  quantileBound(name: string, q: number): number;
}

export async function scrape(address: string): Promise<Scrape> {
  const res = await fetch(`http://${address}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const text = await res.text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    values.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return {
    text,
    /** One series exactly as exported (labels in prom-client's order); 0 when absent. */
    get: (series) => values.get(series) ?? 0,
    /** The sum over every series whose text starts with prefix. */
    sum: (prefix) => [...values].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0),
    quantileBound(name, q) {
      const buckets = [...values]
        .flatMap(([k, v]) => {
          const m = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}$`).exec(k);
          return m ? [[m[1] === '+Inf' ? Infinity : Number(m[1]), v] as const] : [];
        })
        .sort((a, b) => a[0] - b[0]);
      const total = buckets.at(-1)?.[1] ?? 0;
      return buckets.find(([, count]) => count >= q * total)?.[0] ?? NaN;
    },
  };
}

export async function probe(address: string, path: '/healthz' | '/readyz'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${address}${path}`);
  return { status: res.status, body: await res.text() };
}
