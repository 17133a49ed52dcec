// The engine's view of each node (RegisteredNode), built from its node record and its facts in
// the writer's view, and kept until one of the two changes. A recompute reads every node, so
// rebuilding each one (and serialising it to see whether it changed) made every recompute cost
// O(fleet) in allocation and JSON; now an unchanged node costs one lookup. Records are never
// changed in place (every write puts a new object), so object identity says "unchanged".
import type { Table } from './writer.ts';
import type { FactsRecord, NodeRecord } from './records.ts';
import type { RegisteredNode } from '../assign/index.ts';
import { jsonEqual } from '../../shared/json.ts';

interface Cached {
  node: NodeRecord;
  facts: FactsRecord | undefined;
  reg: RegisteredNode;
}

export class RegisteredView {
  readonly #nodes: Table<NodeRecord>;
  readonly #facts: Table<FactsRecord>;
  readonly #cache = new Map<string, Cached>();
  /** What the last recompute saw of each node. */
  readonly #seen = new Map<string, RegisteredNode>();

  constructor(nodes: Table<NodeRecord>, facts: Table<FactsRecord>) {
    this.#nodes = nodes;
    this.#facts = facts;
  }

  /** The node as the engine sees it (writer's view); null when removed or unknown. */
  get(name: string): RegisteredNode | null {
    const n = this.#nodes.latest(name);
    if (!n || n.removedAtMs) {
      this.#cache.delete(name);
      return null;
    }
    const fr = this.#facts.latest(name);
    const c = this.#cache.get(name);
    if (c && c.node === n && c.facts === fr) return c.reg;
    const built = build(n, fr);
    // An equal view keeps the old object, so "seen" below stays a comparison of identities.
    const reg = c && jsonEqual(c.reg, built) ? c.reg : built;
    this.#cache.set(name, { node: n, facts: fr, reg });
    return reg;
  }

  /** Every live node (writer's view). */
  all(skip?: string): RegisteredNode[] {
    const out: RegisteredNode[] = [];
    for (const name of this.#nodes.latestNames()) {
      if (name === skip) continue;
      const r = this.get(name);
      if (r) out.push(r);
    }
    return out;
  }

  /** Remembers what a recompute was given. */
  noteSeen(nodes: readonly RegisteredNode[]): void {
    for (const r of nodes) this.#seen.set(r.name, r);
  }

  /** Whether the engine's view of `name` differs from what the last recompute saw. */
  changedSinceSeen(name: string): boolean {
    const r = this.get(name);
    return r !== null && this.#seen.get(name) !== r;
  }
}

function build(n: NodeRecord, fr: FactsRecord | undefined): RegisteredNode {
  const f = fr?.facts;
  const addrs = new Set<string>();
  if (n.address) addrs.add(n.address);
  if (f?.network?.default_address) addrs.add(f.network.default_address);
  for (const i of f?.network?.interfaces ?? []) for (const a of i.addresses) if (!a.startsWith('127.') && !a.startsWith('::1')) addrs.add(a.split('/')[0]!);
  const varLib = f?.disks?.filesystems.find((fs) => fs.mount === f.disks?.var_lib_mount);
  return {
    name: n.name,
    // From the join, not from facts: simulated nodes (--root) share the host's machine-id and
    // host name, and the name a node joined under is the one operators write in plans.
    machineId: n.machineId,
    hostname: n.hostname,
    addresses: [...addrs],
    labels: n.labels,
    cpus: f?.cpu?.logical_cores ?? 0,
    memoryBytes: Number(f?.memory?.total_bytes ?? 0),
    varLibDiskBytes: Number(varLib?.size_bytes ?? 0),
    joinedAtMs: n.joinedAtMs,
  };
}
