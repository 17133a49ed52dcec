// Agent service: reports in, assignments out, identity renewal. Every method first resolves the
// calling node from its certificate (requireNode); a node can only ever read and write its own
// records. Every request is validated (./input) before it touches state, and everything served
// comes from committed state.
import * as grpc from '@grpc/grpc-js';
import { musterV1 } from '../../shared/wire/proto.ts';
import type { AgentHandlers } from '../../proto/gen/types/muster/v1/Agent.ts';
import type { Assignment, ReportRequestOut } from '../../shared/wire/types.ts';
import { unaryHandler, type ServiceRegistrar } from './boundary.ts';
import { reconnectWindowMs } from './admission/reconnect-window.ts';
import { RECONNECT_WINDOW_KEY } from '../../shared/wire/status.ts';
import { requireNode } from './auth.ts';
import type { ClusterState } from '../state/cluster-state.ts';
import type { CommittedAssignment } from '../state/records.ts';
import type { WatchHub } from './watch-hub.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { DEFAULT_WATCH_HOLD_MS, IDENTITY_CERT_DAYS, MAX_WATCH_HOLD_MS, type Role } from '../../shared/constants.ts';
import { FailedPreconditionError, InvalidArgumentError, PermissionDeniedError, UnavailableError } from '../../shared/errors/index.ts';
import type { CertAndKey } from '../../shared/pki/x509.ts';
import { validateReport } from './input/report.ts';
import { validateApplyResult } from './input/apply.ts';
import { checkWatchSlots } from './input/watches.ts';
import { signNodeIdentity, verifiedCsr } from '../trust/csr.ts';
import type { CoordinatorNames } from './reserved-names.ts';
import type { ClusterIssuer } from '../pki/issuer.ts';
import type { WorkBudget } from './admission/work-budget.ts';

import { toWireAssignment } from './assignment-wire.ts';
export { toWireAssignment };

/** The requested hold: absent means the default, 0 means answer at once, never above the cap. */
export function holdMs(requested: number | undefined | null): number {
  const n = Number(requested);
  if (requested === undefined || requested === null || !Number.isFinite(n) || n < 0) return DEFAULT_WATCH_HOLD_MS;
  return Math.min(n, MAX_WATCH_HOLD_MS);
}

export interface AgentServiceDeps {
  state: ClusterState;
  hub: WatchHub;
  log: Logger;
  nodeCa: CertAndKey;
  serverCaPem: string;
  names: CoordinatorNames;
  clock?: () => number;
  nodeCertTtlMs?: number;
  /** Signs cluster certificates (coordinator/pki/issuer.ts). @default none: IssueCertificates is refused */
  issuer?: ClusterIssuer;
  /** The coordinator-wide budget for expensive work (admission/work-budget.ts): renewal and issuance run in it. @default none */
  work?: Pick<WorkBudget, 'run' | 'runThen'>;
  /** For the reconnect window advised in WatchAssignment's headers. @default RECONNECTS_PER_SECOND */
  reconnectsPerSecond?: number;
}

/** Reports one node may have in flight: an agent sends one at a time; more is a loop or an attack. */
const MAX_REPORTS_IN_FLIGHT = 2;

export class AgentService {
  readonly #d: AgentServiceDeps;
  readonly #clock: () => number;
  readonly #reporting = new Map<string, number>();

  constructor(d: AgentServiceDeps) {
    this.#d = d;
    this.#clock = d.clock ?? Date.now;
  }

