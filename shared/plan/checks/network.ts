// Network rules: pod and service CIDRs (syntax, overlap with each other and with node addresses,
// pod CIDR big enough for every node's block), the cluster DNS address and the BGP AS number.
import { defineCheck } from './check.ts';
import type { CheckContext } from './check.ts';
import type { Plan } from '../types.ts';
import { hostnameErrors } from '../k8s-names.ts';
import { parseCidr, parseIp, cidrsOverlap, cidrContains, nthAddress, formatIp, formatCidr, type Cidr } from '../cidr.ts';

const POD = 'cluster.networking.pod_cidr_block';
const SERVICE = 'cluster.networking.service_cidr_block';
const BLOCK = 'cluster.networking.pod_block_size';
const DNS = 'cluster.networking.dns_service_ip';
const BGP = 'cluster.networking.bgp_as_number';

/** Kubernetes caps a service CIDR at 2^20 addresses (kube-apiserver: "too large"). */
const MAX_SERVICE_HOST_BITS = 20;

function cidrs(plan: Plan): { pod: Cidr | null; service: Cidr | null } {
  return { pod: parseCidr(plan.cluster.networking.pod_cidr_block), service: parseCidr(plan.cluster.networking.service_cidr_block) };
}

/** " (line N)" for a field the user wrote; nothing for a default. */
function lineOf(ctx: CheckContext, path: string): string {
  if (!ctx.source.has(path)) return '';
  const { line } = ctx.source.locate(path);
  return line > 0 ? ` (line ${line})` : '';
}

export const cidrCheck = defineCheck('cidr', (ctx, r) => {
  const net = ctx.plan.cluster.networking;
  const parsed: Record<string, Cidr | null> = {};
  for (const [path, value, what, example] of [
    [POD, net.pod_cidr_block, 'pod', '172.16.0.0/16'],
    [SERVICE, net.service_cidr_block, 'service', '172.17.0.0/16'],
  ] as const) {
    if (!value.trim()) {
      r.error(path, `the ${what} CIDR block is empty`, `set a CIDR block such as ${example}`);
      continue;
    }
    const c = parseCidr(value);
    parsed[what] = c;
    if (!c) {
      r.error(path, `"${value}" is not a CIDR block`, `write an address and a prefix length, e.g. ${example}`);
    } else if (c.hostBitsSet) {
      r.warning(path, `"${value}" has host bits set; it means ${formatCidr(c)}`, `write ${formatCidr(c)}`);
    }
  }
  const service = parsed.service;
  if (service) {
    const hostBits = (service.family === 4 ? 32 : 128) - service.prefix;
    if (hostBits > MAX_SERVICE_HOST_BITS) {
      const min = (service.family === 4 ? 32 : 128) - MAX_SERVICE_HOST_BITS;
      r.error(SERVICE, `${formatCidr(service)} is too large: Kubernetes allows at most 2^20 service addresses`, `use a /${min} or smaller block, e.g. 172.17.0.0/16`);
    }
  }
  if (parsed.pod && service && parsed.pod.family !== service.family) {
    r.error(SERVICE, `the service CIDR is IPv${service.family} but the pod CIDR is IPv${parsed.pod.family}`, 'use the same address family for both; dual stack is not supported');
  }
});

export const cidrOverlapCheck = defineCheck('cidr-overlap', (ctx, r) => {
  const { pod, service } = cidrs(ctx.plan);
  const net = ctx.plan.cluster.networking;
  if (pod && service && cidrsOverlap(pod, service)) {
    // Point at the range the user wrote (the service one when both are written).
    const [path, other, otherPath] = ctx.source.has(SERVICE) ? [SERVICE, 'pod', POD] : [POD, 'service', SERVICE];
    const [mine, theirs] = path === SERVICE ? [net.service_cidr_block, net.pod_cidr_block] : [net.pod_cidr_block, net.service_cidr_block];
    r.error(path, `${mine} overlaps the ${other} CIDR ${theirs}${lineOf(ctx, otherPath)}`, 'choose pod and service ranges that do not overlap, e.g. 172.16.0.0/16 and 172.17.0.0/16');
  }
  const ranges = [
    ['pod', POD, pod],
    ['service', SERVICE, service],
  ] as const;
  for (const group of ['etcd', 'master', 'worker'] as const) {
    ctx.plan[group].nodes.forEach((node, i) => {
      for (const field of ['ip', 'internal_ip'] as const) {
        if (field === 'internal_ip' && (node.internal_ip === node.ip || !ctx.source.has(`${group}.nodes[${i}].internal_ip`))) continue;
        const ip = parseIp(node[field]);
        if (!ip) continue;
        for (const [what, rangePath, range] of ranges) {
          if (range && cidrContains(range, ip)) {
            r.error(`${group}.nodes[${i}].${field}`, `${node[field]} (node ${node.host || '?'}) lies inside the ${what} CIDR ${formatCidr(range)}${lineOf(ctx, rangePath)}`, `choose a ${what} CIDR that does not contain node addresses`);
          }
        }
      }
    });
  }
});

