// Admin service: what the `muster` CLI calls. Only certificates with O=muster:admins get in.
import type * as grpc from '@grpc/grpc-js';
import { musterV1 } from '../../shared/wire/proto.ts';
import type { AdminHandlers } from '../../proto/gen/types/muster/v1/Admin.ts';
import type { TokenInfo } from '../../shared/wire/types.ts';
import { unaryHandler, type ServiceRegistrar } from './boundary.ts';
import { requireAdmin, type PeerIdentity } from './auth.ts';
import { adminCredentialInfo } from './admin-credentials.ts';
import { AdminCredentials, describeCaller, type AdminCaller } from '../state/admins.ts';
import type { ClusterState } from '../state/cluster-state.ts';
import type { TokenRecord } from '../trust/tokens.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '../../shared/errors/index.ts';
import { ROLES, type Role } from '../../shared/constants.ts';
import { DEFAULT_CHECKS, IGNORE_ALL } from '../../shared/preflight/index.ts';
import { ADMIN_CN, IDENTITY_CERT_DAYS } from '../../shared/constants.ts';
import type { CertAndKey } from '../../shared/pki/x509.ts';
import { signAdminIdentity, verifiedCsr } from '../trust/csr.ts';
import type { ClusterIssuer } from '../pki/issuer.ts';
import { rotationStatus } from '../pki/rotation-status.ts';
import { toWireAssignment } from './assignment-wire.ts';
import { validateCaKind, validateRenewNodes } from './input/renew.ts';
import { describeNode, statusRowOut } from './node-detail.ts';
import type { ClusterCaKind } from '../../shared/pki/catalogue.ts';

function tokenInfo(t: TokenRecord): TokenInfo {
  return {
    id: t.id,
    description: t.description,
    created_at_ms: t.createdAtMs,
    expires_at_ms: t.expiresAtMs,
    uses_allowed: t.usesAllowed,
    uses: t.uses,
    revoked: t.revoked,
    node_name: t.nodeName ?? '',
  };
}

export class AdminService {
  readonly #state: ClusterState;
  readonly #log: Logger;
  readonly #adminCa: CertAndKey;
  readonly #adminCertTtlMs: number;
  readonly #issuer: ClusterIssuer | undefined;

  constructor(state: ClusterState, log: Logger, adminCa: CertAndKey, adminCertTtlMs = IDENTITY_CERT_DAYS * 86_400_000, issuer?: ClusterIssuer) {
    this.#state = state;
    this.#log = log;
    this.#adminCa = adminCa;
    this.#adminCertTtlMs = adminCertTtlMs;
    this.#issuer = issuer;
  }

  #clusterIssuer(): ClusterIssuer {
    if (!this.#issuer) throw new FailedPreconditionError('no-cluster-pki', 'this coordinator does not issue cluster certificates');
    return this.#issuer;
  }

