// computeAssignments: plan + registered nodes + what was decided before -> what every node should
// be. Pure: no IO, no clock, no randomness; inputs are sorted first, so their order never matters.
import { ROLES, type Role } from '../../shared/constants.ts';
import type { AssignInput, AssignOutput, NodeAssignmentState, RegisteredNode } from './types.ts';
import { matchNamedNodes, type NamedMatch } from './match.ts';
import { decideRoles, groupProblems } from './roles.ts';
import { allocatePodBlocks } from './pod-blocks.ts';
import { renderAssignments } from './render.ts';
import { disqualification } from './pool.ts';
import { compareNodes, compareText, listNames, sortRoles } from './order.ts';

export function computeAssignments(input: AssignInput): AssignOutput {
  const { plan, previous, overrides } = input;
  const problems: string[] = [];

  const nodes: RegisteredNode[] = [];
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const n of [...input.nodes].sort(compareNodes)) {
    if (seen.has(n.name)) twice.push(n.name);
    else nodes.push(n);
    seen.add(n.name);
  }
  if (twice.length) problems.push(`node names registered twice (the later registration is ignored): ${listNames(twice)}`);

  const named = matchNamedNodes(plan, nodes, previous);
  problems.push(...named.problems);
  const roleInput = { plan, nodes, named, previous, overrides };
  const decision = decideRoles(roleInput);
  problems.push(...decision.problems);
  const roles = decision.roles;

  const needsBlock = (name: string) => roles.get(name)!.has('master') || roles.get(name)!.has('worker');
  const alloc = allocatePodBlocks(plan.cluster.networking, nodes, needsBlock, previous);
  const noBlock = new Map<Role, number>();
  for (const name of alloc.starved) {
    for (const r of ['master', 'worker'] as const) {
      if (roles.get(name)!.delete(r)) noBlock.set(r, (noBlock.get(r) ?? 0) + 1);
    }
  }
  problems.push(...alloc.problems);
  problems.push(...groupProblems(roleInput, roles, noBlock));

  const byName = [...nodes].sort((a, b) => compareText(a.name, b.name));
  const held = new Map<string, Role[]>(byName.map((n) => [n.name, sortRoles(roles.get(n.name)!)]));
  const holders = byName.filter((n) => held.get(n.name)!.length > 0);
  const rendered = renderAssignments({ plan, nodes: holders, roles: held, blocks: alloc.blocks, entries: named.byNode });
  problems.push(...rendered.problems);

  const state = new Map<string, NodeAssignmentState>();
  const waiting = new Map<string, string>();
  const starved = new Set(alloc.starved);
  // Seats taken, for "pool is full": holders plus picks that wait for a pod block.
  const count = new Map<Role, number>(ROLES.map((r) => [r, holders.filter((n) => held.get(n.name)!.includes(r)).length + (noBlock.get(r) ?? 0)]));
  for (const n of byName) {
    const r = held.get(n.name)!;
    const block = alloc.blocks.get(n.name) ?? '';
    if (r.length || block) state.set(n.name, { pinned: overrides.has(n.name), podCidr: block, roles: r });
    if (!r.length) {
      waiting.set(n.name, starved.has(n.name) ? alloc.starvedReason : decision.withheld.get(n.name) ?? whyNoRole(n, input, named, count));
    }
  }
  return { assignments: rendered.assignments, state, waiting, problems };
}

/** The reason a node that nobody withheld anything from still holds no role. */
function whyNoRole(n: RegisteredNode, { plan, overrides }: AssignInput, named: NamedMatch, count: ReadonlyMap<Role, number>): string {
  if (overrides.has(n.name)) return `an operator assigned it no role: give it roles with muster node assign ${n.name} --role ROLE`;
  if (named.byNode.has(n.name)) return 'named in the plan, but every role it is named for was withheld (see problems)';
  const parts: string[] = [];
  for (const role of ROLES) {
    const pool = plan[role].pool;
    if (!pool) continue;
    const why = disqualification(n, pool);
    if (why) parts.push(`${role} pool: ${why}`);
    else {
      parts.push(`${role} pool is full (${count.get(role)} of ${plan[role].expected_count} seats taken or kept for named nodes)`);
    }
  }
  if (!parts.length) return `not named in the plan, which has no pools: name it under etcd, master or worker nodes, add a pool, or use muster node assign ${n.name} --role ROLE`;
  return `not named in the plan; ${parts.join('; ')}`;
}
