// What a plan change does to each node: the roles before and after and every other assignment
// field that changes, for `muster plan apply --dry-run`. Pure; compares the engine's bodies.
import { jsonEqual, stableStringify } from '../../shared/json.ts';
import { compareText } from './order.ts';

export interface NodeChange {
  name: string;
  rolesBefore: string[];
  rolesAfter: string[];
  /** "kubernetes_version: v1.35.1 -> v1.36.3", "networking.pod_cidr: ... -> ...", "hosts_entries changed". */
  fields: string[];
}

type Body = { roles?: readonly string[] } & Record<string, unknown>;

/** Fields that are not the engine's (the PKI target is added by the state layer). */
const SKIP = new Set(['roles', 'pki']);
const SHORT = 60;

function show(v: unknown): string | null {
  if (v === undefined || v === null) return '(none)';
  const t = typeof v === 'string' ? (v === '' ? '""' : v) : stableStringify(v);
  return t.length <= SHORT ? t : null;
}

function diffFields(prefix: string, a: Record<string, unknown>, b: Record<string, unknown>, depth: number, out: string[]): void {
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(compareText)) {
    if (depth === 0 && SKIP.has(key)) continue;
    const [x, y] = [a[key], b[key]];
    // Compared as their JSON would be, without making it (two texts per field per node were a
    // tenth of a plan change at 10,000 nodes); only a changed field is printed.
    if (jsonEqual(x ?? null, y ?? null)) continue;
    const path = `${prefix}${key}`;
    const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (depth === 0 && isObj(x) && isObj(y)) {
      diffFields(`${path}.`, x as Record<string, unknown>, y as Record<string, unknown>, depth + 1, out);
      continue;
    }
    const [sx, sy] = [show(x), show(y)];
    out.push(sx !== null && sy !== null ? `${path}: ${sx} -> ${sy}` : `${path} changed`);
  }
}

/** Every node in either map whose body differs, in name order. */
export function nodeChanges(before: ReadonlyMap<string, Body>, after: ReadonlyMap<string, Body>): NodeChange[] {
  const out: NodeChange[] = [];
  for (const name of [...new Set([...before.keys(), ...after.keys()])].sort(compareText)) {
    const [a, b] = [before.get(name), after.get(name)];
    const fields: string[] = [];
    if (a && b) diffFields('', a, b, 0, fields);
    else if (b) fields.push('a first assignment');
    else fields.push('no assignment any more');
    const rolesBefore = [...(a?.roles ?? [])].sort();
    const rolesAfter = [...(b?.roles ?? [])].sort();
    if (fields.length || rolesBefore.join() !== rolesAfter.join()) out.push({ name, rolesBefore, rolesAfter, fields: a && b ? fields : [] });
  }
  return out;
}