  addToServer(server: ServiceRegistrar): void {
    const s = this.#state;
    const h = <Req, Res>(name: string, fn: (call: grpc.ServerUnaryCall<Req, Res>, caller: PeerIdentity & AdminCaller) => Promise<Res>) =>
      unaryHandler<Req, Res>(this.#log, name, async (call) => fn(call, requireAdmin(call as grpc.ServerUnaryCall<unknown, unknown>, s.admins)));
    const who = (call: grpc.ServerUnaryCall<unknown, unknown>) => {
      const id = requireAdmin(call, s.admins);
      return `admin ${id.cn} (serial ${id.serial})`;
    };
    const handlers: AdminHandlers = {
      CreateToken: h('CreateToken', async (call) => {
        const r = call.request;
        const { token, record } = await s.tokens.create({ ttlMs: Number(r.ttl_ms), uses: r.uses, description: r.description, nodeName: r.node_name || undefined, neverExpires: r.never_expires });
        this.#log.info(
          `token ${record.id} created (expires ${record.expiresAtMs ? new Date(record.expiresAtMs).toISOString() : 'never'}, uses ${record.usesAllowed || 'unlimited'}${record.nodeName ? `, bound to node ${record.nodeName}` : ''})`,
        );
        return { token, info: tokenInfo(record) };
      }),
      ListTokens: h('ListTokens', async () => ({ tokens: s.tokens.list().map(tokenInfo) })),
      RenewAdmin: h('RenewAdmin', async (call, caller) => {
        const ttlMs = s.admins.renewalTtlMs(caller) || this.#adminCertTtlMs;
        const csr = await verifiedCsr(call.request.csr_pem, ADMIN_CN, 'an admin');
        const signed = signAdminIdentity(this.#adminCa, csr, ttlMs);
        // Recorded (and the lineage checked once more) before the certificate leaves.
        await s.admins.renew(caller, signed);
        this.#log.info(`admin credential ${caller.credential.id} (${caller.credential.label}) renewed: serial ${signed.serial} replaces ${caller.serial}`);
        return { cert_pem: signed.certPem };
      }),
      CertificateExpirations: h('CertificateExpirations', async () => ({ certificates: this.#clusterIssuer().expirations() })),
      AdminKubeconfig: h('AdminKubeconfig', async (call) =>
        this.#clusterIssuer().adminKubeconfig(call.request.csr_pem, Number(call.request.ttl_ms), who(call as grpc.ServerUnaryCall<unknown, unknown>)),
      ),
      RenewCertificates: h('RenewCertificates', async (call) => {
        const r = call.request;
        if (r.all === (r.nodes.length > 0)) throw new InvalidArgumentError('name nodes or ask for all of them (muster certs renew --node NAME... | --all), not both');
        const res = await s.requestRenewal(r.all ? 'all' : validateRenewNodes(r.nodes), who(call as grpc.ServerUnaryCall<unknown, unknown>));
        return { nodes: res.nodes, renew_before_ms: res.beforeMs };
      }),
      RotateCa: h('RotateCa', async (call) => {
        await s.startCaRotation(validateCaKind(call.request.kind), who(call as grpc.ServerUnaryCall<unknown, unknown>));
        return { rotations: rotationStatus(s) };
      }),
      CaRotationStatus: h('CaRotationStatus', async () => ({ rotations: rotationStatus(s) })),
      RevokeToken: h('RevokeToken', async (call) => {
        await s.tokens.revoke(call.request.id);
        this.#log.info(`token ${call.request.id} revoked`);
        return {};
      }),
      Status: h('Status', async () => {
        const plan = s.plans.current();
        return {
          cluster_name: plan?.plan.cluster.name ?? '',
          plan_revision: plan?.record.revision ?? 0,
          nodes: s.status().map(statusRowOut),
        };
      }),
      RemoveNode: h('RemoveNode', async (call) => {
        await s.removeNode(call.request.name);
        return {};
      }),
      ApplyPlan: h('ApplyPlan', async (call) => {
        const r = call.request;
        const res = await s.applyPlan(r.plan_yaml, r.file_name || 'plan.yaml', { force: r.force, dryRun: r.dry_run });
        return {
          plan_revision: res.revision, changed_nodes: res.changedNodes, warnings: res.warnings, dry_run: res.dryRun, unchanged: res.unchanged,
          refusals: res.refusals,
          node_changes: res.nodeChanges.map((c) => ({ name: c.name, roles_before: c.rolesBefore, roles_after: c.rolesAfter, fields: c.fields })),
        };
      }),
      PlanHistory: h('PlanHistory', async () => ({
        plans: s.plans.history().map((p) => ({ revision: p.revision, file_name: p.file, applied_at_ms: p.appliedAtMs, diff: p.diff, forced: p.forced, plan_yaml: '' })),
      })),
      GetPlan: h('GetPlan', async (call) => {
        const rev = Number(call.request.revision) || s.plans.current()?.record.revision || 0;
        const p = s.plans.at(rev);
        return { revision: p.revision, file_name: p.file, applied_at_ms: p.appliedAtMs, diff: p.diff, forced: p.forced, plan_yaml: p.text };
      }),
      AssignNode: h('AssignNode', async (call) => {
        const roles = [...new Set(call.request.roles)];
        for (const r of roles) if (!ROLES.includes(r as Role)) throw new InvalidArgumentError(`unknown role ${JSON.stringify(r)}; roles are ${ROLES.join(', ')}`);
        const res = await s.setOverride(call.request.name, roles as Role[]);
        return { changed_nodes: res.changed, unchanged_reason: res.unchanged };
      }),
      DescribeNode: h('DescribeNode', async (call) => describeNode(s, call.request.name)),
      NodeAssignment: h('NodeAssignment', async (call) => {
        const name = call.request.name;
        const a = s.assignments.get(name);
        if (!a) {
          const known = s.nodes.live(name);
          throw new NotFoundError(known ? `node ${name} holds no assignment yet: ${s.waitingReason(name)}` : `node ${name} is not registered; see \`muster status\``);
        }
        return toWireAssignment(name, a);
      }),
      Preflight: h('Preflight', async (call) => {
        const r = call.request;
        const known = new Set([IGNORE_ALL, ...DEFAULT_CHECKS.map((c) => c.name)]);
        for (const n of [...r.ignore, ...r.unignore]) {
          if (!known.has(n.trim().toLowerCase())) throw new InvalidArgumentError(`unknown preflight check ${JSON.stringify(n)}; checks are ${[...known].join(', ')}`);
        }
        if (r.ignore.length || r.unignore.length) await s.setPreflightIgnore(r.ignore, r.unignore);
        if (r.node && !s.nodes.live(r.node)) throw new NotFoundError(`node ${r.node} is not registered; see \`muster status\``);
        const one = r.node ? s.preflight.get(r.node) : null;
        return {
          ignored: s.preflight.ignored(),
          operator_ignored: [...s.preflight.operatorIgnore],
          nodes: (r.node ? (one ? [one] : []) : s.preflight.all()).map((p) => ({
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
      ListAdmins: h('ListAdmins', async (_call, caller) => ({ credentials: s.admins.list().map((r) => adminCredentialInfo(s.admins, r, caller)) })),
      IssueAdmin: h('IssueAdmin', async (call, caller) => {
        const ttlMs = Number(call.request.ttl_ms);
        AdminCredentials.validateIssue(call.request.label, ttlMs);
        const csr = await verifiedCsr(call.request.csr_pem, ADMIN_CN, 'an admin');
        const signed = signAdminIdentity(this.#adminCa, csr, ttlMs || this.#adminCertTtlMs);
        const rec = await s.admins.issue({ label: call.request.label, ttlMs, cert: signed, caller });
        this.#log.info(`admin credential ${rec.id} (${rec.label}) issued by ${describeCaller(caller)}: serial ${signed.serial}, valid until ${new Date(signed.notAfterMs).toISOString()}`);
        return { cert_pem: signed.certPem, credential: adminCredentialInfo(s.admins, rec, caller) };
      }),
      RevokeAdmin: h('RevokeAdmin', async (call, caller) => {
        const { record, alreadyRevoked } = await s.admins.revoke(call.request.id, caller, call.request.force);
        if (!alreadyRevoked) this.#log.warn(`admin credential ${record.id} (${record.label}) revoked by ${describeCaller(caller)}; its certificates are refused from now on`);
        return { credential: adminCredentialInfo(s.admins, record, caller), already_revoked: alreadyRevoked };
      }),
    };
    server.addService(musterV1.Admin.service, handlers);
  }
}
