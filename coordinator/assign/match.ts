// Matching the nodes a plan names to the nodes that registered. A plan entry's `host` may be the
// node name, the machine-id or the hostname; its `ip`/`internal_ip` (or a `host` that is an IP)
// may be any of the node's addresses. Stronger keys win: name, machine-id, hostname, address.
import { ROLES, type Role } from '../../shared/constants.ts';
import type { Plan, PlanNode } from '../../shared/plan/types.ts';
import type { NodeAssignmentState, RegisteredNode } from './types.ts';
import { listNames } from './order.ts';

/** One plan entry that names a registered node. */
export interface NamedEntry {
  role: Role;
  /** Index in plan[role].nodes. */
  index: number;
  entry: PlanNode;
}

export interface UnmatchedEntry {
  role: Role;
  index: number;
  host: string;
  why: 'not-registered' | 'ambiguous' | 'duplicate';
}

export interface NamedMatch {
  /** Node name -> the plan entries naming it, in role order. */
  byNode: Map<string, NamedEntry[]>;
  unmatched: UnmatchedEntry[];
  problems: string[];
}

const KEY_NAMES = ['node name', 'machine-id', 'hostname', 'address'] as const;

/** `nodes` must be in pool order; ties between equally strong matches are never broken silently. */
export function matchNamedNodes(plan: Plan, nodes: readonly RegisteredNode[], previous: ReadonlyMap<string, NodeAssignmentState>): NamedMatch {
  const index = [new Map<string, RegisteredNode[]>(), new Map<string, RegisteredNode[]>(), new Map<string, RegisteredNode[]>(), new Map<string, RegisteredNode[]>()] as const;
  const add = (m: Map<string, RegisteredNode[]>, key: string, n: RegisteredNode) => {
    if (!key) return;
    const list = m.get(key);
    if (!list) m.set(key, [n]);
    else if (list[list.length - 1] !== n) list.push(n);
  };
  for (const n of nodes) {
    add(index[0], n.name, n);
    add(index[1], n.machineId, n);
    add(index[2], n.hostname, n);
    for (const a of n.addresses) add(index[3], a, n);
  }
  const NONE: RegisteredNode[] = [];
  // One key: its list is already in pool order and without repeats (see add), so it is the
  // answer as it is. Several keys (addresses): merged, deduplicated, in pool order.
  const lookup1 = (m: Map<string, RegisteredNode[]>, key: string): RegisteredNode[] => (key && m.get(key)) || NONE;
  const lookup = (m: Map<string, RegisteredNode[]>, keys: string[]): RegisteredNode[] => {
    const lists = keys.map((k) => lookup1(m, k)).filter((l) => l.length > 0);
    if (lists.length <= 1) return lists[0] ?? NONE;
    const found = new Set<RegisteredNode>();
    for (const l of lists) for (const n of l) found.add(n);
    return nodes.length && found.size > 1 ? nodes.filter((n) => found.has(n)) : [...found];
  };

  const byNode = new Map<string, NamedEntry[]>();
  const unmatched: UnmatchedEntry[] = [];
  const problems: string[] = [];
  for (const role of ROLES) {
    const claimed = new Map<string, number>(); // node name -> entry index in this group
    plan[role].nodes.forEach((entry, i) => {
      // Only problems print it: built on demand, not for every entry of every recompute.
      const where = () => `${role}.nodes[${i}] (host ${entry.host || entry.ip})`;
      const byRank = [lookup1(index[0], entry.host), lookup1(index[1], entry.host), lookup1(index[2], entry.host), lookup(index[3], [entry.ip, entry.internal_ip, entry.host])];
      let rank = byRank.findIndex((c) => c.length > 0);
      let candidates: RegisteredNode[] = rank < 0 ? [] : byRank[rank]!;
      if (rank < 0) rank = 3;
      // The node that holds the role keeps it, whichever key matches it: a newcomer whose name
      // happens to equal the entry's host (a machine-id, an address) must not take an installed
      // etcd or master role from the node it belongs to. Among equal matches (a re-imaged machine
      // registered twice under one hostname) the holder wins too.
      const holders: RegisteredNode[] = [];
      for (const list of byRank) for (const n of list) if (!holders.includes(n) && previous.get(n.name)?.roles.includes(role)) holders.push(n);
      if (holders.length === 1 && !candidates.includes(holders[0]!)) {
        const holder = holders[0]!;
        const holderRank = byRank.findIndex((c) => c.includes(holder));
        problems.push(
          `${where()} matches ${listNames(candidates.map((n) => n.name))} by ${KEY_NAMES[rank]}, but node ${holder.name} (matched by ${KEY_NAMES[holderRank]}) holds the role and keeps it: ` +
            `set host to the node name of the one you mean, or \`muster node remove ${holder.name}\``,
        );
        candidates = [holder];
        rank = holderRank;
      } else if (candidates.length > 1 && holders.length === 1 && candidates.includes(holders[0]!)) candidates = [holders[0]!];
      if (candidates.length === 0) {
        unmatched.push({ role, index: i, host: entry.host || entry.ip, why: 'not-registered' });
        return;
      }
      if (candidates.length > 1) {
        unmatched.push({ role, index: i, host: entry.host || entry.ip, why: 'ambiguous' });
        problems.push(`${where()} matches ${candidates.length} registered nodes by ${KEY_NAMES[rank]} (${listNames(candidates.map((n) => n.name))}): set host to the node name of the one you mean`);
        return;
      }
      const node = candidates[0]!;
      const other = claimed.get(node.name);
      if (other !== undefined) {
        unmatched.push({ role, index: i, host: entry.host || entry.ip, why: 'duplicate' });
        problems.push(`${where()} matches node ${node.name}, which ${role}.nodes[${other}] already names: remove one of the two entries`);
        return;
      }
      claimed.set(node.name, i);
      const list = byNode.get(node.name);
      if (list) list.push({ role, index: i, entry });
      else byNode.set(node.name, [{ role, index: i, entry }]);
    });
  }
  return { byNode, unmatched, problems };
}
