// Plan texts for tests that run a small fleet: named nodes per group, preflight ignored (every
// node is one machine here), the usual networks. The tests that are about preflight or the plan
// itself write their own.
export interface FleetNode {
  name: string;
  ip: string;
}

export interface FleetPlan {
  name: string;
  etcd: readonly FleetNode[];
  masters: readonly FleetNode[];
  workers: readonly FleetNode[];
  /** Extra lines under `cluster:` (indented by two). */
  cluster?: string;
}

const group = (nodes: readonly FleetNode[]) => `  expected_count: ${nodes.length}${nodes.length ? `\n  nodes:\n${nodes.map((n) => `    - { host: ${n.name}, ip: ${n.ip} }`).join('\n')}` : ''}`;

export function fleetPlan(p: FleetPlan): string {
  return `cluster:
  name: ${p.name}
  version: v1.36.3
  networking:
    pod_cidr_block: 172.16.0.0/16
    service_cidr_block: 172.17.0.0/16
  preflight:
    max_peer_latency_ms: 1000
    ignore: [all]
${p.cluster ?? ''}etcd:
${group(p.etcd)}
master:
${group(p.masters)}
worker:
${group(p.workers)}
`;
}