export const podCidrSizeCheck = defineCheck('pod-cidr-size', (ctx, r) => {
  const { pod } = cidrs(ctx.plan);
  const block = ctx.plan.cluster.networking.pod_block_size;
  if (!pod || !isPowerOfTwo(block)) return;
  const masters = ctx.plan.master.expected_count;
  const workers = ctx.plan.worker.expected_count;
  const nodes = masters + workers;
  const needed = BigInt(nodes) * BigInt(block);
  if (nodes === 0 || pod.size >= needed) return;
  const bits = pod.family === 4 ? 32 : 128;
  let prefix = bits;
  while (prefix > 0 && 1n << BigInt(bits - prefix) < needed) prefix--;
  r.error(
    POD,
    `${formatCidr(pod)} has ${pod.size} addresses, but ${nodes} nodes (${masters} masters + ${workers} workers) need ${nodes} x ${block} = ${needed}`,
    `use a /${prefix} or larger block, or a smaller pod_block_size`,
  );
});

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0 && n <= 2 ** 30;
}

export const podBlockSizeCheck = defineCheck('pod-block-size', (ctx, r) => {
  const n = ctx.plan.cluster.networking.pod_block_size;
  if (isPowerOfTwo(n)) return;
  let lower = 1;
  while (lower * 2 <= n) lower *= 2;
  r.error(BLOCK, `${n} is not a power of two; nodes take pod addresses in aligned blocks`, `use ${lower} or ${lower * 2}; 64 is a /26 per node`);
});

export const dnsServiceIpCheck = defineCheck('dns-service-ip', (ctx, r) => {
  const { service } = cidrs(ctx.plan);
  const value = ctx.plan.cluster.networking.dns_service_ip;
  if (!service) return;
  const suggestion = nthAddress(service, 10);
  const fix = suggestion ? `use an address inside ${formatCidr(service)} such as ${formatIp(suggestion)}` : `use a larger service CIDR`;
  if (!value) {
    r.error(DNS, `the service CIDR ${formatCidr(service)} is too small to hold the cluster DNS address`, 'use a service CIDR of /28 or larger');
    return;
  }
  const ip = parseIp(value);
  if (!ip) {
    r.error(DNS, `"${value}" is not an IP address`, fix);
    return;
  }
  if (!cidrContains(service, ip)) {
    r.error(DNS, `${value} is outside the service CIDR ${formatCidr(service)}${lineOf(ctx, SERVICE)}`, fix);
  } else if (ip.value === service.base + 1n) {
    r.error(DNS, `${value} is the API server's service address (the first address of ${formatCidr(service)})`, fix);
  } else if (ip.value === service.base || (ip.family === 4 && ip.value === service.base + service.size - 1n)) {
    r.error(DNS, `${value} is the ${ip.value === service.base ? 'network' : 'broadcast'} address of ${formatCidr(service)}`, fix);
  }
});

export const bgpAsCheck = defineCheck('bgp-as', (ctx, r) => {
  const as = ctx.plan.cluster.networking.bgp_as_number;
  if (as < 1 || as > 4_294_967_295) {
    r.error(BGP, `${as} is not an AS number (1-4294967295)`, 'use a private AS number, 64512-65534 or 4200000000-4294967294');
    return;
  }
  if (ctx.plan.cluster.networking.type !== 'routed') return; // only routed networking speaks BGP
  if ((as >= 64496 && as <= 64511) || (as >= 65536 && as <= 65551)) {
    const note = ctx.source.has(BGP) ? '' : ' (the default, from the Kismatic seed)';
    r.warning(BGP, `${as}${note} is in the documentation range of RFC 5398, not meant for real networks`, 'use a private AS number, 64512-65534 such as 64512, or the one your network team assigns');
  }
});

/** The DNS suffix of services (my-svc.my-ns.svc.<domain>): a DNS name, as the kubelet's --cluster-domain needs. */
export const clusterDomainCheck = defineCheck('cluster-domain', (ctx, r) => {
  const d = ctx.plan.cluster.networking.cluster_domain;
  if (hostnameErrors(d).length) r.error('cluster.networking.cluster_domain', `"${d}" is not a lowercase DNS name`, 'write a domain such as cluster.local');
});

/** no_proxy entries: host names, .domains, *, IP addresses and CIDRs (Go's httpproxy syntax). */
const NO_PROXY_ENTRY = /^(\*|\.?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?|[0-9A-Fa-f:.[\]]+(\/\d{1,3})?)$/;

export const proxyCheck = defineCheck('proxy', (ctx, r) => {
  const net = ctx.plan.cluster.networking;
  for (const field of ['http_proxy', 'https_proxy'] as const) {
    const v = net[field];
    if (!v) continue;
    let ok = false;
    try {
      const u = new URL(v);
      ok = (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'socks5:') && !!u.hostname && !/[\s"'\\%]/.test(v);
    } catch { /* not a URL */ }
    if (!ok) r.error(`cluster.networking.${field}`, `"${v}" is not a proxy URL`, 'write http://proxy.example.com:3128 (http, https or socks5; no spaces or quotes)');
  }
  const bad = net.no_proxy.split(',').map((e) => e.trim()).filter((e) => e && !NO_PROXY_ENTRY.test(e));
  if (bad.length) r.error('cluster.networking.no_proxy', `${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length === 1 ? 'is not a' : 'are not'} no_proxy ${bad.length === 1 ? 'entry' : 'entries'}`, 'write host names, .domains, IP addresses or CIDRs separated by commas, e.g. localhost,.svc,10.0.0.0/8');
});
