// What the coordinator persists, one JSON value per key. The key layout is the contract between
// the state layer and any Store implementation (sqlite, etcd).
import type { AssignmentBody, NodeAssignmentState } from '../assign/index.ts';
import type { FactsOut } from '../../shared/wire/types.ts';
import type { Role } from '../../shared/constants.ts';

export const KEYS = {
  node: (name: string) => `nodes/${name}`,
  nodes: 'nodes/',
  token: (id: string) => `tokens/${id}`,
  tokens: 'tokens/',
  assignment: (name: string) => `assignments/${name}`,
  assignments: 'assignments/',
  facts: (name: string) => `facts/${name}`,
  facts_: 'facts/',
  apply: (name: string) => `apply/${name}`,
  applies: 'apply/',
  lastSeen: 'meta/last-seen',
  /** The operator's preflight ignore list (`muster preflight --ignore`), a JSON array. */
  preflightIgnore: 'meta/preflight-ignore',
  override: (name: string) => `overrides/${name}`,
  overrides: 'overrides/',
  plan: (rev: number) => `plans/${String(rev).padStart(12, '0')}`,
  plans: 'plans/',
  currentPlan: 'meta/current-plan',
} as const;

export interface NodeRecord {
  name: string;
  machineId: string;
  hostname: string;
  address: string;
  labels: Record<string, string>;
  agentVersion: string;
  /** Serial of the only identity certificate accepted for this node (a re-join replaces it). */
  certSerial: string;
  joinedAtMs: number;
  /** Set when an operator removed the node; its certificate is refused from then on. */
  removedAtMs: number;
}

export interface AssignmentRecord {
  /** Store revision at which the body last changed: the revision agents see. */
  revision: number;
  planRevision: number;
  body: AssignmentBody;
  state: NodeAssignmentState;
}

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
  /**
   * Roles the node has installed: those of the last assignment it applied successfully. Preflight
   * gates an assignment only while it has roles the node has not installed.
   */
  roles?: Role[];
}

export interface PlanRecord {
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
