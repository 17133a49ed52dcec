// IP addresses as the coordinator compares them: one spelling per address, and which addresses
// can be a node's at all.
import { isIP } from 'node:net';

/**
 * One spelling per address: IPv6 compressed and lower-case, IPv4-mapped IPv6 (::ffff:1.2.3.4,
 * ::ffff:102:304) as the IPv4 address it is. Anything else is returned unchanged.
 */
export function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const h = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (!m) return h;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * Why `ip` cannot be a node's address (the unspecified address, multicast, broadcast), or null.
 * Loopback is allowed: simulated nodes (tests, the demo) live on 127.0.0.0/8.
 */
export function unusableNodeAddress(ip: string): string | null {
  const c = canonicalIp(ip);
  if (c === '0.0.0.0' || c === '::') return 'the unspecified address';
  if (c === '255.255.255.255') return 'the broadcast address';
  if (isIP(c) === 4 && Number(c.split('.')[0]) >= 224 && Number(c.split('.')[0]) <= 239) return 'a multicast address';
  if (isIP(c) === 6 && c.startsWith('ff')) return 'a multicast address';
  return null;
}
