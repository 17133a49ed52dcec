// The cluster PKI's part of the coordinator state: CA rotations (one record per CA kind, the
// latest rotation of that kind, kept after it completes for `rotate-ca --status`) and the
// operator's renewal requests (`muster certs renew`: per node, or "*" for every node). Both feed
// the PkiTarget of every assignment (coordinator/pki/targets.ts); cluster-state.ts recomputes
// assignments in the same transaction that changes them.
import type { Op } from '../store/store.ts';
import type { StateWriter, Table } from './writer.ts';
import { COMPLETE, type CaRotationRecord } from '../pki/rotation.ts';
import type { ClusterCaKind } from '../../shared/pki/catalogue.ts';

export const ROTATION_PREFIX = 'ca-rotation/';
export const RENEW_PREFIX = 'pki-renew/';
/** The renew-request key that covers every node (node names never contain "*"). */
export const RENEW_ALL = '*';

export interface RenewRequestRecord {
  /** Certificates issued before this instant are renewed. */
  beforeMs: number;
  by: string;
}

export class PkiState {
  readonly rotations: Table<CaRotationRecord>;
  readonly renewals: Table<RenewRequestRecord>;

  constructor(w: StateWriter) {
    this.rotations = w.table<CaRotationRecord>(ROTATION_PREFIX);
    this.renewals = w.table<RenewRequestRecord>(RENEW_PREFIX);
  }

  /** The rotation of `kind` in progress, in the writer's view. */
  activeLatest(kind: ClusterCaKind): CaRotationRecord | undefined {
    const r = this.rotations.latest(kind);
    return r && r.stage < COMPLETE ? r : undefined;
  }

  /** Whether any rotation is in progress (committed). */
  anyActive(): boolean {
    return this.rotations.values().some((r) => r.stage < COMPLETE);
  }

  /** The latest renewal request covering `name`, in the writer's view; 0 for none. */
  renewBeforeLatest(name: string): number {
    return Math.max(this.renewals.latest(RENEW_ALL)?.beforeMs ?? 0, this.renewals.latest(name)?.beforeMs ?? 0);
  }

  renewOps(names: readonly string[] | 'all', beforeMs: number, by: string): Op[] {
    if (names === 'all') {
      // One record for the fleet: per-node requests older than it say nothing more.
      const ops = [this.renewals.put(RENEW_ALL, { beforeMs, by })];
      for (const n of this.renewals.latestNames()) if (n !== RENEW_ALL) ops.push(this.renewals.delete(n));
      return ops;
    }
    return names.map((n) => this.renewals.put(n, { beforeMs, by }));
  }

  removeOps(name: string): Op[] {
    return this.renewals.latest(name) ? [this.renewals.delete(name)] : [];
  }
}
