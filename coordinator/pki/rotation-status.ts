// `muster certs rotate-ca --status` as data: each CA kind's latest rotation, its stage, and where
// every node holding that CA is -- done with the stage, in progress (admitted, not yet applied:
// with what its status row says, e.g. offline or a failed apply), or waiting for its turn.
import type { ClusterState } from '../state/cluster-state.ts';
import type { CaRotation } from '../../proto/gen/types/muster/v1/CaRotation.ts';
import { COMPLETE, STAGE_NAMES, nodeStage, rotationProgress } from './rotation.ts';

export function rotationStatus(state: ClusterState): CaRotation[] {
  const rows = new Map(state.status().map((r) => [r.name, r]));
  return state.rotations().map(({ record: r, nodes }) => ({
    kind: r.kind,
    id: r.id,
    stage: STAGE_NAMES[Math.min(r.stage, COMPLETE)],
    stage_number: Math.min(r.stage, COMPLETE),
    started_at_ms: r.startedAtMs,
    stage_started_at_ms: r.stageStartedAtMs,
    finished_at_ms: r.finishedAtMs,
    old_serial: r.old.serial,
    new_serial: r.next.serial,
    nodes: rotationProgress(r, nodes).map((p) => {
      const row = rows.get(p.name);
      const n = nodes.find((x) => x.name === p.name);
      // Applied by its own report, but no certificate from the new CA on our records: say so, it is why the node is not done.
      const unreissued = p.progress === 'in progress' && n?.appliedCommitted && n.reissued === false && nodeStage(r, p.name) >= 2;
      const detail = unreissued
        ? `reported applying its assignment, but holds no certificate from the new ${r.kind} CA (does its agent know CA rotation?)`
        : p.progress === 'in progress' && row ? `${row.state}${row.detail ? `: ${row.detail}` : ''}` : '';
      return { name: p.name, state: p.progress, detail };
    }),
  }));
}
