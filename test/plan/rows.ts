// Plan texts for the rule tests: a valid base and builders that change one part of it, so each
// table row shows exactly the lines its expected line:column refer to.
export const GROUPS = [
  'etcd: { expected_count: 3, pool: {} }',
  'master: { expected_count: 2, load_balancer: "10.0.0.10:6443", pool: {} }',
  'worker: { expected_count: 3, pool: {} }',
];

/** Line 1 "cluster:", line 2 "  name: prod", then `lines` (indented by the caller) from line 3; groups after. */
export function withCluster(...lines: string[]): string {
  return ['cluster:', '  name: prod', ...lines, ...GROUPS].join('\n') + '\n';
}

/** Line 1 the cluster, then `lines` from line 2 (give all three groups). */
export function withGroups(...lines: string[]): string {
  return ['cluster: { name: prod }', ...lines].join('\n') + '\n';
}

export const VALID = withGroups(...GROUPS);
