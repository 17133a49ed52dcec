// etcd forms its cluster once: every first member starts with --initial-cluster-state=new and the
// same --initial-cluster list, or the members bootstrap separate clusters (each with its own
// cluster ID) that can never merge. So while no node has yet been handed an etcd assignment, no
// etcd member gets one until all etcd.expected_count members are known; a member that joins later
// than that is a change to a running cluster (the etcd-quorum change check guards those).
// Found by the real etcd in test/k8s/control-plane.test.ts: with agents starting a second apart,
// the first member bootstrapped alone and the others were refused with "cluster ID mismatch".
// Pure.
import { listNames } from './order.ts';

export interface FormationInputs {
  /** etcd.expected_count from the compiled plan. */
  expected: number;
  /** Whether any node holds a committed body with the etcd role (the cluster exists). */
  formed: boolean;
  /** Nodes the engine gives the etcd role now, by name. */
  members: readonly string[];
}

/** Node name -> why its assignment waits; empty when nothing waits. */
export function etcdFormationHolds(i: FormationInputs): Map<string, string> {
  const out = new Map<string, string>();
  if (i.formed || i.members.length === 0 || i.members.length >= i.expected) return out;
  const reason = `etcd forms its cluster when all ${i.expected} members the plan expects are known; ${i.members.length} so far (${listNames([...i.members].sort())}): start the others, or lower etcd.expected_count`;
  for (const m of i.members) out.set(m, reason);
  return out;
}
