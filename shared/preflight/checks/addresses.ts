// The node's addresses must lie outside the pod and service ranges (REFERENCE section 2): a node
// inside the service CIDR is shadowed by kube-proxy's rules, one inside the pod CIDR by pod routes.
// A node network that merely overlaps a range only warns: more specific routes still win, but
// other hosts of that network may collide with pod or service addresses.
import type { Check, Finding } from '../types.ts';
import { notReported } from '../read.ts';
import { parseCidr, cidrContains, cidrOverlaps, type Cidr } from '../cidr.ts';

/**
 * Interfaces created by cluster networking hold pod or service addresses by design (Calico's
 * tunl0 and cali*, kube-ipvs0, CNI bridges); a re-run on an installed node must not flag them.
 */
export const CLUSTER_INTERFACE_PREFIXES: readonly string[] = [
  'cali', 'tunl', 'vxlan.calico', 'cni', 'flannel', 'kube-ipvs', 'kube-bridge', 'cilium', 'veth', 'weave',
];

function isSkippedAddress(c: Cidr): boolean {
  if (c.family === 'ipv4') return cidrContains({ address: '127.0.0.0', prefix: 8, family: 'ipv4' }, c.address) || cidrContains({ address: '169.254.0.0', prefix: 16, family: 'ipv4' }, c.address);
  return c.address === '::1' || cidrContains({ address: 'fe80::', prefix: 10, family: 'ipv6' }, c.address);
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
        const addr = parseCidr(text);
        if (!addr || isSkippedAddress(addr)) continue;
        for (const { field, cidr } of ranges) {
          const rangeText = `${cidr.address}/${cidr.prefix}`;
          if (cidrContains(cidr, addr.address)) {
            out.push({
              severity: 'error',
              found: `address ${addr.address} of ${name} inside ${field} ${rangeText}`,
              required: `node addresses outside ${field} ${rangeText}`,
              fix: `choose a cluster.networking.${field} that does not contain the node's networks, or renumber ${name}${name === 'docker0' ? ' (set "bip" in /etc/docker/daemon.json)' : ''}`,
            });
          } else if (cidrOverlaps(cidr, addr)) {
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
