// Staged CA rotation, as pure functions: what each node's trust bundle and signer are at each
// stage, and when a rotation moves on. The stages (kubeadm leaves all of this to a manual
// procedure; REFERENCE.md section 6):
//
//   0  before     bundle [old]       signer old
//   1  trust-both bundle [old, new]  signer old   every node learns to trust the new CA
//   2  reissue    bundle [old, new]  signer new   every leaf is reissued under the new CA
//   3  drop-old   bundle [new]       signer new   the old CA is trusted nowhere
//   4  complete   (the new CA is promoted to be the CA of record: bundle [new], signer new)
//
// Any two nodes one stage apart trust each other's certificates, so a stage is rolled out node
// by node while the cluster stays up, and the next stage starts only when every node holding a
// certificate of that CA has applied the current one. Nodes that run etcd or a control plane are
// admitted one at a time (their components restart to load the new files, and two etcd members
// restarting together can lose quorum), and only while no other one has yet to apply its
// assignment (one that is down, or restarting for a renewal or a new version): that one first;
// workers in batches of a tenth.
//
// Nothing here does IO; coordinator/state/pki-state.ts keeps the record, cluster-state.ts runs
// `stepRotation` when nodes report, and ./targets.ts turns a node's stage into its PkiTarget.
import { kindsForRoles, type ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { workerBatchSize } from '../../shared/constants.ts';

export const STAGE_NAMES = ['before', 'trust-both', 'reissue', 'drop-old', 'complete'] as const;
export const LAST_STAGE = 3;
export const COMPLETE = 4;

export interface CaRef {
  serial: string;
  fingerprint: string;
}

export interface CaRotationRecord {
  kind: ClusterCaKind;
  /** 1 for a kind's first rotation, then 2... */
  id: number;
  /** 1..3 while in progress, COMPLETE at the end. */
  stage: number;
  old: CaRef;
  next: CaRef;
  /** Nodes admitted to the current stage; every other node is at the stage before. */
  admitted: string[];
  startedAtMs: number;
  stageStartedAtMs: number;
  /** 0 until complete. */
  finishedAtMs: number;
  /** Who started it ("admin muster-admin (serial ...)"). */
  startedBy: string;
}

export interface CaTargetOut {
  bundle: string[];
  signer: string;
}

/** Whether a node with these roles holds certificates signed by CA `kind`. */
export function holdsCa(roles: readonly string[], kind: ClusterCaKind): boolean {
  return kindsForRoles(roles).some((k) => k.ca === kind);
}

/** The stage a node is at: the rotation's, once admitted to it; the one before otherwise. */
export function nodeStage(r: CaRotationRecord, name: string): number {
  if (r.stage >= COMPLETE) return COMPLETE;
  return r.admitted.includes(name) ? r.stage : r.stage - 1;
}

/** Bundle and signer of a stage (fingerprints). */
export function stageTarget(r: Pick<CaRotationRecord, 'old' | 'next'>, stage: number): CaTargetOut {
  const o = r.old.fingerprint;
  const n = r.next.fingerprint;
  if (stage <= 0) return { bundle: [o], signer: o };
  if (stage === 1) return { bundle: [o, n], signer: o };
  if (stage === 2) return { bundle: [o, n], signer: n };
  return { bundle: [n], signer: n };
}

/** A node as the rotation sees it, from committed state. */
export interface RotationNode {
  name: string;
  roles: readonly string[];
  /** The CA target of the rotated kind in the node's committed assignment, and whether the node applied that assignment. */
  committed: CaTargetOut | null;
  appliedCommitted: boolean;
  /**
   * Whether the coordinator's records show the node holding, for every kind of this CA its roles
   * hold, a certificate signed by the CA being rotated in. An apply report is the node's word;
   * this is ours: from the reissue stage on, a node that reports "applied" without having asked
   * for its new certificates (an agent that ignores the target, or lies) is not done.
   * Undefined: not known (counts as true).
   */
  reissued?: boolean;
}

/** A node runs etcd or a control plane: restarting it is what a cluster can lose quorum over. */
export function controlPlane(roles: readonly string[]): boolean {
  return roles.includes('etcd') || roles.includes('master');
}

/** Whether `n`, admitted to the rotation's stage, has applied it. */
export function doneWithStage(r: CaRotationRecord, n: RotationNode): boolean {
  if (!n.committed || !n.appliedCommitted) return false;
  const stage = nodeStage(r, n.name);
  if (stage >= 2 && n.reissued === false) return false;
  const want = stageTarget(r, stage);
  return n.committed.signer === want.signer && n.committed.bundle.join() === want.bundle.join();
}

export interface RotationStep {
  /** The record to store, when it changed. */
  record: CaRotationRecord | null;
  /** Every node applied drop-old: promote the new CA, then store `record` (stage COMPLETE). */
  finish: boolean;
}

/**
 * One step: admit nodes to the current stage while the windows allow, move to the next stage when
 * every node holding the CA applied this one, and finish after the last. `nodes` are every node
 * with an assignment.
 */
export function stepRotation(rec: CaRotationRecord, nodes: readonly RotationNode[], nowMs: number): RotationStep {
  if (rec.stage >= COMPLETE) return { record: null, finish: false };
  let r = rec;
  let changed = false;
  const affected = nodes.filter((n) => holdsCa(n.roles, r.kind)).sort((a, b) => a.name.localeCompare(b.name));
  const names = new Set(affected.map((n) => n.name));
  // Removed nodes, or nodes that no longer hold the CA, leave the admitted list.
  if (r.admitted.some((n) => !names.has(n))) {
    r = { ...r, admitted: r.admitted.filter((n) => names.has(n)) };
    changed = true;
  }
  for (let guard = 0; guard <= LAST_STAGE; guard++) {
    const admitted = new Set(r.admitted);
    const pending = affected.filter((n) => admitted.has(n.name) && !doneWithStage(r, n));
    const waiting = affected.filter((n) => !admitted.has(n.name));
    if (!pending.length && !waiting.length) {
      if (r.stage >= LAST_STAGE) return { record: { ...r, stage: COMPLETE, admitted: [], finishedAtMs: nowMs }, finish: true };
      r = { ...r, stage: r.stage + 1, admitted: [], stageStartedAtMs: nowMs };
      changed = true;
      continue;
    }
    const admit: string[] = [];
    // Nor while another control-plane node has yet to apply its assignment for anything else (a
    // renewal or version the rollout holds sent it, coordinator/assign/rollout.ts): its restart
    // and this one's would overlap. A node that has not applied goes first, as there.
    const cpWaiting = waiting.filter((n) => controlPlane(n.roles));
    const busyElsewhere = (n: RotationNode) => affected.some((m) => m !== n && controlPlane(m.roles) && !m.appliedCommitted);
    const cpNext = cpWaiting.find((n) => !n.appliedCommitted) ?? cpWaiting[0];
    if (cpNext && !pending.some((n) => controlPlane(n.roles)) && !busyElsewhere(cpNext)) admit.push(cpNext.name);
    const workers = affected.filter((n) => !controlPlane(n.roles));
    const window = workerBatchSize(workers.length);
    const free = window - pending.filter((n) => !controlPlane(n.roles)).length;
    admit.push(
      ...waiting
        .filter((n) => !controlPlane(n.roles))
        .slice(0, Math.max(0, free))
        .map((n) => n.name),
    );
    if (admit.length) {
      r = { ...r, admitted: [...r.admitted, ...admit].sort() };
      changed = true;
    }
    break;
  }
  return { record: changed ? r : null, finish: false };
}

export type NodeProgress = 'done' | 'in progress' | 'waiting';

/** Where each node holding the CA is in the current stage (for `muster certs rotate-ca --status`). */
export function rotationProgress(r: CaRotationRecord, nodes: readonly RotationNode[]): { name: string; progress: NodeProgress }[] {
  return nodes
    .filter((n) => holdsCa(n.roles, r.kind))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((n) => ({ name: n.name, progress: r.stage >= COMPLETE ? 'done' : !r.admitted.includes(n.name) ? 'waiting' : doneWithStage(r, n) ? 'done' : 'in progress' }));
}
