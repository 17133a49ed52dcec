// IPv4/IPv6 addresses and CIDR blocks as BigInt ranges, for the network checks of a plan
// (overlap, containment, size). Node's `net` only answers "is this an IP"; the arithmetic is here.
import { isIP } from 'node:net';

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  value: bigint;
}

export interface Cidr {
  family: IpFamily;
  /** The network address (host bits cleared). */
  base: bigint;
  prefix: number;
  /** Number of addresses in the block. */
  size: bigint;
  /** True when the text had host bits set (e.g. 10.1.2.3/16); the block is still base/prefix. */
  hostBitsSet: boolean;
}

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

export function parseIp(text: string): IpAddress | null {
  const s = text.trim();
  const family = isIP(s);
  if (family === 4) {
    const value = s.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, value };
  }
  if (family === 6) return { family: 6, value: parseIpv6(s) };
  return null;
}

function parseIpv6(s: string): bigint {
  let text = s.split('%')[0] ?? s; // drop a zone id
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = parseIp(v4[1])?.value ?? 0n;
    text = `${text.slice(0, v4.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

export function formatIp(addr: IpAddress): string {
  if (addr.family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((addr.value >> shift) & 0xffn)).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((addr.value >> BigInt((7 - i) * 16)) & 0xffffn));
  // Compress the longest run of two or more zero groups (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function parseCidr(text: string): Cidr | null {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m?.[1] || !m[2]) return null;
  const addr = parseIp(m[1]);
  if (!addr) return null;
  const bits = BITS[addr.family];
  const prefix = Number(m[2]);
  if (prefix > bits) return null;
  const hostBits = BigInt(bits - prefix);
  const size = 1n << hostBits;
  const base = (addr.value >> hostBits) << hostBits;
  return { family: addr.family, base, prefix, size, hostBitsSet: base !== addr.value };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.base })}/${c.prefix}`;
}

export function cidrContains(c: Cidr, ip: IpAddress): boolean {
  return c.family === ip.family && ip.value >= c.base && ip.value < c.base + c.size;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.base < b.base + b.size && b.base < a.base + a.size;
}

/** The n-th address of a block (0 = the network address); null when the block is too small. */
export function nthAddress(c: Cidr, n: number): IpAddress | null {
  const i = BigInt(n);
  return i >= 0n && i < c.size ? { family: c.family, value: c.base + i } : null;
}
