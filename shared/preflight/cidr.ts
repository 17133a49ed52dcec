// Just enough CIDR arithmetic for the address checks, on top of node:net's BlockList (which
// handles IPv4 and IPv6 and masks a host address to its network).
import { BlockList, isIP } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** "10.0.0.5/24" -> { address, prefix, family }; null when it is not a CIDR. A bare address is a /32 or /128. */
export function parseCidr(text: string): Cidr | null {
  const [address = '', prefixText] = text.trim().split('/');
  const v = isIP(address);
  if (v === 0) return null;
  const family = v === 4 ? 'ipv4' : 'ipv6';
  const bits = v === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return null;
  return { address, prefix, family };
}

function within(net: Cidr, prefix: number, address: string): boolean {
  const b = new BlockList();
  b.addSubnet(net.address, prefix, net.family);
  return b.check(address, net.family);
}

/** Whether the address lies inside the network. */
export function cidrContains(net: Cidr, address: string): boolean {
  const v = isIP(address);
  if (v === 0 || (v === 4) !== (net.family === 'ipv4')) return false;
  return within(net, net.prefix, address);
}

/** Whether two networks share any address: they agree on the shorter of the two prefixes. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  return within(a, Math.min(a.prefix, b.prefix), b.address);
}
