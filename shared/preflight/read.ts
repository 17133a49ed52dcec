// Reading fact values. Facts arrive in the proto's input shape (64-bit fields may be number,
// string or Long), and a section the node did not report is missing; these helpers turn both
// into plain values so the checks stay short.
import type { Finding } from './types.ts';

type LongLike = { toNumber(): number };

/** A proto numeric field as a number; 0 when unset. */
export function num(v: number | string | LongLike | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v) || 0;
  return v.toNumber();
}

/** The finding for a facts section the node did not report: it cannot be checked, so it blocks. */
export function notReported(section: string): Finding {
  return {
    severity: 'error',
    found: `no ${section} facts reported by the node`,
    required: `${section} facts from muster-agent`,
    fix: 'check that muster-agent runs on the node and can read /proc, /sys and /etc/os-release (see its log)',
  };
}

/** "etcd, master" for messages. */
export function roleList(roles: readonly string[]): string {
  return roles.length ? roles.join(', ') : 'no role';
}
