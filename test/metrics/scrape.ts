// Reads a coordinator's /metrics over real HTTP into "name{labels}" -> value, for assertions.
export async function scrape(address: string): Promise<{ text: string; get(series: string): number; sum(prefix: string): number }> {
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
  };
}

export async function probe(address: string, path: '/healthz' | '/readyz'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${address}${path}`);
  return { status: res.status, body: await res.text() };
}
