// Reads the (muster-shaped) YAML tree into a Plan: every field from the schema, its default when
// absent, then the computed defaults. Reading never fails: a value of the wrong type is noted as a
// TypeIssue (reported by the `type` check) and replaced by its default, so the remaining checks
// still run and the user sees every problem at once.
import { isMap, isScalar, isSeq, isPair, type Node } from 'yaml';
import type { Plan } from './types.ts';
import { DEFAULT_CONTAINERD_VERSION, PLAN_SCHEMA, type FieldSpec } from './schema.ts';
import { type PathSegment, type PlanSource } from './source.ts';
import { parseSize } from './size.ts';
import { parseCidr, nthAddress, formatIp } from './cidr.ts';

export interface TypeIssue {
  path: PathSegment[];
  message: string;
  fix: string;
}

export interface Compiled {
  plan: Plan;
  typeIssues: TypeIssue[];
}

/** The Plan with every default: what an empty plan file compiles to (cluster.name aside). */
export function defaultPlan(): Plan {
  return finish(read(null, PLAN_SCHEMA, [], [], null) as Plan);
}

export function compilePlan(src: PlanSource): Compiled {
  const typeIssues: TypeIssue[] = [];
  const plan = read(src.root, PLAN_SCHEMA, [], typeIssues, src) as Plan;
  return { plan: finish(plan), typeIssues };
}

/** Computed defaults: counts from named nodes, internal_ip from ip, DNS IP from the service CIDR. */
function finish(plan: Plan): Plan {
  for (const g of [plan.etcd, plan.master, plan.worker]) {
    if (g.expected_count < 0) g.expected_count = g.nodes.length;
    for (const n of g.nodes) if (!n.internal_ip) n.internal_ip = n.ip;
  }
  const net = plan.cluster.networking;
  if (!net.dns_service_ip) net.dns_service_ip = defaultDnsServiceIp(net.service_cidr_block);
  const rt = plan.container_runtime;
  if (!rt.version && rt.type === 'containerd') rt.version = DEFAULT_CONTAINERD_VERSION;
  return plan;
}

/** kubeadm's convention: the 10th address of the service CIDR ("" when the CIDR is unusable). */
export function defaultDnsServiceIp(serviceCidr: string): string {
  const c = parseCidr(serviceCidr);
  const ip = c ? nthAddress(c, 10) : null;
  return ip ? formatIp(ip) : '';
}

const KIND_WORDS: Record<FieldSpec['kind'], string> = {
  string: 'a string', int: 'a whole number', number: 'a number', bool: 'true or false', size: 'a size like 4GiB',
  strings: 'a list of strings', stringMap: 'a mapping of names to strings', object: 'a mapping', list: 'a list',
};

function describe(node: Node): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `${typeof v === 'number' ? 'the number' : 'the value'} ${String(v)}`;
  }
  return 'an unexpected value';
}

function read(raw: unknown, spec: FieldSpec, path: PathSegment[], issues: TypeIssue[], src: PlanSource | null): unknown {
  const node = src ? src.deref(raw) : null;
  const absent = node === null || (isScalar(node) && node.value === null);
  const wrong = (fix: string) => {
    issues.push({ path, message: `must be ${KIND_WORDS[spec.kind]}, not ${describe(node as Node)}`, fix });
  };

  switch (spec.kind) {
    case 'object': {
      if (absent && spec.optional) return null;
      const out: Record<string, unknown> = {};
      if (!absent && !isMap(node)) wrong('write the fields of this section indented below it');
      for (const [key, f] of Object.entries(spec.fields)) {
        const child = isMap(node) ? node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key)?.value : null;
        out[f.kind === 'size' ? f.as : key] = read(child ?? null, f, [...path, key], issues, src);
      }
      return out;
    }
    case 'list': {
      if (absent) return [];
      if (!isSeq(node)) {
        wrong('write one "- " item per line');
        return [];
      }
      return node.items.map((item, i) => read(item, spec.of, [...path, i], issues, src));
    }
    case 'strings': {
      if (absent) return [...spec.default];
      if (!isSeq(node)) {
        wrong('write one "- " item per line, or [a, b]');
        return [...spec.default];
      }
      const out: string[] = [];
      node.items.forEach((item, i) => {
        const s = scalarText(src?.deref(item) ?? null);
        if (s === null) issues.push({ path: [...path, i], message: 'must be a string', fix: 'quote the value' });
        else out.push(s);
      });
      return out;
    }
    case 'stringMap': {
      if (absent) return { ...spec.default };
      if (!isMap(node)) {
        wrong('write one "name: value" per line below it');
        return { ...spec.default };
      }
      const out: Record<string, string> = {};
      for (const p of node.items) {
        if (!isPair(p) || !isScalar(p.key)) continue;
        const key = String(p.key.value);
        const value = src?.deref(p.value) ?? null;
        const s = value === null || (isScalar(value) && value.value === null) ? '' : scalarText(value);
        if (s === null) issues.push({ path: [...path, key], message: `must be a string, not ${describe(value as Node)}`, fix: 'write a plain value' });
        else out[key] = s;
      }
      return out;
    }
    case 'string': {
      if (absent) return spec.default;
      const s = scalarText(node);
      if (s === null) {
        wrong('write a plain value');
        return spec.default;
      }
      if (spec.options && !spec.options.includes(s)) {
        issues.push({ path, message: `must be one of ${spec.options.join(', ')}, not ${JSON.stringify(s)}`, fix: `use ${spec.options.map((o) => JSON.stringify(o)).join(' or ')}` });
        return spec.default;
      }
      return s;
    }
    case 'int':
    case 'number': {
      if (absent) return spec.default;
      const v = isScalar(node) ? node.value : undefined;
      const min = spec.kind === 'int' ? (spec.min ?? -Infinity) : 0;
      if (typeof v !== 'number' || (spec.kind === 'int' && !Number.isInteger(v)) || v < min) {
        issues.push({ path, message: `must be ${KIND_WORDS[spec.kind]}${min > -Infinity ? ` >= ${min}` : ''}, not ${describe(node as Node)}`, fix: 'write a number without quotes' });
        return spec.default;
      }
      return v;
    }
    case 'bool': {
      if (absent) return spec.default;
      const v = isScalar(node) ? node.value : undefined;
      if (typeof v !== 'boolean') {
        wrong('write true or false without quotes');
        return spec.default;
      }
      return v;
    }
    case 'size': {
      if (absent) return spec.default;
      const v = isScalar(node) ? node.value : undefined;
      const bytes = typeof v === 'number' || typeof v === 'string' ? parseSize(v) : null;
      if (bytes === null) {
        wrong('write a number and a unit, e.g. 4GiB: KiB, MiB, GiB, TiB, KB, MB, GB or TB');
        return spec.default;
      }
      return bytes;
    }
  }
}

/** A scalar as the user wrote it: strings as-is, numbers and booleans by their source text. */
function scalarText(node: Node | null): string | null {
  if (!isScalar(node)) return null;
  const v = node.value;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return node.source ?? String(v);
  return null;
}
