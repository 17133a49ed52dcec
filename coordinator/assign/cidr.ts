// Pod block arithmetic: splitting the pod CIDR into equal blocks, naming the i-th block, and
// finding a stored block's index. Address parsing and ranges come from shared/plan/cidr.ts (the
// plan validator's module); this file adds only what allocation needs. Pod blocks are IPv4.
import { formatCidr, formatIp, nthAddress, parseCidr, type Cidr } from '../../shared/plan/cidr.ts';

export type { Cidr };

/** The pod CIDR as an IPv4 range, or null when the text is not one. */
export function parseIPv4Cidr(text: string): Cidr | null {
  const c = parseCidr(text);
  return c && c.family === 4 ? c : null;
}

/** Prefix length of a block of `size` addresses inside `range`, or null unless size is a power of two that fits. */
export function blockPrefix(range: Cidr, size: number): number | null {
  if (!Number.isSafeInteger(size) || size < 1 || BigInt(size) > range.size) return null;
  const bits = Math.log2(size);
  return Number.isInteger(bits) ? (range.family === 4 ? 32 : 128) - bits : null;
}

/** How many blocks of `size` addresses fit in the range (0 when size is invalid or too large). */
export function blockCount(range: Cidr, size: number): number {
  return blockPrefix(range, size) === null ? 0 : Number(range.size / BigInt(size));
}

/** The i-th block of `size` addresses, as text ("172.16.0.64/26"). */
export function nthBlock(range: Cidr, size: number, i: number): string {
  const block = BigInt(size);
  return formatCidr({ family: range.family, base: range.base + BigInt(i) * block, prefix: blockPrefix(range, size)!, size: block, hostBitsSet: false });
}

/**
 * Index of `block` among the range's blocks of `size`, or -1 when it is not exactly one of them
 * (malformed, other size, host bits set, or outside the range).
 */
export function blockIndex(range: Cidr, size: number, block: string): number {
  const b = parseCidr(block);
  if (!b || b.family !== range.family || b.hostBitsSet || b.size !== BigInt(size)) return -1;
  if (b.base < range.base || b.base + b.size > range.base + range.size) return -1;
  return Number((b.base - range.base) / b.size);
}

/** The first address of a range after its network address ("10.96.0.0/12" -> "10.96.0.1"): the `kubernetes` service IP. */
export function firstServiceAddress(text: string): string {
  const c = parseCidr(text);
  const a = c && nthAddress(c, 1);
  return a ? formatIp(a) : '';
}
