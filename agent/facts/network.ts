// Network: hostname and FQDN, interfaces (addresses in CIDR form, MTU, state, MAC), and the
// interface of the default route with the address the node most likely uses to reach others.
import { endianness, hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { CompiledCollectOptions } from './options.ts';
import { cidrContains, parseCidr, parseIp } from '../../shared/plan/cidr.ts';
import type { InterfaceFact, NetworkSection } from './types.ts';

/** /proc/net/* writes IPv4 addresses as host-order hex: "0100007F" = 127.0.0.1 on x86 and ARM. */
export function hexToIPv4(hex: string): string {
  const n = parseInt(hex, 16) >>> 0;
  const be = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return (endianness() === 'LE' ? be.reverse() : be).join('.');
}

export interface DefaultRoute {
  iface: string;
  /** Gateway address; '' when the route has none (point-to-point links). */
  gateway: string;
  family: 'IPv4' | 'IPv6';
}

/** The IPv4 default route with the lowest metric from /proc/net/route, or null. */
export function parseDefaultRoute(text: string): DefaultRoute | null {
  let best: { route: DefaultRoute; metric: number } | null = null;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const [iface, dest, gateway, flags, , , metric, mask] = f;
    if (!iface || dest !== '00000000' || mask !== '00000000') continue;
    if ((parseInt(flags ?? '0', 16) & 0x1) === 0) continue; // RTF_UP
    const m = Number(metric);
    if (!best || m < best.metric) best = { route: { iface, gateway: gateway === '00000000' ? '' : hexToIPv4(gateway ?? ''), family: 'IPv4' }, metric: m };
  }
  return best?.route ?? null;
}

/** The IPv6 default route (::/0, up, not the kernel's unreachable entry on lo) from /proc/net/ipv6_route. */
export function parseDefaultRoute6(text: string): DefaultRoute | null {
  let best: { route: DefaultRoute; metric: number } | null = null;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dest, prefix, , , nextHop, metric, , , flags, iface] = f;
    if (!iface || iface === 'lo' || !/^0+$/.test(dest ?? '') || prefix !== '00') continue;
    if ((parseInt(flags ?? '0', 16) & 0x1) === 0) continue;
    const m = parseInt(metric ?? '0', 16);
    const gw = /^0+$/.test(nextHop ?? '') ? '' : hexToIPv6(nextHop ?? '');
    if (!best || m < best.metric) best = { route: { iface, gateway: gw, family: 'IPv6' }, metric: m };
  }
  return best?.route ?? null;
}

/** 32 hex digits in network order (ipv6_route, if_inet6) to compressed text form. */
export function hexToIPv6(hex: string): string {
  const groups: number[] = [];
  for (let i = 0; i < 32; i += 4) groups.push(parseInt(hex.slice(i, i + 4), 16));
  return formatIPv6(groups);
}

/** RFC 5952 text form of 8 16-bit groups (longest run of two or more zero groups becomes ::). */
export function formatIPv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** True when IPv4 `ip` is inside `cidr` ("10.0.0.5/24"; host bits may be set). */
export function ipv4InCidr(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  const a = parseIp(ip);
  return Boolean(c && a && c.family === 4 && cidrContains(c, a));
}

/**
 * The FQDN as glibc's `hostname -f` finds it through /etc/hosts (the canonical, first name of the
 * line that lists the host name), else the host name qualified with resolv.conf's domain, else the
 * host name. No DNS query is made: collection stays fast and works offline.
 */
export function fqdnOf(hostname: string, hostsText: string, resolvText: string): string {
  if (!hostname) return '';
  for (const raw of hostsText.split('\n')) {
    const names = raw.replace(/#.*/, '').trim().split(/\s+/).slice(1);
    if (!names.includes(hostname) && !names.some((n) => n.startsWith(`${hostname}.`))) continue;
    const canonical = names[0] ?? hostname;
    // "127.0.0.1 localhost myhost" would make glibc answer "localhost": not this host's name.
    if (canonical === hostname || canonical.startsWith(`${hostname}.`)) return canonical;
    return names.find((n) => n.startsWith(`${hostname}.`)) ?? hostname;
  }
  if (hostname.includes('.')) return hostname;
  for (const raw of resolvText.split('\n')) {
    const m = /^\s*(domain|search)\s+(\S+)/.exec(raw);
    if (m?.[2]) return `${hostname}.${m[2].replace(/\.$/, '')}`;
  }
  return hostname;
}

/**
 * Host-side ends of pod network links (veth*, Calico's cali*, Cilium's lxc*) come and go with
 * every pod; listing them would make the network section change all the time. The bridges and
 * tunnels they attach to (cni0, docker0, tunl0, vxlan.calico, flannel.1) are kept.
 */
const POD_LINK_RE = /^(veth|cali|lxc)[0-9a-f]/;

export function collectNetwork(o: CompiledCollectOptions): NetworkSection {
  const netDir = join(o.sysRoot, 'class/net');
  const addresses = o.io.interfaceAddresses();
  const names = [...new Set([...o.io.list(netDir), ...Object.keys(addresses)])]
    .filter((n) => !POD_LINK_RE.test(n))
    .sort();
  const interfaces: InterfaceFact[] = names.map((name) => {
    const read = (file: string) => o.io.readText(join(netDir, name, file))?.trim() ?? '';
    const addrs = addresses[name] ?? [];
    return {
      name,
      addresses: addrs.map((a) => a.cidr),
      mtu: Number(read('mtu')) || 0,
      // operstate verbatim, as `ip link` shows it (loopback says "unknown").
      state: read('operstate') || 'unknown',
      mac: read('address'),
    };
  });

  const route =
    parseDefaultRoute(o.io.readText(join(o.procRoot, 'net/route')) ?? '') ??
    parseDefaultRoute6(o.io.readText(join(o.procRoot, 'net/ipv6_route')) ?? '');
  let defaultAddress = '';
  if (route) {
    const own = addresses[route.iface] ?? [];
    if (route.family === 'IPv4') {
      const v4 = own.filter((a) => a.family === 'IPv4');
      defaultAddress = (v4.find((a) => route.gateway && ipv4InCidr(route.gateway, a.cidr)) ?? v4[0])?.address ?? '';
    } else {
      defaultAddress = own.find((a) => a.family === 'IPv6' && !/^fe80:/i.test(a.address))?.address ?? '';
    }
  }

  const hostname = o.io.readText(join(o.procRoot, 'sys/kernel/hostname'))?.trim() || osHostname();
  return {
    hostname,
    fqdn: fqdnOf(hostname, o.io.readText(join(o.etcRoot, 'hosts')) ?? '', o.io.readText(join(o.etcRoot, 'resolv.conf')) ?? ''),
    interfaces,
    default_interface: route?.iface ?? '',
    default_address: defaultAddress,
  };
}
