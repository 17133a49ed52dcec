// The shapes the assignment engine takes and returns. The engine is a pure function of these:
// the lead persists `state`, feeds it back as `previous`, and compares each node's body as JSON
// to decide whether that node's assignment revision must bump.
import type { Role } from '../../shared/constants.ts';
import type { Plan } from '../../shared/plan/types.ts';
import type { Assignment__Output } from '../../proto/gen/types/muster/v1/Assignment.ts';
import type { Networking__Output } from '../../proto/gen/types/muster/v1/Networking.ts';

/** A node that joined and is not removed, as the coordinator knows it. */
export interface RegisteredNode {
  /** Node name (the CN of its identity certificate); unique. */
  name: string;
  machineId: string;
  hostname: string;
  /** IPs without prefix; [0] is the primary (default-route) address. */
  addresses: string[];
  /** Labels the node declared (e.g. topology.kubernetes.io/zone). */
  labels: Record<string, string>;
  /** 0 when unknown. */
  cpus: number;
  memoryBytes: number;
  varLibDiskBytes: number;
  joinedAtMs: number;
}

/** What the lead persists per node between computations. */
export interface NodeAssignmentState {
  roles: Role[];
  /** "" when the node holds no pod block. */
  podCidr: string;
  /** True while an operator override decides this node's roles. */
  pinned: boolean;
}

export interface AssignInput {
  plan: Plan;
  /** Live registered nodes; removed nodes are not here (and their blocks become free). */
  nodes: RegisteredNode[];
  /** The state of the previous computation, by node name. */
  previous: ReadonlyMap<string, NodeAssignmentState>;
  /** `muster node assign NAME --role ...`: the operator's explicit roles, by node name. An empty list pins a node to no role. */
  overrides: ReadonlyMap<string, readonly Role[]>;
}

/** Every field of the wire Assignment except the two revisions, which the lead stamps, and the PKI target, which the state layer adds. */
export type AssignmentBody = Omit<Assignment__Output, 'revision' | 'plan_revision' | 'networking' | 'pki'> & {
  networking: Networking__Output;
};

export interface AssignOutput {
  /** Only nodes that hold at least one role; keys in name order. */
  assignments: Map<string, AssignmentBody>;
  /** New persisted state for every node with a role or a pod block; keys in name order. */
  state: Map<string, NodeAssignmentState>;
  /** Node -> why it holds no role (not in the plan, pool full, no pod block left, ...). */
  waiting: Map<string, string>;
  /** Cluster-level findings for `muster status` and `muster plan apply`, e.g. "etcd wants 3 nodes, 1 holds the role: ...". */
  problems: string[];
}
