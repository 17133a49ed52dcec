// What the coordinator persists, one JSON value per key. The key layout is the contract between
// the state layer and any Store implementation (sqlite, memory, etcd): each prefix is one table
// (writer.ts), owned by one aggregate module.
import type { AssignmentBody, NodeAssignmentState } from '../assign/index.ts';
import type { FactsOut } from '../../shared/wire/types.ts';
import type { Role } from '../../shared/constants.ts';
import type { PkiTarget__Output } from '../../proto/gen/types/muster/v1/PkiTarget.ts';

export const PREFIX = {
  nodes: 'nodes/',
  tokens: 'tokens/',
  /** Assignment bodies; a key's modRevision is the assignment revision agents see. */
  assignments: 'assignments/',
  /** What the assignment engine keeps between computations (roles, pod block, pinned). */
  assignmentState: 'assignment-state/',
  /** The last assignment revision handed out (key "last"): assignments have a sequence of their own. */
  assignmentSeq: 'assignment-seq/',
  facts: 'facts/',
  applies: 'apply/',
  overrides: 'overrides/',
  plans: 'plans/',
  lastSeen: 'lastseen/',
  meta: 'meta/',
} as const;

export const META = {
  /** Number of the plan in force. */
  currentPlan: 'current-plan',
  /** The operator's preflight ignore list (`muster preflight --ignore`), a JSON array. */
  preflightIgnore: 'preflight-ignore',
  /** Written in the first transaction of a data dir: a store without it was never initialised. */
  initialised: 'initialised',
} as const;

/** Plan keys sort by number: plans/000000000001. */
export function planKey(n: number): string {
  return String(n).padStart(12, '0');
}

export interface NodeRecord {
  name: string;
  machineId: string;
  hostname: string;
  address: string;
  labels: Record<string, string>;
  agentVersion: string;
  /** Serial of the identity certificate accepted for this node. */
  certSerial: string;
  /** Key id (sha256 of the SPKI) of that certificate's key. */
  keyId: string;
  /** The certificate itself: a retried join with the same token and key gets it again. */
  certPem: string;
  /** The token the node joined (or was taken over) with. */
  joinTokenId: string;
  /**
   * A renewal's certificate the node has not used yet. Until it does, the old serial stays valid
   * (an agent that died before saving its new identity is not locked out); its first use makes
   * it the only one.
   */
  pending?: { serial: string; keyId: string; certPem: string };
  joinedAtMs: number;
  /** Set when an operator removed the node; its certificate is refused from then on. */
  removedAtMs: number;
}

/** The engine's body plus the cluster PKI's target (coordinator/pki/targets.ts). */
export type StoredBody = AssignmentBody & { pki: PkiTarget__Output | null };

export interface AssignmentRecord {
  planRevision: number;
  body: StoredBody;
  /**
   * The assignment revision: from the assignments' own sequence (1, 2, 3... across the fleet,
   * one number per body written, apart from plan revisions and from the store's revisions), so
   * a number never comes back, not even for a node removed and joined again. Records from
   * before it existed lack it; their revision was the store's, and the sequence continues above
   * the highest of them.
   */
  revision?: number;
}

/** An assignment as readers see it: the body and the revision that wrote it. */
export interface CommittedAssignment extends AssignmentRecord {
  revision: number;
}

export type AssignmentStateRecord = NodeAssignmentState;

export interface FactsRecord {
  facts: FactsOut;
  /** True once a full report was received. */
  complete: boolean;
  atMs: number;
}

export interface ApplyRecord {
  revision: number;
  ok: boolean;
  error: string;
  files: { path: string; changed: boolean }[];
  durationMs: number;
  atMs: number;
  /** Files someone changed outside muster and the agent restored, with when (the last report that had any). */
  drift?: { paths: string[]; atMs: number };
  /**
   * Roles the node has installed: those of the last assignment it applied successfully. Preflight
   * gates an assignment only while it has roles the node has not installed.
   */
  roles?: Role[];
}

export interface PlanRecord {
  /** The plan's own number: 1 for the first plan, 2 for the next, ... */
  revision: number;
  file: string;
  text: string;
  appliedAtMs: number;
  /** Unified diff against the previous plan ("" for the first). */
  diff: string;
  forced: boolean;
}

export interface OverrideRecord {
  roles: Role[];
  atMs: number;
}
