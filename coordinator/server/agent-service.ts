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
import { DEFAULT_WATCH_HOLD_MS, MAX_WATCH_HOLD_MS, ROLES, type Role } from '../../shared/constants.ts';

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
        const now = this.#clock();
        const sentAt = Number(r.sent_at_ms);
        // Node clock minus ours, off by at most the one-way delay: enough for a 1 s check, and
        // available on the first report, before the agent has measured it NTP style.
        this.#state.noteReport(node.name, r.probe_port, sentAt > 0 ? sentAt - now : undefined);
        const { needFull } = await this.#state.recordFacts(node.name, r.facts, r.full, {
          address: r.address,
          labels: r.labels,
          agentVersion: r.agent_version,
        });
        if (r.probes && !this.#state.recordProbeResults(node.name, r.probes)) {
          this.#log.debug(`node ${node.name} sent results of probe plan ${r.probes.plan_id}, which is no longer current`);
        }
        return { server_time_ms: now, need_full_facts: needFull };
      }),

      WatchAssignment: unaryHandler(this.#log, 'WatchAssignment', async (call) => {
        const node = requireNode(call, this.#state);
        this.#state.touch(node.name);
        const have = Number(call.request.applied_revision) || 0;
        const probeRan = Number(call.request.probe_plan_id) || 0;
        const hold = Math.min(Math.max(Number(call.request.hold_ms) || DEFAULT_WATCH_HOLD_MS, 0), MAX_WATCH_HOLD_MS);
        const answer = () => {
          const a = this.#state.assignment(node.name);
          const probePlan = this.#state.probePlanFor(node.name, probeRan);
          const gate = a && a.revision > have ? this.#state.preflightGate(node.name) : null;
          if (a && a.revision > have && !gate) {
            this.#state.noteDelivered(node.name, a.body.roles);
            return { changed: true, assignment: toWireAssignment(node.name, a), waiting_reason: '', probe_plan: probePlan };
          }
          return { changed: false, assignment: null, waiting_reason: gate ?? (a ? '' : this.#state.waitingReason(node.name)), probe_plan: probePlan };
        };
        const now = answer();
        if (now.changed || now.probe_plan || hold === 0) return now;
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
          roles: r.ok ? (r.roles.filter((x) => (ROLES as readonly string[]).includes(x)) as Role[]) : undefined,
        });
        return {};
      }),
    };
    server.addService(musterV1.Agent.service, handlers);
  }
}
