// Hostnames become Kubernetes node names and certificate names: each must be a valid DNS-1123
// label and unique in the cluster (two nodes with one name overwrite each other's Node object).
import type { Check } from '../types.ts';
import { notReported } from '../read.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A valid label derived from a hostname, for the fix text ("Web_01.corp" -> "web-01"). */
export function suggestLabel(hostname: string): string {
  const first = hostname.split('.')[0] ?? '';
  const s = first.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return s || 'node-1';
}

export const hostnameValidCheck: Check = {
  name: 'hostname-valid',
  roles: 'all',
  description: 'the hostname is a DNS-1123 label (lower case letters, digits, "-", at most 63 characters)',
  run(ctx) {
    const network = ctx.facts.network;
    if (!network) return [notReported('network')];
    const h = network.hostname ?? '';
    if (h.length <= 63 && DNS1123_LABEL.test(h)) return [];
    return [{
      severity: 'error',
      found: h ? `hostname "${h}"` : 'an empty hostname',
      required: 'a DNS-1123 label: lower case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
      fix: `run "hostnamectl set-hostname ${suggestLabel(h)}" (or another valid name)`,
    }];
  },
};

/** How many namesakes a finding names; more are "and others". */
export const MAX_NAMED = 3;

export const hostnameUniqueCheck: Check = {
  name: 'hostname-unique',
  scope: 'cluster',
  roles: 'all',
  description: 'no other node of the cluster has the same hostname',
  run(ctx) {
    const h = (ctx.facts.network?.hostname ?? '').toLowerCase();
    if (!h || !ctx.clusterHostnames) return [];
    const others = ctx.clusterHostnames.filter((c) => c.node !== ctx.node && c.hostname.toLowerCase() === h).map((c) => c.node);
    if (others.length === 0) return [];
    // A fleet of clones can share one name: name a few, not thousands.
    const named = others.length > MAX_NAMED ? `${others.slice(0, MAX_NAMED).join(', ')} and others` : others.join(', ');
    return [{
      severity: 'error',
      found: `hostname "${h}" also used by ${others.length === 1 ? 'node' : 'nodes'} ${named}`,
      required: 'a hostname unique in the cluster',
      fix: `give ${ctx.node} a unique hostname ("hostnamectl set-hostname <name>") and restart muster-agent`,
    }];
  },
};
