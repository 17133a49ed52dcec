// Shape rules: fields the plan format does not know (with a did-you-mean), values of the wrong
// type, and the fields a plan cannot do without.
import { isMap, isPair, isScalar, isSeq, type Node } from 'yaml';
import { defineCheck, ANY_KEYS, type KeyTree, type PlanCheck } from './check.ts';
import type { PlanProblem } from '../problem.ts';
import { formatPath, type PathSegment, type PlanSource } from '../source.ts';
import { didYouMean } from '../suggest.ts';
import { PLAN_SCHEMA, type FieldSpec } from '../schema.ts';

/** The known-keys tree of a schema (list items share their element's keys). */
export function keyTreeOf(spec: FieldSpec): KeyTree | null {
  switch (spec.kind) {
    case 'object':
      return Object.fromEntries(Object.entries(spec.fields).map(([k, f]) => [k, keyTreeOf(f)]));
    case 'list':
      return keyTreeOf(spec.of);
    case 'stringMap':
      return ANY_KEYS;
    default:
      return null;
  }
}

export const MUSTER_KEYS = keyTreeOf(PLAN_SCHEMA) as KeyTree;

export const unknownFieldCheck: PlanCheck = {
  name: 'unknown-field',
  check(ctx) {
    const out: PlanProblem[] = [];
    walkKeys(ctx.source, ctx.source.document.contents as Node | null, ctx.knownKeys, [], out);
    return out;
  },
};

function walkKeys(src: PlanSource, raw: Node | null, tree: KeyTree | null, path: PathSegment[], out: PlanProblem[]): void {
  const node = src.deref(raw);
  if (tree === ANY_KEYS || tree === null || !node) return;
  if (isSeq(node)) {
    node.items.forEach((item, i) => walkKeys(src, item as Node, tree, [...path, i], out));
    return;
  }
  if (!isMap(node)) return;
  for (const pair of node.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    const childPath = [...path, key];
    if (Object.hasOwn(tree, key)) {
      walkKeys(src, pair.value as Node | null, tree[key] ?? null, childPath, out);
      continue;
    }
    const known = Object.keys(tree);
    const guess = didYouMean(key, known);
    const where = path.length ? `in ${formatPath(path)}` : 'at the top level';
    const { line, column } = src.position(pair.key as Node);
    out.push({
      severity: 'error', rule: 'unknown-field', file: src.file, line, column, path: formatPath(childPath),
      message: `unknown field "${key}"${guess ? `; did you mean "${guess}"?` : ''}`,
      fix: guess ? `rename it to "${guess}"` : `remove it; known fields ${where}: ${known.join(', ')}`,
    });
  }
}

export const typeCheck = defineCheck('type', (ctx, r) => {
  for (const t of ctx.typeIssues) r.error(formatPath(t.path), t.message, t.fix);
});

export const requiredCheck = defineCheck('required', (ctx, r) => {
  if (!ctx.plan.cluster.name.trim()) r.error('cluster.name', 'is required', 'name the cluster, e.g. "name: production"');
});

