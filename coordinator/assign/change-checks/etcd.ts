// etcd keeps working while a majority of its members does. A plan may shrink the group, or move
// members, only so far that a majority of today's members stays: a minority at a time.
import { defineChangeCheck, holding } from './check.ts';
import { listNames } from '../order.ts';

export const etcdQuorumCheck = defineChangeCheck('etcd-quorum', (ctx, refuse) => {
  const members = holding(ctx, 'etcd');
  if (members.length === 0) return;
  const quorum = Math.floor(members.length / 2) + 1;
  const oldCount = ctx.old.etcd.expected_count;
  const newCount = ctx.next.etcd.expected_count;
  let refused = false;
  if (newCount < oldCount) {
    if (newCount < quorum) {
      refused = true;
      refuse('etcd.expected_count', members, `etcd.expected_count: ${oldCount} -> ${newCount} is below the quorum (${quorum}) of the ${members.length} current members (${listNames(members)}); etcd would stop: shrink by one member at a time (muster node assign NAME --role ...), or use --force`);
    }
    // An even count tolerates no more failures than the odd count below it.
    if (newCount > 0 && newCount % 2 === 0) {
      refuse('etcd.expected_count', [], `etcd.expected_count: ${oldCount} -> ${newCount} is an even count, which survives no more failures than ${newCount - 1}: use ${newCount - 1} or ${newCount + 1}, or use --force`);
    }
  }
  // Members that came from the pool keep their seats only while the group has a pool.
  const named = ctx.next.etcd.nodes.length;
  if (ctx.old.etcd.pool && !ctx.next.etcd.pool && named < quorum) {
    refused = true;
    refuse('etcd.pool', members, `etcd.pool: removing the pool leaves ${named} named ${named === 1 ? 'node' : 'nodes'} for ${members.length} current members (${listNames(members)}); members not named lose the role and etcd loses quorum: name the current members under etcd.nodes first, or keep the pool, or use --force`);
  }
  if (refused) return;
  // What the engine does with the new plan: members that lose the role, counted against quorum.
  const lost = ctx.nodes.filter((n) => n.after && n.before.includes('etcd') && !n.after.includes('etcd')).map((n) => n.name);
  const tolerated = members.length - quorum;
  if (lost.length > tolerated) {
    const moved = ctx.nodes.filter((n) => n.after?.includes('etcd') && !n.before.includes('etcd')).map((n) => n.name);
    refuse('etcd', lost, `etcd: the new plan takes the role from ${lost.length} of the ${members.length} current members (${listNames(lost)})${moved.length ? ` and gives it to ${listNames(moved)}` : ''}; a majority of today's members must stay (at most ${tolerated} may change at once), or etcd loses quorum and its data: change ${tolerated === 0 ? 'members only after adding one (grow the group first)' : `at most ${tolerated} member${tolerated === 1 ? '' : 's'} per plan and wait for it to apply`}, or use --force`);
  }
});
