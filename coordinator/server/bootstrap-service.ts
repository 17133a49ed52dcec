// Bootstrap service: the only methods callable without a client certificate. GetCA hands out
// the server CA for the agent to check against its pin; Join trades a token and a CSR for a node
// identity certificate from the node CA (client auth only). The node name and organisation in
// the certificate come from here, never from the CSR.
//
// Order of the checks in Join, cheapest first, so that an unauthenticated caller makes us do
// as little work as possible: request shape and sizes, the token (id and secret), the names,
// then the CSR (parse and signature), and only then the mutation; the CSR check and the
// signing run within the coordinator-wide work budget (admission/work-budget.ts).
import { musterV1 } from '../../shared/wire/proto.ts';
import type { BootstrapHandlers } from '../../proto/gen/types/muster/v1/Bootstrap.ts';
import { unaryHandler, type ServiceRegistrar } from './boundary.ts';
import type { ClusterState } from '../state/cluster-state.ts';
import type { CertAndKey } from '../../shared/pki/x509.ts';
import { signNodeIdentity, verifiedCsr } from '../trust/csr.ts';
import { parseToken } from '../trust/tokens.ts';
import { MusterError, PermissionDeniedError } from '../../shared/errors/index.ts';
import { IDENTITY_CERT_DAYS } from '../../shared/constants.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { validateJoinRequest } from './input/join.ts';
import type { CoordinatorNames } from './reserved-names.ts';
import type { WorkBudget } from './admission/work-budget.ts';

export interface BootstrapDeps {
  state: ClusterState;
  serverCa: CertAndKey;
  nodeCa: CertAndKey;
  names: CoordinatorNames;
  log: Logger;
  /** Lifetime of node identity certificates. @default 1 year */
  nodeCertTtlMs?: number;
  /** Budget check per source (grpc-js's call.getPeer()); throws RESOURCE_EXHAUSTED when spent. */
  admit?: (peer: string) => void;
  /** The coordinator-wide budget for expensive work (admission/work-budget.ts): the CSR check and signing run in it. @default none */
  work?: Pick<WorkBudget, 'run'>;
  /** Failed joins, for rate-limited warn logging. */
  onJoinRefused?: (peer: string, err: MusterError) => void;
}

export class BootstrapService {
  readonly #d: BootstrapDeps;

  constructor(d: BootstrapDeps) {
    this.#d = d;
  }

  addToServer(server: ServiceRegistrar): void {
    const d = this.#d;
    const ttl = d.nodeCertTtlMs ?? IDENTITY_CERT_DAYS * 86_400_000;
    const handlers: BootstrapHandlers = {
      GetCA: unaryHandler(d.log, 'GetCA', async () => ({ ca_cert_pem: d.serverCa.certPem })),
      Join: unaryHandler(d.log, 'Join', async (call) => {
        // The peer as grpc-js gives it; the admission layer reads the address out of it.
        const source = call.getPeer();
        try {
          d.admit?.(source);
          const r = call.request;
          validateJoinRequest(r);
          const { id, secret } = parseToken(r.token);
          d.state.tokens.precheck(id, secret);
          const reserved = d.names.collision(r.node_name, r.address);
          if (reserved) throw new PermissionDeniedError('reserved-name', reserved);
          const signAndJoin = async () => {
            const csr = await verifiedCsr(r.csr_pem, r.node_name, r.node_name);
            return d.state.nodes.join({
              tokenId: id,
              tokenSecret: secret,
              name: r.node_name,
              machineId: r.machine_id,
              address: r.address,
              labels: r.labels ?? {},
              agentVersion: r.agent_version,
              keyId: csr.keyId,
              sign: () => signNodeIdentity(d.nodeCa, csr, r.node_name, ttl),
            });
          };
          const res = d.work ? await d.work.run('join', signAndJoin) : await signAndJoin();
          return { cert_pem: res.certPem, ca_cert_pem: d.serverCa.certPem, node_name: res.node.name };
        } catch (err) {
          if (err instanceof MusterError) d.onJoinRefused?.(source, err);
          throw err;
        }
      }),
    };
    server.addService(musterV1.Bootstrap.service, handlers);
  }
}
