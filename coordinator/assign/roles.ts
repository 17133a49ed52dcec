// Who holds which role. The order of precedence is the stability rule of the issue: a node's
// roles change only through an operator (an override, or a plan that stops naming it in a group
// without a pool). Pools only fill seats nobody holds, and only with nodes that hold nothing.
import { ROLES, type Role } from '../../shared/constants.ts';
import type { Plan } from '../../shared/plan/types.ts';
import type { NodeAssignmentState, RegisteredNode } from './types.ts';
import type { NamedMatch } from './match.ts';
import { disqualification, pickFromPool } from './pool.ts';
import { listNames } from './order.ts';

export interface RoleDecision {
  /** Node name -> roles held; every registered node has an entry (possibly empty). */
  roles: Map<string, Set<Role>>;
  /** Node name -> why a role it would hold was withheld (etcd seats full). */
  withheld: Map<string, string>;
  problems: string[];
}

export interface RoleInput {
  plan: Plan;
  /** In pool order. */
  nodes: readonly RegisteredNode[];
  named: NamedMatch;
  previous: ReadonlyMap<string, NodeAssignmentState>;
  overrides: ReadonlyMap<string, readonly Role[]>;
}

export function decideRoles({ plan, nodes, named, previous, overrides }: RoleInput): RoleDecision {
  const roles = new Map<string, Set<Role>>();
  const withheld = new Map<string, string>();
  const problems: string[] = [];

  // 1. Roles nobody needs to pick: overrides, plan entries, and roles held before in groups
  //    that still have a pool (a group without a pool lists its members by name).
  for (const n of nodes) {
    const override = overrides.get(n.name);
    const held = new Set<Role>();
    if (override) {
      for (const r of override) if ((ROLES as readonly string[]).includes(r)) held.add(r);
    } else {
      for (const e of named.byNode.get(n.name) ?? []) held.add(e.role);
      for (const r of previous.get(n.name)?.roles ?? []) if (plan[r]?.pool) held.add(r);
    }
    roles.set(n.name, held);
  }

  // 2. etcd never has more members than the plan's count. Current members keep their seats first:
  //    replacing a member must be an operator's step, since etcd only survives losing a minority.
  const cap = plan.etcd.expected_count;
  const etcd = nodes.filter((n) => roles.get(n.name)!.has('etcd'));
  if (etcd.length > cap) {
    const rank = (n: RegisteredNode) => (previous.get(n.name)?.roles.includes('etcd') ? 0 : overrides.has(n.name) ? 1 : 2);
    const ordered = etcd.map((n, i) => ({ n, i })).sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i).map((x) => x.n);
    const kept = ordered.slice(0, cap).map((n) => n.name);
    const out = ordered.slice(cap).map((n) => n.name);
    for (const name of out) {
      roles.get(name)!.delete('etcd');
      withheld.set(name, `etcd has all ${cap} members the plan allows (${listNames(kept)}): take the role from a member first (muster node assign NAME --role ...) or raise etcd.expected_count`);
    }
    problems.push(`etcd: ${etcd.length} nodes would hold the role but etcd.expected_count is ${cap}; ${listNames(out)} ${out.length === 1 ? 'does' : 'do'} not join (members: ${listNames(kept)})`);
  }

  // 3. Pools fill the seats left, etcd first, with nodes that hold no role and are not named.
  for (const role of ROLES) {
    const group = plan[role];
    if (!group.pool) continue;
    const members = nodes.filter((n) => roles.get(n.name)!.has(role));
    const namedMembers = members.filter((n) => named.byNode.get(n.name)?.some((e) => e.role === role)).length;
    const seats = group.expected_count - group.nodes.length - (members.length - namedMembers);
    if (seats <= 0) continue;
    const pool = group.pool;
    const candidates = nodes.filter((n) => isFree(n, roles, named, overrides) && disqualification(n, pool) === '');
    for (const n of pickFromPool(candidates, seats, role !== 'worker', members)) roles.get(n.name)!.add(role);
  }
  return { roles, withheld, problems };
}

/** Free for a pool: not pinned by an override, not named by the plan, no role yet. */
export function isFree(n: RegisteredNode, roles: ReadonlyMap<string, ReadonlySet<Role>>, named: NamedMatch, overrides: ReadonlyMap<string, readonly Role[]>): boolean {
  return !overrides.has(n.name) && !named.byNode.has(n.name) && roles.get(n.name)!.size === 0;
}

/** One line per group that has fewer or more holders than the plan expects. */
export function groupProblems({ plan, nodes, named, overrides }: RoleInput, roles: ReadonlyMap<string, ReadonlySet<Role>>, noBlock: ReadonlyMap<Role, number>): string[] {
  const problems: string[] = [];
  for (const role of ROLES) {
    const group = plan[role];
    const have = nodes.filter((n) => roles.get(n.name)!.has(role)).length;
    const want = group.expected_count;
    if (have > want) {
      problems.push(`${role} has ${have} nodes but ${role}.expected_count is ${want}: nodes keep a role until an operator takes it away (muster node assign NAME --role ..., or muster node remove NAME)`);
    }
    if (have >= want) continue;
    const parts: string[] = [];
    const missing = named.unmatched.filter((u) => u.role === role && u.why === 'not-registered').map((u) => u.host);
    if (missing.length) parts.push(`named ${missing.length === 1 ? 'node has' : 'nodes have'} not registered yet: ${listNames(missing)}`);
    const other = named.unmatched.filter((u) => u.role === role && u.why !== 'not-registered').length;
    if (other) parts.push(`${other} named ${other === 1 ? 'entry matches' : 'entries match'} no single node (see above)`);
    const starved = noBlock.get(role) ?? 0;
    if (starved) parts.push(`${starved} ${starved === 1 ? 'node it would hold waits' : 'nodes it would hold wait'} for a pod block`);
    if (starved) {
      // Any further pick would wait for a block too.
    } else if (!group.pool) {
      if (!missing.length && !other) parts.push(`the plan names ${group.nodes.length} and has no ${role} pool`);
    } else {
      const pool = group.pool;
      const free = nodes.filter((n) => isFree(n, roles, named, overrides));
      const qualify = free.filter((n) => disqualification(n, pool) === '').length;
      if (qualify > 0) parts.push(`${qualify} free ${qualify === 1 ? 'node qualifies' : 'nodes qualify'} for the pool`);
      else if (free.length === 0) parts.push('the pool has no free registered node to take');
      else parts.push(`none of the ${free.length} free nodes qualifies for the pool (e.g. ${free[0]!.name}: ${disqualification(free[0]!, pool)})`);
    }
    problems.push(`${role} wants ${want} ${want === 1 ? 'node' : 'nodes'}, ${have} ${have === 1 ? 'holds' : 'hold'} the role: ${parts.join('; ')}`);
  }
  return problems;
}
