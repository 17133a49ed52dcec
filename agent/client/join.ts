// First contact with a coordinator (kubeadm's discovery, then TLS bootstrap):
// 1. fetch the server CA without trusting the server, 2. check it against the pin, 3. join over
// TLS verified with that CA (and checked to be a coordinator's certificate), sending a token and
// a CSR for a key made on this node -- the caller's saved join key, so a retried join asks for
// the same key. Renewal (`renewIdentity`) goes over the node's current mutual-TLS channel.
import { caPin, createCa, createCsr, createKey } from '../../shared/pki/x509.ts';
import { CaPinMismatchError, ConfigError } from '../../shared/errors/index.ts';
import { unary } from '../../shared/wire/status.ts';
import { untrustedBootstrapClient, pinnedBootstrapClient } from './channels.ts';
import type { AgentIdentity } from '../identity/identity-store.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { AgentClient } from '../../shared/wire/proto.ts';

const CALL_TIMEOUT_MS = 15_000;

export interface JoinParams {
  coordinator: string;
  token: string;
  caHash: string | null;
  insecureSkipCaVerification: boolean;
  nodeName: string;
  machineId: string;
  address: string;
  labels: Record<string, string>;
  agentVersion: string;
  /** The node's key for this join; made here when absent. */
  keyPem?: string;
}

let placeholder: Promise<string> | null = null;
/** A throwaway self-signed certificate, made once per process (see untrustedBootstrapClient). */
function placeholderCa(): Promise<string> {
  return (placeholder ??= createCa('muster-untrusted-placeholder', 1).then((c) => c.certPem));
}

export async function fetchPinnedCa(p: Pick<JoinParams, 'coordinator' | 'caHash' | 'insecureSkipCaVerification'>, log: Logger, signal?: AbortSignal): Promise<string> {
  const client = untrustedBootstrapClient(p.coordinator, await placeholderCa());
  try {
    const res = await unary(p.coordinator, client, 'GetCA', {}, CALL_TIMEOUT_MS, signal);
    const actual = caPin(res.ca_cert_pem);
    if (p.caHash) {
      if (actual !== p.caHash) throw new CaPinMismatchError(p.caHash, actual, p.coordinator);
    } else if (p.insecureSkipCaVerification) {
      log.warn(`trusting the CA of ${p.coordinator} (${actual}) WITHOUT verification (--insecure-skip-ca-verification); anyone on the path could impersonate the coordinator`);
    } else {
      throw new ConfigError(
        `no --ca-hash given for the first join to ${p.coordinator} (its CA has hash ${actual}); pass the --ca-hash printed with the join command ` +
          '(`muster token create` prints it), or --insecure-skip-ca-verification on a trusted network',
      );
    }
    return res.ca_cert_pem;
  } finally {
    client.close();
  }
}

export async function join(p: JoinParams, log: Logger, signal?: AbortSignal): Promise<AgentIdentity> {
  const caCertPem = await fetchPinnedCa(p, log, signal);
  const { keyPem, csrPem } = await createCsr(p.nodeName, p.keyPem ?? (await createKey()));
  const client = pinnedBootstrapClient(p.coordinator, caCertPem);
  try {
    const res = await unary(
      p.coordinator,
      client,
      'Join',
      { token: p.token, node_name: p.nodeName, csr_pem: csrPem, machine_id: p.machineId, agent_version: p.agentVersion, labels: p.labels, address: p.address },
      CALL_TIMEOUT_MS,
      signal,
    );
    return { nodeName: res.node_name, coordinator: p.coordinator, caCertPem, keyPem, certPem: res.cert_pem };
  } finally {
    client.close();
  }
}

/** Re-keys the node through its current identity: a new key, a CSR for it, a new certificate. */
export async function renewIdentity(target: string, client: AgentClient, nodeName: string, signal?: AbortSignal): Promise<{ keyPem: string; certPem: string }> {
  const { keyPem, csrPem } = await createCsr(nodeName);
  const res = await unary(target, client, 'RenewIdentity', { csr_pem: csrPem }, CALL_TIMEOUT_MS, signal);
  return { keyPem, certPem: res.cert_pem };
}