  #expensive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return this.#d.work ? this.#d.work.run(what, fn) : fn();
  }

  /** `cpu` within the work budget, then `then` outside it (WorkBudget.runThen). */
  async #expensiveThen<P, T>(what: string, cpu: () => Promise<P>, then: (p: P) => Promise<T>): Promise<T> {
    return this.#d.work ? this.#d.work.runThen(what, cpu, then) : then(await cpu());
  }

  addToServer(server: ServiceRegistrar): void {
    const { state, hub, log } = this.#d;
    const nodes = state.nodes;
    const handlers: AgentHandlers = {
      Report: unaryHandler(log, 'Report', async (call) => {
        const node = requireNode(call, nodes);
        nodes.touch(node.name);
        const r = call.request;
        validateReport(r, node.name);
        const taken = this.#d.names.addressCollision(r.address);
        if (taken) throw new PermissionDeniedError('reserved-name', `report from node ${node.name}: ${taken}`);
        const inFlight = this.#reporting.get(node.name) ?? 0;
        if (inFlight >= MAX_REPORTS_IN_FLIGHT) throw new UnavailableError(`node ${node.name} already has ${inFlight} reports in flight; at most ${MAX_REPORTS_IN_FLIGHT} (retry when one is answered)`);
        this.#reporting.set(node.name, inFlight + 1);
        try {
          return await this.#report(node.name, node.callerSerial, r);
        } finally {
          const n = (this.#reporting.get(node.name) ?? 1) - 1;
          if (n > 0) this.#reporting.set(node.name, n);
          else this.#reporting.delete(node.name);
        }
      }),
      WatchAssignment: unaryHandler(log, 'WatchAssignment', async (call) => {
        const node = requireNode(call, nodes);
        nodes.touch(node.name);
        checkWatchSlots(node.name, hub.pendingFor(node.name));
        const have = Number(call.request.applied_revision) || 0;
        const probeRan = Number(call.request.probe_plan_id) || 0;
        const probePort = Number(call.request.probe_port) || 0;
        if (!Number.isInteger(probePort) || probePort < 0 || probePort > 65535) {
          throw new InvalidArgumentError(`watch from node ${node.name}: probe_port ${call.request.probe_port} is not a TCP port (1-65535, 0: none)`);
        }
        if (probePort) state.preflight.notePort(node.name, probePort);
        const hold = holdMs(call.request.hold_ms);
        const answer = () => {
          // Committed state only: an assignment is never handed out before it is durable.
          const a = state.assignments.get(node.name);
          const probePlan = state.preflight.probePlanFor(node.name, probeRan);
          // Any revision but the one the agent holds is news: normally newer; after a restore
          // from an older backup, ours is the truth either way.
          const fresh = a !== undefined && a.revision !== have;
          const gate = fresh ? state.preflight.gateReason(node.name) : null;
          if (fresh && !gate) {
            state.preflight.noteDelivered(node.name, a.body.roles as Role[]);
            state.assignments.noteDelivered(node.name, a.revision, a.body.roles);
            return { changed: true, assignment: toWireAssignment(node.name, a), waiting_reason: '', probe_plan: probePlan };
          }
          return { changed: false, assignment: null, waiting_reason: gate ?? (a ? '' : state.waitingReason(node.name)), probe_plan: probePlan };
        };
        // The response headers go at once, also for a call that will be held: the agent knows
        // its watch is in place (after a restart it says the coordinator is back) without waiting
        // for the answer, and learns over how long the fleet should spread its reconnects if this
        // coordinator goes away (its size over the rate it takes them back).
        const headers = new grpc.Metadata();
        headers.set(RECONNECT_WINDOW_KEY, String(reconnectWindowMs(nodes.table.size, this.#d.reconnectsPerSecond)));
        call.sendMetadata(headers);
        const now = answer();
        if (now.changed || now.probe_plan || hold === 0) return now;
        const ac = new AbortController();
        const onCancel = () => ac.abort();
        call.once('cancelled', onCancel);
        try {
          await hub.wait(node.name, hold, ac.signal);
        } finally {
          call.removeListener('cancelled', onCancel);
        }
        // The node may have been removed while we waited.
        requireNode(call, nodes);
        return answer();
      }),

      ReportApply: unaryHandler(log, 'ReportApply', async (call) => {
        const node = requireNode(call, nodes);
        nodes.touch(node.name);
        const r = call.request;
        validateApplyResult(r, node.name);
        await state.recordApply(node.name, node.callerSerial, {
          revision: Number(r.revision),
          ok: r.ok,
          error: r.error,
          files: r.files.map((f) => ({ path: f.path, changed: f.changed })),
          durationMs: Number(r.duration_ms),
          // Which roles an apply installs is the coordinator's to say (what it handed out), not the report's.
        }, r.drift);
        return {};
      }),

      RenewIdentity: unaryHandler(log, 'RenewIdentity', async (call) => {
        const node = requireNode(call, nodes);
        nodes.touch(node.name);
        const ttl = this.#d.nodeCertTtlMs ?? IDENTITY_CERT_DAYS * 86_400_000;
        const certPem = await this.#expensive('renew identity', async () => {
          const csr = await verifiedCsr(call.request.csr_pem, node.name, `node ${node.name}`);
          return nodes.renew(node.name, node.callerSerial, csr.keyId, () => signNodeIdentity(this.#d.nodeCa, csr, node.name, ttl));
        });
        return { cert_pem: certPem, ca_cert_pem: this.#d.serverCaPem };
      }),

      // The authoriser, signer and record are coordinator/pki/issuer.ts's; here only who calls.
      IssueCertificates: unaryHandler(log, 'IssueCertificates', async (call) => {
        const node = requireNode(call, nodes);
        nodes.touch(node.name);
        if (!this.#d.issuer) throw new FailedPreconditionError('no-cluster-pki', 'this coordinator does not issue cluster certificates');
        const issuer = this.#d.issuer;
        // The budget holds the signing only; the record's commit is shared with the calls beside it.
        const caller = { name: node.name, serial: node.callerSerial };
        return this.#expensiveThen('issue certificates', () => issuer.prepareForNode(caller, call.request.requests), (prepared) => prepared.commit());
      }),
    };
    server.addService(musterV1.Agent.service, handlers);
  }

  /** One validated Report from `name`: clock estimate, probe port, facts, probe results. */
  async #report(name: string, callerSerial: string, r: ReportRequestOut): Promise<{ server_time_ms: number; need_full_facts: boolean }> {
    const { state, log } = this.#d;
    const now = this.#clock();
    const sentAt = Number(r.sent_at_ms);
    // Node clock minus ours, off by at most the one-way delay: enough for a 1 s check, and
    // available on the first report, before the agent has measured it NTP style.
    state.preflight.noteReport(name, r.probe_port, sentAt > 0 ? sentAt - now : undefined);
    const { needFull } = await state.recordFacts(name, callerSerial, r.facts, r.full, { address: r.address, labels: r.labels, agentVersion: r.agent_version });
    if (r.probes && !state.preflight.recordProbeResults(name, r.probes)) {
      log.debug(`node ${name} sent results of probe plan ${r.probes.plan_id}, which is no longer current`);
    }
    return { server_time_ms: now, need_full_facts: needFull };
  }
}
