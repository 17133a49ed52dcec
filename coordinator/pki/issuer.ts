// Issuing cluster certificates: what the Agent.IssueCertificates and Admin.AdminKubeconfig
// handlers call. One call is all or nothing: every request is authorised (./authorizer.ts)
// before anything is signed, every certificate is recorded durably (coordinator/state/issuance.ts)
// before any is returned, and a refusal changes nothing.
//
// The service-account private key is the one secret all masters share: it goes only to a node
// whose committed assignment holds master, and each delivery is logged (without content).
import { signCsrRequest } from '../../shared/pki/x509.ts';
import { CERT_KINDS, certKind, type CertKind, type ClusterCaKind } from '../../shared/pki/catalogue.ts';
import type { Plan } from '../../shared/plan/types.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { FailedPreconditionError, InvalidArgumentError, PermissionDeniedError } from '../../shared/errors/index.ts';
import { PORTS } from '../../shared/constants.ts';
import { canonicalIp } from '../../shared/net/ip.ts';
import { hostPort } from '../assign/order.ts';
import type { ClusterState } from '../state/cluster-state.ts';
import type { IssuanceRecord } from '../state/issuance.ts';
import type { ClusterCa, ClusterCas, ClusterPkiMaterial } from './cluster-cas.ts';
import { bundlePem, caByFingerprint } from './targets.ts';
import { COMPLETE, stageTarget } from './rotation.ts';
import { authorizeCsr, authorizeCsrs, leafTtlMs, type NodeForCsr, type SignSpec } from './authorizer.ts';
import type { IssueCertificatesResponse } from '../../proto/gen/types/muster/v1/IssueCertificatesResponse.ts';
import type { CertificateExpiration } from '../../proto/gen/types/muster/v1/CertificateExpiration.ts';
import type { AdminKubeconfigResponse } from '../../proto/gen/types/muster/v1/AdminKubeconfigResponse.ts';

/** Shortest leaf lifetime signed (an admin kubeconfig's --ttl, a CA's remaining life): below it, clock skew alone would make it useless. */
export const MIN_LEAF_TTL_MS = 60_000;

export interface ClusterIssuerOptions {
  cas: ClusterCas;
  state: ClusterState;
  log: Logger;
  /** @default Date.now */
  clock?: () => number;
}

export interface Caller {
  name: string;
  /** Serial of the identity certificate the call came with. */
  serial: string;
}

/** A call's certificates, signed but not yet recorded or handed out (ClusterIssuer.prepareForNode). */
export interface PreparedIssue {
  /** Records them durably, then resolves with the answer; rejects (handing out nothing) when the node may no longer hold them. */
  commit(): Promise<IssueCertificatesResponse>;
}

export interface CertificateRequestIn {
  kind: string;
  csr_pem: string;
}

/** The API server address operators use: the load balancer, else the first master (by name). */
export function adminApiServer(plan: Plan, masterIps: readonly string[]): string {
  const m = plan.master;
  if (m.load_balancer) return `https://${m.load_balancer}`;
  if (m.load_balanced_fqdn) return `https://${hostPort(m.load_balanced_fqdn, PORTS.apiserver)}`;
  const ip = masterIps[0] || m.nodes.find((n) => n.ip)?.ip;
  if (!ip) throw new FailedPreconditionError('no-api-endpoint', 'the plan names no load balancer (master.load_balancer or master.load_balanced_fqdn) and no master has an address yet: set one, or wait until a master joins');
  return `https://${hostPort(ip, PORTS.apiserver)}`;
}

export class ClusterIssuer {
  readonly #cas: ClusterCas;
  readonly #state: ClusterState;
  readonly #log: Logger;
  readonly #clock: () => number;

  constructor(o: ClusterIssuerOptions) {
    this.#cas = o.cas;
    this.#state = o.state;
    this.#log = o.log;
    this.#clock = o.clock ?? Date.now;
  }

