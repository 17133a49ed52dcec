// Agent service: reports in, assignments out. Every method first resolves the calling node from
// its certificate (requireNode); a node can only ever read and write its own records.
import type * as grpc from '@grpc/grpc-js';
import { musterV1 } from '../../shared/wire/proto.ts';
import type { AgentHandlers } from '../../proto/gen/types/muster/v1/Agent.ts';
import type { Assignment } from '../../shared/wire/types.ts';
import { unaryHandler } from './boundary.ts';
import { requireNode } from './auth.ts';
import type { ClusterState } from '../state/cluster-state.ts';
import type { AssignmentRecord } from '../state/records.ts';
import type { WatchHub } from './watch-hub.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { DEFAULT_WATCH_HOLD_MS, MAX_WATCH_HOLD_MS } from '../../shared/constants.ts';

export function toWireAssignment(name: string, a: AssignmentRecord): Assignment {
  return { ...a.body, node_name: name, revision: a.revision, plan_revision: a.planRevision };
}

export class AgentService {
  readonly #state: ClusterState;
  readonly #hub: WatchHub;
  readonly #log: Logger;
  readonly #clock: () => number;

  constructor(state: ClusterState, hub: WatchHub, log: Logger, clock: () => number = Date.now) {
    this.#state = state;
    this.#hub = hub;
    this.#log = log;
    this.#clock = clock;
  }

  addToServer(server: grpc.Server): void {
    const handlers: AgentHandlers = {
      Report: unaryHandler(this.#log, 'Report', async (call) => {
        const node = requireNode(call, this.#state);
        this.#state.touch(node.name);
        const r = call.request;
        const { needFull } = await this.#state.recordFacts(node.name, r.facts, r.full, {
          address: r.address,
          labels: r.labels,
          agentVersion: r.agent_version,
        });
        return { server_time_ms: this.#clock(), need_full_facts: needFull, probe_plan: null };
      }),

      WatchAssignment: unaryHandler(this.#log, 'WatchAssignment', async (call) => {
        const node = requireNode(call, this.#state);
        this.#state.touch(node.name);
        const have = Number(call.request.applied_revision) || 0;
        const hold = Math.min(Math.max(Number(call.request.hold_ms) || DEFAULT_WATCH_HOLD_MS, 0), MAX_WATCH_HOLD_MS);
        const answer = () => {
          const a = this.#state.assignment(node.name);
          if (a && a.revision > have) return { changed: true, assignment: toWireAssignment(node.name, a), waiting_reason: '' };
          return { changed: false, assignment: null, waiting_reason: a ? '' : this.#state.waitingReason(node.name) };
        };
        const now = answer();
        if (now.changed || hold === 0) return now;
        const ac = new AbortController();
        const onCancel = () => ac.abort();
        call.once('cancelled', onCancel);
        try {
          await this.#hub.wait(node.name, hold, ac.signal);
        } finally {
          call.removeListener('cancelled', onCancel);
        }
        // The node may have been removed while we waited.
        requireNode(call, this.#state);
        return answer();
      }),

      ReportApply: unaryHandler(this.#log, 'ReportApply', async (call) => {
        const node = requireNode(call, this.#state);
        this.#state.touch(node.name);
        const r = call.request;
        await this.#state.recordApply(node.name, {
          revision: Number(r.revision),
          ok: r.ok,
          error: r.error.slice(0, 4096),
          files: r.files.map((f) => ({ path: f.path, changed: f.changed })),
          durationMs: Number(r.duration_ms),
        });
        return {};
      }),
    };
    server.addService(musterV1.Agent.service, handlers);
  }
}
