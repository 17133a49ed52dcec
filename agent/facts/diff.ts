// Which sections of the facts changed since the last report, so a steady node sends (almost)
// nothing. Compare against the facts the coordinator last acknowledged -- mergeFacts(previous,
// diff.facts) -- not against the previous collection: otherwise a slow drift (a disk filling
// 10 MiB a minute) would never add up to a reported change.
import type { Facts } from '../../proto/gen/types/muster/v1/Facts.ts';
import { SECTION_NAMES } from './types.ts';
import type { SectionName } from './types.ts';

/** Changes of free memory, free disk and used swap below this fraction of the old value are noise... */
export const NOISE_FRACTION = 0.05;
/** ...and so are changes below this many bytes, whatever the fraction. */
export const NOISE_FLOOR_BYTES = 64 * 1024 * 1024;
/** A clock offset that moved less than this is measurement jitter (etcd warns at 1 s of skew). */
export const CLOCK_NOISE_MS = 100;

export interface FactsDiff {
  /** The sections to send: all of them when `full`, else only the changed ones. */
  facts: Facts;
  full: boolean;
  /** Names of the sections in `facts`. */
  changed: SectionName[];
}

export function diffFacts(previous: Facts | null, next: Facts): FactsDiff {
  const present = SECTION_NAMES.filter((s) => next[s] != null);
  if (!previous) return { facts: { ...next }, full: true, changed: present };
  const facts: Facts = {};
  const changed: SectionName[] = [];
  for (const name of present) {
    if (sameSection(name, previous[name], next[name])) continue;
    (facts as Record<SectionName, unknown>)[name] = next[name];
    changed.push(name);
  }
  return { facts, full: false, changed };
}

/** `base` with the sections `update` sets replaced: what the receiver of a diff now knows. */
export function mergeFacts(base: Facts | null, update: Facts): Facts {
  const out: Facts = { ...base };
  for (const name of SECTION_NAMES) {
    if (update[name] != null) (out as Record<SectionName, unknown>)[name] = update[name];
  }
  return out;
}

type Loose = Record<string, unknown>;

function sameSection(name: SectionName, a: unknown, b: unknown): boolean {
  if (a == null || b == null) return a == null && b == null;
  const x = a as Loose;
  const y = b as Loose;
  switch (name) {
    case 'memory':
      return (
        deepEqual(x.total_bytes, y.total_bytes) &&
        deepEqual(x.swap_total_bytes, y.swap_total_bytes) &&
        withinNoise(x.available_bytes, y.available_bytes) &&
        withinNoise(x.swap_used_bytes, y.swap_used_bytes)
      );
    case 'disks': {
      const fa = (x.filesystems as Loose[] | undefined) ?? [];
      const fb = (y.filesystems as Loose[] | undefined) ?? [];
      return (
        deepEqual(x.var_lib_mount, y.var_lib_mount) &&
        fa.length === fb.length &&
        fa.every((f, i) => {
          const g = fb[i] ?? {};
          const { free_bytes: ff, ...restF } = f;
          const { free_bytes: gf, ...restG } = g;
          return deepEqual(restF, restG) && withinNoise(ff, gf);
        })
      );
    }
    case 'clock':
      return Math.abs(toNumber(x.offset_ms) - toNumber(y.offset_ms)) < CLOCK_NOISE_MS;
    default:
      return deepEqual(a, b);
  }
}

function withinNoise(a: unknown, b: unknown): boolean {
  const x = toNumber(a);
  const y = toNumber(b);
  return Math.abs(x - y) < Math.max(NOISE_FLOOR_BYTES, NOISE_FRACTION * Math.abs(x));
}

/** uint64 fields may arrive as number, decimal string or Long (the proto input type allows all three). */
function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return 0;
}

function isLong(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { toNumber?: unknown }).toNumber === 'function';
}

/** Structural equality; key order does not matter, numbers compare by value whatever their encoding. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  if (isLong(a) || isLong(b) || (typeof a === 'number') !== (typeof b === 'number')) {
    const numeric = (v: unknown) => typeof v === 'number' || typeof v === 'string' || isLong(v);
    return numeric(a) && numeric(b) && toNumber(a) === toNumber(b);
  }
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  const ka = Object.keys(a as Loose).filter((k) => (a as Loose)[k] !== undefined);
  const kb = Object.keys(b as Loose).filter((k) => (b as Loose)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Loose)[k], (b as Loose)[k]));
}
