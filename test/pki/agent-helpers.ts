// Shared by the agent's cluster-PKI tests: an assignment as the coordinator would send it, file
// modes, and openssl's verdict on a certificate.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import type { AssignmentOut } from '../../shared/wire/types.ts';

export function assignment(o: Partial<AssignmentOut> & { node_name: string; roles: string[] }): AssignmentOut {
  return {
    revision: 1,
    cluster_name: 'pki-test',
    kubernetes_version: 'v1.36.3',
    pod_cidr: '',
    networking: null,
    api_server_endpoint: '',
    etcd_members: [],
    labels: {},
    taints: [],
    hosts_entries: [],
    node_ip: '',
    container_runtime: 'containerd',
    pki: null,
    settings: null,
    plan_revision: 1,
    ...o,
  };
}

export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** openssl verify of `cert` against the CA bundle file `caFile` and nothing else; true when it says OK. */
export function opensslVerifies(caFile: string, cert: string): boolean {
  try {
    const out = execFileSync('openssl', ['verify', '-no-CApath', '-no-CAstore', '-CAfile', caFile, cert], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.trim() === `${cert}: OK`;
  } catch {
    return false;
  }
}
