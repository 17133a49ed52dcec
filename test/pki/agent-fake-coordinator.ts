// A small stand-in for the coordinator's side of the cluster PKI, for the agent's tests: a real
// grpc-js server with mutual TLS (so the agent's own authenticated channel is what talks to it)
// whose IssueCertificates signs CSRs with test CAs from shared/pki/x509.ts, by the catalogue.
// Report, WatchAssignment and ReportApply are there too, so a whole Agent loop can run against it.
// It records every request it gets, so tests can assert what crossed the wire.
import * as grpc from '@grpc/grpc-js';
import { musterV1 } from '../../shared/wire/proto.ts';
import { toServiceError } from '../../shared/wire/status.ts';
import { createCa, issueLeaf, parseCsr, signCsr, type CertAndKey } from '../../shared/pki/x509.ts';
import { certKind, type ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { COORDINATOR_CN, COORDINATOR_ORG, NODE_ORG } from '../../shared/constants.ts';
import { PermissionDeniedError } from '../../shared/errors/index.ts';
import { generateKeyPairSync } from 'node:crypto';
import type { AgentIdentity } from '../../agent/identity/identity-store.ts';
import type { Assignment, ApplyResultOut } from '../../shared/wire/types.ts';
import type { IssueCertificatesRequest__Output } from '../../proto/gen/types/muster/v1/IssueCertificatesRequest.ts';

export interface FakeCoordinator {
  address: string;
  cas: Record<ClusterCaKind, CertAndKey>;
  serviceAccount: { privatePem: string; publicPem: string };
  /** Every IssueCertificates request, as received. */
  issued: IssueCertificatesRequest__Output[];
  reports: ApplyResultOut[];
  /** The identity an agent uses to call it (node CA, O=muster:nodes). */
  identity(nodeName: string): Promise<AgentIdentity>;
  /** Settings tests change between calls. */
  knobs: {
    /** The signing clock (tests that move the agent's clock move this one too). */
    now: () => number;
    /** Lifetime per kind, ms; default one day. */
    ttlMs: Record<string, number>;
    /** Kinds refused with PERMISSION_DENIED, as the authoriser would. */
    refuse: Set<string>;
    /** The node addresses the SANs carry. */
    addresses: string[];
    /** The assignment WatchAssignment hands out once (null: none). */
    assignment: Assignment | null;
  };
  close(): Promise<void>;
}

const SAN_FIXED: Record<string, { dns: string[]; ips: string[] }> = {
  none: { dns: [], ips: [] },
  node: { dns: [], ips: [] },
  etcd: { dns: ['localhost'], ips: ['127.0.0.1', '::1'] },
  apiserver: { dns: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'], ips: ['127.0.0.1', '10.96.0.1'] },
};

export async function startFakeCoordinator(host: string): Promise<FakeCoordinator> {
  const [serverCa, nodeCa, kubernetes, etcd, frontProxy] = await Promise.all([createCa('fake-server-ca', 1), createCa('fake-node-ca', 1), createCa('fake-kubernetes-ca', 1), createCa('fake-etcd-ca', 1), createCa('fake-front-proxy-ca', 1)]);
  const cas: FakeCoordinator['cas'] = { kubernetes: kubernetes!, etcd: etcd!, 'front-proxy': frontProxy! };
  const sa = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serviceAccount = { privatePem: sa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicPem: sa.publicKey.export({ type: 'spki', format: 'pem' }) as string };
  const serving = await issueLeaf(serverCa!, { cn: COORDINATOR_CN, orgs: [COORDINATOR_ORG], ips: [host], usages: ['server'], days: 1 });
  const issued: IssueCertificatesRequest__Output[] = [];
  const reports: ApplyResultOut[] = [];
  const knobs: FakeCoordinator['knobs'] = { now: Date.now, ttlMs: {}, refuse: new Set(), addresses: [], assignment: null };
  let handedOut = false;

  const server = new grpc.Server();
  type Cb = (err: Partial<grpc.StatusObject> | null, res?: unknown) => void;
  const nodeOf = (call: grpc.ServerUnaryCall<unknown, unknown>) => String(call.getAuthContext()?.sslPeerCertificate?.subject?.CN ?? '');
  server.addService(musterV1.Agent.service, {
    IssueCertificates: async (call: grpc.ServerUnaryCall<IssueCertificatesRequest__Output, unknown>, cb: Cb) => {
      issued.push(call.request);
      try {
        const node = nodeOf(call);
        const now = new Date(knobs.now());
        const certificates = [];
        for (const r of call.request.requests) {
          const k = certKind(r.kind);
          if (!k || knobs.refuse.has(r.kind)) throw new PermissionDeniedError('kind-not-allowed', `${r.kind}: not allowed for node ${node}`);
          const csr = await parseCsr(r.csr_pem);
          const fixed = SAN_FIXED[k.sans]!;
          const own = k.sans === 'none' ? { dns: [], ips: [] } : { dns: [node], ips: knobs.addresses };
          const cert_pem = signCsr(cas[k.ca], csr, { cn: k.cn(node), orgs: [...k.orgs], usages: [...k.usages], dnsNames: [...own.dns, ...fixed.dns], ips: [...own.ips, ...fixed.ips], days: 1, ttlMs: knobs.ttlMs[r.kind] }, now);
          certificates.push({ kind: r.kind, cert_pem });
        }
        const master = knobs.assignment?.roles?.includes('master') ?? false;
        cb(null, {
          certificates,
          cas: { kubernetes: kubernetes!.certPem, etcd: etcd!.certPem, front_proxy: frontProxy!.certPem },
          service_account_public_pem: master ? serviceAccount.publicPem : '',
          service_account_private_pem: master ? serviceAccount.privatePem : '',
        });
      } catch (err) {
        cb(toServiceError(err));
      }
    },
    Report: (_call: unknown, cb: Cb) => cb(null, { server_time_ms: Date.now(), need_full_facts: false }),
    WatchAssignment: (call: grpc.ServerUnaryCall<{ hold_ms: number }, unknown>, cb: Cb) => {
      if (knobs.assignment && !handedOut) {
        handedOut = true;
        return cb(null, { changed: true, assignment: knobs.assignment });
      }
      // Hold like the real one, but briefly: the agent's loop wakes itself for renewals.
      const t = setTimeout(() => cb(null, { changed: false }), Math.min(call.request.hold_ms, 200));
      call.on('cancelled', () => clearTimeout(t));
    },
    ReportApply: (call: grpc.ServerUnaryCall<ApplyResultOut, unknown>, cb: Cb) => {
      reports.push(call.request);
      cb(null, {});
    },
  });
  const creds = grpc.ServerCredentials.createSsl(Buffer.from(nodeCa!.certPem), [{ private_key: Buffer.from(serving.keyPem), cert_chain: Buffer.from(serving.certPem) }], true);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, creds, (e, p) => (e ? reject(e) : resolve(p))));
  return {
    address: `${host}:${port}`,
    cas,
    serviceAccount,
    issued,
    reports,
    knobs,
    async identity(nodeName) {
      const id = await issueLeaf(nodeCa!, { cn: nodeName, orgs: [NODE_ORG], usages: ['client'], days: 1 });
      return { nodeName, coordinator: `${host}:${port}`, caCertPem: serverCa!.certPem, keyPem: id.keyPem, certPem: id.certPem };
    },
    close: () => new Promise<void>((r) => server.tryShutdown(() => r())),
  };
}