  async #material(): Promise<{ plan: Plan; pki: ClusterPkiMaterial }> {
    const cur = this.#state.plans.current();
    if (!cur) throw new FailedPreconditionError('no-plan', 'the coordinator has no plan yet, so there is no cluster to issue certificates for (muster plan apply FILE)');
    return { plan: cur.plan, pki: this.#cas.current() ?? (await this.#cas.ensure(cur.plan)) };
  }

  /** The node as the authoriser sees it: roles from its committed assignment, its own addresses. */
  #node(name: string): NodeForCsr {
    const a = this.#state.assignments.get(name);
    const rec = this.#state.nodes.live(name);
    const addresses = [...new Set([rec?.address, a?.body.node_ip].filter((x): x is string => Boolean(x)).map(canonicalIp))];
    return { name, roles: a?.body.roles ?? [], addresses };
  }

  #sign(spec: SignSpec, ca: ClusterCa, node: string, requestedBy: string): { certPem: string; record: IssuanceRecord } {
    const now = this.#clock();
    // A leaf never outlives its CA: past the CA's end it would not verify anyway.
    const ttlMs = Math.min(spec.ttlMs, ca.notAfterMs - now);
    if (ttlMs < MIN_LEAF_TTL_MS) throw new FailedPreconditionError('cluster-ca-expiring', `the ${spec.kind.ca} CA expires ${new Date(ca.notAfterMs).toISOString()}: it cannot sign ${spec.kind.kind}; rotate or import a new CA`);
    const info = signCsrRequest(ca, spec.csr, { cn: spec.cn, orgs: spec.orgs, dnsNames: spec.dnsNames, ips: spec.ips, usages: spec.usages, days: 0, ttlMs }, new Date(now));
    const certPem = info.certPem;
    return {
      certPem,
      record: {
        serial: info.serial,
        node,
        kind: spec.kind.kind,
        ca: spec.kind.ca,
        caSerial: ca.serial,
        sans: [...spec.dnsNames.map((d) => `DNS:${d}`), ...spec.ips.map((ip) => `IP:${ip}`)],
        notBeforeMs: info.notBefore.getTime(),
        notAfterMs: info.notAfter.getTime(),
        requestedBy,
        atMs: now,
      },
    };
  }

  /** Agent.IssueCertificates for the calling node: all requests signed and recorded, or none. */
  async issueForNode(caller: Caller, requests: readonly CertificateRequestIn[]): Promise<IssueCertificatesResponse> {
    return (await this.prepareForNode(caller, requests)).commit();
  }

  /**
   * The CPU part of issueForNode: every request authorised and signed, nothing recorded and
   * nothing handed out. `commit()` records the certificates durably (refusing, as issueForNode
   * does, if the node was removed or lost a role meanwhile) and only then gives the answer. The
   * server runs the first inside its work budget and the second outside it
   * (coordinator/server/admission/work-budget.ts: runThen), so calls share their commits.
   */
  async prepareForNode(caller: Caller, requests: readonly CertificateRequestIn[]): Promise<PreparedIssue> {
    if (requests.length > CERT_KINDS.length) throw new InvalidArgumentError(`node ${caller.name} sent ${requests.length} certificate requests; at most one per kind (${CERT_KINDS.length})`);
    const seen = new Set<string>();
    for (const r of requests) {
      if (seen.has(r.kind)) throw new InvalidArgumentError(`node ${caller.name} asked for kind ${JSON.stringify(r.kind)} twice in one call`);
      seen.add(r.kind);
    }
    const { plan, pki } = await this.#material();
    const node = this.#node(caller.name);
    const specs = authorizeCsrs(node, plan, requests.map((r) => ({ kind: r.kind, csrPem: r.csr_pem })));
    const requestedBy = `node ${caller.name} (identity serial ${caller.serial})`;
    // The node's committed target says which CA signs and what its bundles hold (a rotation in
    // progress moves them node by node); no target yet (cluster made by an older muster): the CAs of record.
    const target = this.#state.assignments.get(caller.name)?.body.pki ?? null;
    const signerOf = (kind: ClusterCaKind): ClusterCa => {
      const fp = target?.cas?.[kind]?.signer;
      if (!fp) return pki.cas[kind];
      const ca = caByFingerprint(pki, kind, fp);
      if (!ca) throw new FailedPreconditionError('signer-unknown', `node ${caller.name}'s assignment names a ${kind} CA (${fp}) this coordinator does not hold; see \`muster certs rotate-ca --status\``);
      return ca;
    };
    const signed = specs.map((s) => this.#sign(s, signerOf(s.kind.ca), caller.name, requestedBy));
    const master = node.roles.includes('master');
    // Bundles before the record: a target naming a CA we lack is refused, never answered with
    // another bundle (the node would trust what no other node does).
    const bundleOf = (kind: ClusterCaKind): string => {
      const t = target?.cas?.[kind];
      if (!t) return pki.cas[kind].certPem;
      const pem = bundlePem(pki, kind, t);
      if (!pem) throw new FailedPreconditionError('signer-unknown', `node ${caller.name}'s assignment names a ${kind} CA bundle (${t.bundle.join(', ')}) this coordinator does not hold; see \`muster certs rotate-ca --status\``);
      return pem;
    };
    // The answer is complete before the record is, so across the commit wait only it, the
    // records and the kinds stay alive, not the parsed requests and their buffers (64 calls in
    // flight hold 64 of them).
    const response: IssueCertificatesResponse = {
      certificates: signed.map((s) => ({ kind: s.record.kind, cert_pem: s.certPem })),
      cas: { kubernetes: bundleOf('kubernetes'), etcd: bundleOf('etcd'), front_proxy: bundleOf('front-proxy') },
      service_account_public_pem: master ? pki.serviceAccount.publicPem : '',
      service_account_private_pem: master ? pki.serviceAccount.privatePem : '',
      pki: target,
    };
    const kinds = specs.map((s) => s.kind);
    const records = signed.map((s) => s.record);
    return {
      commit: async () => {
        // The roles were read from committed state; a change queued since (a plan that takes the
        // node's master role, say) is seen here, inside the mutation, before anything leaves.
        await this.#state.issuance.record(records, caller, () => this.#stillMay(caller.name, kinds, master));
        if (master) this.#log.info(`service-account key delivered to node ${caller.name}`);
        if (records.length) this.#log.info(`cluster certificates issued to node ${caller.name}: ${records.map((r) => r.kind).join(', ')}`);
        return response;
      },
    };
  }

  /** Throws unless the node's roles in the writer's view still allow every kind signed (and the SA key for a master). */
  #stillMay(name: string, kinds: readonly CertKind[], master: boolean): void {
    const roles = this.#state.assignments.bodies.latest(name)?.body.roles ?? [];
    const lost = kinds.find((k) => !k.roles.some((r) => roles.includes(r)));
    if (lost) throw new PermissionDeniedError('kind-not-allowed', `node ${name} may no longer hold kind ${JSON.stringify(lost.kind)} (its roles changed to ${roles.join(', ') || 'none'} while the request was signed)`);
    if (master && !roles.includes('master')) throw new PermissionDeniedError('kind-not-allowed', `node ${name} is no longer a master (its roles changed to ${roles.join(', ') || 'none'}): no service-account key`);
  }

  /** Admin.AdminKubeconfig: a kubernetes-admin certificate for a key the CLI made. */
  async adminKubeconfig(csrPem: string, ttlMs: number, requestedBy: string): Promise<Required<AdminKubeconfigResponse>> {
    const { plan, pki } = await this.#material();
    const maxMs = leafTtlMs(plan);
    if (!Number.isFinite(ttlMs) || ttlMs < 0 || (ttlMs > 0 && ttlMs < MIN_LEAF_TTL_MS) || ttlMs > maxMs) {
      throw new InvalidArgumentError(`admin kubeconfig lifetime ${ttlMs} ms is out of range: give 1m to the plan's certificates.expiry (${plan.cluster.certificates.expiry}); 0 = that`);
    }
    // An operator is no node: it may hold the admin kind by definition, has no names, and its
    // CSR passes the same checks as a node's (subject, SANs, usages, key type).
    const admin = certKind('admin')!;
    const spec = authorizeCsr({ name: 'operator', roles: admin.roles, addresses: [] }, plan, { kind: 'admin', csrPem });
    if (ttlMs > 0) spec.ttlMs = ttlMs;
    const op = this.#operatorTarget(pki);
    const { certPem, record } = this.#sign(spec, op.signer, '', requestedBy);
    await this.#state.issuance.record([record]);
    this.#log.info(`admin kubeconfig certificate ${record.serial} issued to ${requestedBy}, valid until ${new Date(record.notAfterMs).toISOString()}`);
    const masters = this.#state.nodes
      .all()
      .filter((n) => !n.removedAtMs && this.#state.assignments.get(n.name)?.body.roles.includes('master'))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((n) => this.#state.assignments.get(n.name)!.body.node_ip);
    return { cert_pem: certPem, ca_pem: op.bundle, server: adminApiServer(plan, masters), cluster_name: plan.cluster.name };
  }

  /**
   * What an operator's kubeconfig gets while the kubernetes CA may be rotating: API servers are at
   * the stage or the one before, so the bundle trusts both stages' CAs and the certificate comes
   * from the stage's signer, which every API server of both stages trusts.
   */
  #operatorTarget(pki: ClusterPkiMaterial): { signer: ClusterCa; bundle: string } {
    const r = this.#state.pki.rotations.get('kubernetes');
    if (!r || r.stage >= COMPLETE) return { signer: pki.cas.kubernetes, bundle: pki.cas.kubernetes.certPem };
    const now = stageTarget(r, r.stage);
    const before = stageTarget(r, r.stage - 1);
    const bundle = bundlePem(pki, 'kubernetes', { bundle: [...new Set([...before.bundle, ...now.bundle])], signer: now.signer });
    const signer = caByFingerprint(pki, 'kubernetes', now.signer);
    if (!bundle || !signer) throw new FailedPreconditionError('signer-unknown', 'the kubernetes CA rotation names a CA this coordinator does not hold; see `muster certs rotate-ca --status`');
    return { signer, bundle };
  }

  /** Admin.CertificateExpirations: every cluster CA and every current issued certificate, soonest first. */
  expirations(): CertificateExpiration[] {
    const now = this.#clock();
    const pki = this.#cas.current();
    const rows: CertificateExpiration[] = [];
    for (const kind of Object.keys(pki?.cas ?? {}) as ClusterCaKind[]) {
      const ca = pki!.cas[kind];
      rows.push({ node: '', kind: `ca:${kind}`, serial: ca.serial, not_after_ms: ca.notAfterMs, sans: [] });
      // A next/ CA without a rotation in progress is a start that crashed before committing: the next rotate-ca replaces it.
      const rotating = (this.#state.pki.rotations.get(kind)?.stage ?? COMPLETE) < COMPLETE;
      const next = rotating ? pki!.next[kind] : undefined;
      if (next) rows.push({ node: '', kind: `ca:${kind} (rotating in)`, serial: next.serial, not_after_ms: next.notAfterMs, sans: [] });
    }
    for (const r of this.#state.issuance.current(now)) rows.push({ node: r.node, kind: r.kind, serial: r.serial, not_after_ms: r.notAfterMs, sans: r.sans });
    return rows.sort((a, b) => Number(a.not_after_ms) - Number(b.not_after_ms) || String(a.node).localeCompare(String(b.node)) || String(a.kind).localeCompare(String(b.kind)));
  }
}
