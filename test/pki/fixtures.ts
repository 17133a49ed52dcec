// Shared pieces of the cluster-PKI tests: a plan with a load balancer and extra SANs, and openssl.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePlan } from '../../shared/plan/index.ts';
import type { Plan } from '../../shared/plan/types.ts';
import { requireTool } from '../helpers/tools.ts';

export const LB = 'k8s.example.com';
export const EXTRA_SANS = ['api.example.com', '10.9.9.9'];

/** node-1: etcd + master, node-2 and node-3: workers, at the given addresses. */
export function pkiPlanText(addresses: readonly [string, string, string], o: { expiry?: string; caExpiry?: string } = {}): string {
  const [a1, a2, a3] = addresses;
  return `cluster:
  name: pki
  version: v1.36.3
  networking:
    pod_cidr_block: 172.16.0.0/16
    service_cidr_block: 172.17.0.0/16
  certificates:
    expiry: ${o.expiry ?? '17520h'}
    ca_expiry: ${o.caExpiry ?? '87600h'}
    location: { city: Troy, state: NY, country: US }
    apiserver_cert_extra_sans: [${EXTRA_SANS.join(', ')}]
  preflight:
    max_peer_latency_ms: 1000
etcd:
  expected_count: 1
  nodes:
    - { host: node-1, ip: ${a1} }
master:
  expected_count: 1
  load_balancer: ${LB}:6443
  nodes:
    - { host: node-1, ip: ${a1} }
worker:
  expected_count: 2
  nodes:
    - { host: node-2, ip: ${a2} }
    - { host: node-3, ip: ${a3} }
`;
}

export function pkiPlan(addresses: readonly [string, string, string]): Plan {
  const r = parsePlan(pkiPlanText(addresses), 'pki.yaml');
  if (!r.plan) throw new Error(`test plan invalid: ${JSON.stringify(r.problems)}`);
  return r.plan;
}

export function openssl(args: string[], input?: string): string {
  requireTool('openssl', 'openssl');
  return execFileSync('openssl', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Whether `openssl verify -CAfile ca` accepts the certificate (purpose any: usages are checked elsewhere). */
export function opensslVerifies(dir: string, caPem: string, certPem: string): boolean {
  const ca = join(dir, `ca-${Math.random().toString(36).slice(2)}.pem`);
  const cert = join(dir, `cert-${Math.random().toString(36).slice(2)}.pem`);
  writeFileSync(ca, caPem);
  writeFileSync(cert, certPem);
  try {
    return openssl(['verify', '-CAfile', ca, cert]).trim() === `${cert}: OK`;
  } catch {
    return false;
  }
}

export function opensslText(certPem: string): string {
  return openssl(['x509', '-noout', '-text'], certPem);
}
