// Bootstrap service: the only methods callable without a client certificate. GetCA hands out
// the CA for the agent to check against its pin; Join trades a token and a CSR for a node
// identity certificate. The node name and organisation in the certificate come from here,
// never from the CSR.
import type * as grpc from '@grpc/grpc-js';
import { musterV1 } from '../../shared/wire/proto.ts';
import type { BootstrapHandlers } from '../../proto/gen/types/muster/v1/Bootstrap.ts';
import { unaryHandler } from './boundary.ts';
import type { ClusterState } from '../state/cluster-state.ts';
import { parseCsr, signCsr, certInfo, type CertAndKey } from '../../shared/pki/x509.ts';
import { parseToken } from '../trust/tokens.ts';
import { InvalidArgumentError } from '../../shared/errors/index.ts';
import { IDENTITY_CERT_DAYS, NODE_ORG } from '../../shared/constants.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { isIP } from 'node:net';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function validateNodeName(name: string): void {
  if (!name || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    throw new InvalidArgumentError(
      `node name ${JSON.stringify(name)} is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters); set --node-name`,
    );
  }
}

export class BootstrapService {
  readonly #state: ClusterState;
  readonly #ca: CertAndKey;
  readonly #log: Logger;

  constructor(state: ClusterState, ca: CertAndKey, log: Logger) {
    this.#state = state;
    this.#ca = ca;
    this.#log = log;
  }

  addToServer(server: grpc.Server): void {
    const handlers: BootstrapHandlers = {
      GetCA: unaryHandler(this.#log, 'GetCA', async () => ({ ca_cert_pem: this.#ca.certPem })),
      Join: unaryHandler(this.#log, 'Join', async (call) => {
        const r = call.request;
        const { id, secret } = parseToken(r.token);
        validateNodeName(r.node_name);
        let csr;
        try {
          csr = await parseCsr(r.csr_pem);
        } catch (err) {
          throw new InvalidArgumentError(`the certificate signing request from ${r.node_name} is invalid: ${(err as Error).message}`);
        }
        if (csr.cn !== r.node_name) {
          throw new InvalidArgumentError(`the CSR is for CN=${csr.cn} but the node asks to join as ${r.node_name}; they must match`);
        }
        const address = r.address && isIP(r.address) ? r.address : '';
        const certPem = await signCsr(this.#ca, csr, {
          cn: r.node_name,
          orgs: [NODE_ORG],
          usages: ['client', 'server'],
          dnsNames: [r.node_name],
          ips: address ? [address] : [],
          days: IDENTITY_CERT_DAYS,
        });
        const node = await this.#state.join({
          tokenId: id,
          tokenSecret: secret,
          name: r.node_name,
          machineId: r.machine_id,
          address,
          labels: r.labels ?? {},
          agentVersion: r.agent_version,
          certSerial: certInfo(certPem).serial,
        });
        return { cert_pem: certPem, ca_cert_pem: this.#ca.certPem, node_name: node.name };
      }),
    };
    server.addService(musterV1.Bootstrap.service, handlers);
  }
}
