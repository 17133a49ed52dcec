// Deterministic ordering and short name lists: the engine sorts everything it iterates so the
// same input, in any order, gives byte-identical output.
import { ROLES, type Role } from '../../shared/constants.ts';
import type { RegisteredNode } from './types.ts';
import { parseIp } from '../../shared/plan/cidr.ts';

/** Pool order: who joined first, then node name. */
export function compareNodes(a: RegisteredNode, b: RegisteredNode): number {
  return a.joinedAtMs - b.joinedAtMs || compareText(a.name, b.name);
}

/** Code-point order, independent of locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** IPv4 addresses numerically, then IPv6 numerically, then anything else by text. */
export function compareAddresses(a: string, b: string): number {
  const x = parseIp(a);
  const y = parseIp(b);
  if (x && y) return x.family - y.family || (x.value < y.value ? -1 : x.value > y.value ? 1 : compareText(a, b));
  if (x) return -1;
  if (y) return 1;
  return compareText(a, b);
}

/** Roles deduplicated, in ROLES order (etcd, master, worker). */
export function sortRoles(roles: Iterable<Role>): Role[] {
  const set = new Set(roles);
  return ROLES.filter((r) => set.has(r));
}

/** "a, b, c and 7 more": enough names to act on without flooding a status line. */
export function listNames(names: readonly string[], max = 5): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/** "1.5 GiB": byte counts in the unit people size machines by. */
export function formatGiB(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** host:port with IPv6 literals bracketed. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
