// The admin CLI's connection to a coordinator: mutual TLS with the admin certificate from the
// admin config, server verified against the CA in that config (whose pin the config states).
import * as grpc from '@grpc/grpc-js';
import { musterV1, type AdminClient } from '../../shared/wire/proto.ts';
import { unary } from '../../shared/wire/status.ts';
import type { AdminConfig } from './config.ts';
import { checkCoordinatorIdentity } from '../../shared/pki/coordinator-identity.ts';

export interface Admin {
  readonly target: string;
  call: <K extends AdminMethod>(method: K, req: Parameters<typeof unary<AdminClient, K>>[3], timeoutMs?: number) => ReturnType<typeof unary<AdminClient, K>>;
  close(): void;
}

type AdminMethod = 'CreateToken' | 'ListTokens' | 'RenewAdmin' | 'ListAdmins' | 'IssueAdmin' | 'RevokeAdmin' | 'CertificateExpirations' | 'AdminKubeconfig' | 'RevokeToken' | 'RenewCertificates' | 'RotateCa' | 'CaRotationStatus' | 'Status' | 'RemoveNode' | 'ApplyPlan' | 'PlanHistory' | 'GetPlan' | 'AssignNode' | 'Preflight' | 'DescribeNode' | 'NodeAssignment';

export function connectAdmin(cfg: AdminConfig): Admin {
  // Verified on every connection: chain to the pinned server CA, and a coordinator's certificate for this address.
  const creds = grpc.credentials.createSsl(Buffer.from(cfg.ca_cert), Buffer.from(cfg.client_key), Buffer.from(cfg.client_cert), { checkServerIdentity: checkCoordinatorIdentity });
  const client = new musterV1.Admin(cfg.coordinator, creds, { 'grpc.enable_channelz': 0 }) as AdminClient;
  return {
    target: cfg.coordinator,
    call: (method, req, timeoutMs = 15_000) => unary(cfg.coordinator, client, method, req, timeoutMs),
    close: () => client.close(),
  };
}
