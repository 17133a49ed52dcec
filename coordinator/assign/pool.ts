// Node pools: which registered nodes qualify for a group, and which of them to take. etcd and
// master members are spread across failure domains so one zone going down cannot take quorum.
import type { PoolSpec } from '../../shared/plan/types.ts';
import type { RegisteredNode } from './types.ts';
import { compareText, formatGiB } from './order.ts';

/** The label that names a node's failure domain (Kubernetes' well-known label). */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** "" when the node qualifies, else the first reason it does not (for `waiting` and problems). */
export function disqualification(node: RegisteredNode, pool: PoolSpec): string {
  for (const key of Object.keys(pool.selector).sort(compareText)) {
    const want = pool.selector[key]!;
    const have = node.labels[key];
    if (have === undefined) return `lacks label ${key}=${want}`;
    if (have !== want) return `label ${key} is "${have}", the pool selects "${want}"`;
  }
  const minimum = (what: string, have: number, want: number, show: (n: number) => string): string =>
    want <= 0 || have >= want ? '' : have <= 0 ? `${what} not reported (pool needs ${show(want)})` : `${what} ${show(have)} < ${show(want)}`;
  return (
    minimum('cpus', node.cpus, pool.min_cpus, String) ||
    minimum('memory', node.memoryBytes, pool.min_memory_bytes, formatGiB) ||
    minimum('/var/lib disk', node.varLibDiskBytes, pool.min_disk_bytes, formatGiB)
  );
}

/**
 * Take `count` nodes from `candidates` (already in pool order). With `spread`, each pick goes to
 * the zone with the fewest members so far (counting `members`, the group's current holders),
 * ties to the zone name; within a zone, pool order. Nodes without the label share one zone "",
 * which loses ties.
 */
export function pickFromPool(candidates: readonly RegisteredNode[], count: number, spread: boolean, members: readonly RegisteredNode[]): RegisteredNode[] {
  if (count <= 0) return [];
  const zoneOf = (n: RegisteredNode) => n.labels[ZONE_LABEL] ?? '';
  if (!spread || !candidates.some((n) => zoneOf(n) !== '')) return candidates.slice(0, count);
  const queues = new Map<string, RegisteredNode[]>();
  for (const n of candidates) {
    const q = queues.get(zoneOf(n));
    if (q) q.push(n);
    else queues.set(zoneOf(n), [n]);
  }
  const load = new Map<string, number>();
  for (const m of members) load.set(zoneOf(m), (load.get(zoneOf(m)) ?? 0) + 1);
  // Unlabeled nodes may sit anywhere, so they come last when loads tie.
  const zones = [...queues.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : compareText(a, b)));
  const next = new Map<string, number>(zones.map((z) => [z, 0]));
  const picked: RegisteredNode[] = [];
  while (picked.length < count) {
    let best = '';
    let bestLoad = Infinity;
    for (const z of zones) {
      const l = load.get(z) ?? 0;
      if (next.get(z)! < queues.get(z)!.length && l < bestLoad) [best, bestLoad] = [z, l];
    }
    if (bestLoad === Infinity) break; // every zone is used up
    const i = next.get(best)!;
    picked.push(queues.get(best)![i]!);
    next.set(best, i + 1);
    load.set(best, bestLoad + 1);
  }
  return picked;
}
