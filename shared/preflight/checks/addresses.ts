// The node's addresses must lie outside the pod and service ranges (REFERENCE section 2): a node
// inside the service CIDR is shadowed by kube-proxy's rules, one inside the pod CIDR by pod routes.
// A node network that merely overlaps a range only warns: more specific routes still win, but
// other hosts of that network may collide with pod or service addresses.
import type { Check, Finding } from '../types.ts';
import { notReported } from '../read.ts';
import { parseCidr, parseIp, formatCidr, formatIp, cidrContains, cidrsOverlap, type Cidr, type IpAddress } from '../../plan/cidr.ts';

/**
 * Interfaces created by cluster networking hold pod or service addresses by design (Calico's
 * tunl0 and cali*, kube-ipvs0, CNI bridges); a re-run on an installed node must not flag them.
 */
export const CLUSTER_INTERFACE_PREFIXES: readonly string[] = [
  'cali', 'tunl', 'vxlan.calico', 'cni', 'flannel', 'kube-ipvs', 'kube-bridge', 'cilium', 'veth', 'weave',
];

const SKIPPED_RANGES = ['127.0.0.0/8', '169.254.0.0/16', '::1/128', 'fe80::/10'].map((t) => parseCidr(t)!);

/** "10.0.0.5/24" -> the address and its network; a bare address is a /32 or /128. */
function interfaceAddress(text: string): { ip: IpAddress; network: Cidr } | null {
  const [addr = '', prefix] = text.trim().split('/');
  const ip = parseIp(addr);
  if (!ip) return null;
  const network = parseCidr(`${addr}/${prefix ?? (ip.family === 4 ? 32 : 128)}`);
  return network ? { ip, network } : null;
}

export const nodeAddressCidrCheck: Check = {
  name: 'node-address-cidr',
  roles: 'all',
  description: 'no node address inside the pod or service CIDR (overlapping node networks warn)',
  run(ctx) {
    const network = ctx.facts.network;
    if (!network) return [notReported('network')];
    const nw = ctx.plan.cluster.networking;
    const ranges: Array<{ field: string; cidr: Cidr }> = [];
    for (const [field, text] of [['pod_cidr_block', nw.pod_cidr_block], ['service_cidr_block', nw.service_cidr_block]] as const) {
      const cidr = parseCidr(text);
      if (cidr) ranges.push({ field, cidr }); // an unparsable range is plan validation's error
    }
    const out: Finding[] = [];
    for (const iface of network.interfaces ?? []) {
      const name = iface.name ?? '';
      if (CLUSTER_INTERFACE_PREFIXES.some((p) => name.startsWith(p))) continue;
      for (const text of iface.addresses ?? []) {
        const addr = interfaceAddress(text);
        if (!addr || SKIPPED_RANGES.some((r) => cidrContains(r, addr.ip))) continue;
        for (const { field, cidr } of ranges) {
          const rangeText = formatCidr(cidr);
          if (cidrContains(cidr, addr.ip)) {
            out.push({
              severity: 'error',
              found: `address ${formatIp(addr.ip)} of ${name} inside ${field} ${rangeText}`,
              required: `node addresses outside ${field} ${rangeText}`,
              fix: `choose a cluster.networking.${field} that does not contain the node's networks, or renumber ${name}${name === 'docker0' ? ' (set "bip" in /etc/docker/daemon.json)' : ''}`,
            });
          } else if (cidrsOverlap(cidr, addr.network)) {
            out.push({
              severity: 'warning',
              found: `network ${text} of ${name} overlaps ${field} ${rangeText}`,
              required: `node networks disjoint from ${field} ${rangeText}`,
              fix: `choose a cluster.networking.${field} outside the node's networks; other hosts on ${text} may collide with cluster addresses`,
            });
          }
        }
      }
    }
    return out;
  },
};
