// Admin service: what the `muster` CLI calls. Only certificates with O=muster:admins get in.
import type * as grpc from '@grpc/grpc-js';
import { musterV1 } from '../../shared/wire/proto.ts';
import type { AdminHandlers } from '../../proto/gen/types/muster/v1/Admin.ts';
import type { TokenInfo } from '../../shared/wire/types.ts';
import { unaryHandler } from './boundary.ts';
import { requireAdmin } from './auth.ts';
import type { ClusterState } from '../state/cluster-state.ts';
import type { TokenRecord } from '../trust/tokens.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { InvalidArgumentError } from '../../shared/errors/index.ts';
import { ROLES, type Role } from '../../shared/constants.ts';
import { DEFAULT_CHECKS, IGNORE_ALL } from '../../shared/preflight/index.ts';

function tokenInfo(t: TokenRecord): TokenInfo {
  return {
    id: t.id,
    description: t.description,
    created_at_ms: t.createdAtMs,
    expires_at_ms: t.expiresAtMs,
    uses_allowed: t.usesAllowed,
    uses: t.uses,
    revoked: t.revoked,
  };
}

export class AdminService {
  readonly #state: ClusterState;
  readonly #log: Logger;

  constructor(state: ClusterState, log: Logger) {
    this.#state = state;
    this.#log = log;
  }

  addToServer(server: grpc.Server): void {
    const s = this.#state;
    const h = <Req, Res>(name: string, fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>) =>
      unaryHandler<Req, Res>(this.#log, name, async (call) => {
        requireAdmin(call as grpc.ServerUnaryCall<unknown, unknown>);
        return fn(call);
      });
    const handlers: AdminHandlers = {
      CreateToken: h('CreateToken', async (call) => {
        const r = call.request;
        const { token, record } = await s.createToken({ ttlMs: Number(r.ttl_ms), uses: r.uses, description: r.description });
        this.#log.info(`token ${record.id} created (expires ${new Date(record.expiresAtMs).toISOString()}, uses ${record.usesAllowed || 'unlimited'})`);
        return { token, info: tokenInfo(record) };
      }),
      ListTokens: h('ListTokens', async () => ({ tokens: s.listTokens().map(tokenInfo) })),
      RevokeToken: h('RevokeToken', async (call) => {
        await s.revokeToken(call.request.id);
        this.#log.info(`token ${call.request.id} revoked`);
        return {};
      }),
      Status: h('Status', async () => {
        const plan = s.currentPlan();
        return {
          cluster_name: plan?.plan.cluster.name ?? '',
          plan_revision: plan?.record.revision ?? 0,
          nodes: s.status().map((r) => ({
            name: r.name,
            address: r.address,
            roles: r.roles,
            state: r.state,
            assigned_revision: r.assignedRevision,
            applied_revision: r.appliedRevision,
            detail: r.detail,
            last_seen_ms: r.lastSeenMs,
            agent_version: r.agentVersion,
            joined_at_ms: r.joinedAtMs,
            preflight: r.preflight,
            preflight_detail: r.preflightDetail,
          })),
        };
      }),
      RemoveNode: h('RemoveNode', async (call) => {
        await s.removeNode(call.request.name);
        return {};
      }),
      ApplyPlan: h('ApplyPlan', async (call) => {
        const r = call.request;
        const res = await s.applyPlan(r.plan_yaml, r.file_name || 'plan.yaml', r.force);
        return { plan_revision: res.revision, changed_nodes: res.changedNodes, warnings: res.warnings };
      }),
      PlanHistory: h('PlanHistory', async () => ({
        plans: (await s.planHistory()).map((p) => ({ revision: p.revision, file_name: p.file, applied_at_ms: p.appliedAtMs, diff: p.diff, forced: p.forced, plan_yaml: '' })),
      })),
      GetPlan: h('GetPlan', async (call) => {
        const rev = Number(call.request.revision) || s.currentPlan()?.record.revision || 0;
        const p = await s.planAt(rev);
        return { revision: p.revision, file_name: p.file, applied_at_ms: p.appliedAtMs, diff: p.diff, forced: p.forced, plan_yaml: p.text };
      }),
      AssignNode: h('AssignNode', async (call) => {
        const roles = call.request.roles;
        for (const r of roles) if (!ROLES.includes(r as Role)) throw new InvalidArgumentError(`unknown role ${JSON.stringify(r)}; roles are ${ROLES.join(', ')}`);
        return { changed_nodes: await s.setOverride(call.request.name, roles as Role[]) };
      }),
      Preflight: h('Preflight', async (call) => {
        const r = call.request;
        const known = new Set([IGNORE_ALL, ...DEFAULT_CHECKS.map((c) => c.name)]);
        for (const n of [...r.ignore, ...r.unignore]) {
          if (!known.has(n.trim().toLowerCase())) throw new InvalidArgumentError(`unknown preflight check ${JSON.stringify(n)}; checks are ${[...known].join(', ')}`);
        }
        if (r.ignore.length || r.unignore.length) await s.setPreflightIgnore(r.ignore, r.unignore);
        const ignored = s.preflightIgnored();
        return {
          ignored: ignored.all,
          operator_ignored: ignored.operator,
          nodes: s.preflight(r.node || undefined).map((p) => ({
            node: p.node,
            address: p.address,
            roles: [...p.roles],
            state: p.state,
            detail: p.detail,
            checks: p.report?.checks ?? [],
            results: (p.report?.results ?? []).map((c) => ({ check: c.check, severity: c.severity, found: c.found, required: c.required, fix: c.fix, fixable_by_agent: c.fixableByAgent })),
            gated: p.gated,
            at_ms: p.atMs,
            probes: p.probes,
          })),
        };
      }),
    };
    server.addService(musterV1.Admin.service, handlers);
  }
}
