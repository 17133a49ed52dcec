// The subject alternative names of a cluster certificate, from the catalogue's SanRule
// (shared/pki/catalogue.ts), the node's own names and addresses, and the plan (REFERENCE.md
// section 6). Pure: the CSR authoriser (./authorizer.ts) checks a CSR's requested SANs against
// this, and the signer writes exactly this, whatever the CSR asked for.
import { isIP } from 'node:net';
import type { SanRule } from '../../shared/pki/catalogue.ts';
import type { Plan } from '../../shared/plan/types.ts';
import { canonicalIp } from '../../shared/net/ip.ts';
import { splitHostPort } from '../../shared/net/host-port.ts';
import { firstServiceAddress } from '../assign/cidr.ts';

export interface SanSet {
  /** Lower-case, deduplicated, in the order they were added. */
  dnsNames: string[];
  /** Canonical form (shared/net/ip.ts), deduplicated. */
  ips: string[];
}

export interface NodeNames {
  name: string;
  /** The node's own addresses: the one it joined and reports with, and the plan's for it. */
  addresses: readonly string[];
}

/** Collects names, sorting each into DNS or IP by its form (a node name may look like an address). */
class SanBuilder {
  readonly #dns = new Set<string>();
  readonly #ips = new Set<string>();
  add(...names: readonly string[]): this {
    for (const n of names) {
      const v = n.trim();
      if (!v) continue;
      if (isIP(v)) this.#ips.add(canonicalIp(v));
      else this.#dns.add(v.toLowerCase());
    }
    return this;
  }
  build(): SanSet {
    return { dnsNames: [...this.#dns], ips: [...this.#ips] };
  }
}

/** The load balancer's host from master.load_balancer ("host:port"), or "". */
function loadBalancerHost(hostPort: string): string {
  if (!hostPort) return '';
  try {
    return splitHostPort(hostPort).host;
  } catch {
    return hostPort;
  }
}

export function sansFor(rule: SanRule, node: NodeNames, plan: Plan): SanSet {
  const b = new SanBuilder();
  switch (rule) {
    case 'none':
      break;
    case 'node':
      b.add(node.name, ...node.addresses);
      break;
    case 'etcd':
      b.add(node.name, 'localhost', ...node.addresses, '127.0.0.1', '::1');
      break;
    case 'apiserver': {
      const domain = plan.cluster.networking.cluster_domain;
      const m = plan.master;
      b.add(node.name, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${domain}`);
      b.add(loadBalancerHost(m.load_balancer), m.load_balanced_fqdn, m.load_balanced_short_name);
      b.add(...plan.cluster.certificates.apiserver_cert_extra_sans);
      b.add(...node.addresses, '127.0.0.1', firstServiceAddress(plan.cluster.networking.service_cidr_block));
      break;
    }
  }
  return b.build();
}
