// Builders for the assignment tests: a complete, valid Plan with the documented defaults (built
// by hand because the plan parser is written in parallel), nodes, and a shuffle for order tests.
import type { Role } from '../../shared/constants.ts';
import type { Plan, PlanNode, PoolSpec } from '../../shared/plan/types.ts';
import type { AssignInput, AssignOutput, NodeAssignmentState, RegisteredNode } from '../../coordinator/assign/index.ts';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object | null ? DeepPartial<NonNullable<T[K]>> | null : T[K] };

export function basePlan(): Plan {
  return {
    cluster: {
      name: 'test',
      version: 'v1.36.3',
      networking: {
        type: 'overlay',
        pod_cidr_block: '172.16.0.0/16',
        service_cidr_block: '172.17.0.0/16',
        pod_block_size: 64,
        bgp_as_number: 64511,
        network_policy: false,
        update_hosts_files: false,
        cluster_domain: 'cluster.local',
        dns_service_ip: '172.17.0.10',
        http_proxy: '',
        https_proxy: '',
        no_proxy: '', proxy_mode: 'iptables', overlay_mode: 'ipip',
      },
      images: { kubernetes: 'registry.k8s.io', calico: 'quay.io/calico' },
      certificates: { expiry: '17520h', ca_expiry: '87600h', location: { city: '', state: '', country: 'US' }, apiserver_cert_extra_sans: [] },
      preflight: { profile: 'production', ignore: [], max_peer_latency_ms: 10, probe_timeout_ms: 1000, supported_os: [] },
    },
    container_runtime: { type: 'docker', logs: { driver: 'json-file', opts: {} }, storage: { driver: 'overlay2', opts: {} }, registry_mirrors: [], insecure_registries: [], version: '', mtu: 0 },
    etcd: { expected_count: 0, nodes: [], pool: null },
    master: { expected_count: 0, nodes: [], pool: null, load_balancer: '', load_balanced_fqdn: '', load_balanced_short_name: '', apiserver_shutdown_delay: '15s' },
    worker: { expected_count: 0, nodes: [], pool: null },
  };
}

/** The base plan with `overrides` merged in deeply (arrays and null replace). */
export function makePlan(overrides: DeepPartial<Plan> = {}): Plan {
  return merge(basePlan(), overrides) as Plan;
}

function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (over === null || Array.isArray(over) || typeof over !== 'object' || base === null || typeof base !== 'object') return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = merge(out[k], v);
  return out;
}

export function planNode(host: string, extra: Partial<PlanNode> = {}): PlanNode {
  return { host, ip: '', internal_ip: '', labels: {}, taints: [], ...extra };
}

export function pool(extra: Partial<PoolSpec> = {}): PoolSpec {
  return { selector: {}, min_cpus: 0, min_memory_bytes: 0, min_disk_bytes: 0, ...extra };
}

/** Node `name` joined at `i` seconds, address 10.0.(i/250).(i%250+1) unless given. */
export function node(name: string, i: number, extra: Partial<RegisteredNode> = {}): RegisteredNode {
  return {
    name,
    machineId: `mid-${name}`,
    hostname: `${name}.example`,
    addresses: [`10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`],
    labels: {},
    cpus: 4,
    memoryBytes: 8 * 2 ** 30,
    varLibDiskBytes: 100 * 2 ** 30,
    joinedAtMs: 1_000 * (i + 1),
    ...extra,
  };
}

/** n nodes "<prefix>-000".., joined in that order starting at index `from`. */
export function nodes(prefix: string, n: number, from = 0, extra: Partial<RegisteredNode> = {}): RegisteredNode[] {
  return Array.from({ length: n }, (_, i) => node(`${prefix}-${String(i + from).padStart(3, '0')}`, i + from, extra));
}

export function input(plan: Plan, registered: RegisteredNode[], previous: ReadonlyMap<string, NodeAssignmentState> = new Map(), overrides: ReadonlyMap<string, Role[]> = new Map()): AssignInput {
  return { plan, nodes: registered, previous, overrides };
}

/** Deterministic Fisher-Yates with a small LCG, so a failing order can be reproduced. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Everything in an output as one JSON text, Maps in their own order: equal texts = byte-identical output. */
export function serialize(out: AssignOutput): string {
  return JSON.stringify({
    assignments: [...out.assignments],
    state: [...out.state],
    waiting: [...out.waiting],
    problems: out.problems,
  });
}

/** Roles per node name, as "etcd+master" strings; nodes without roles omitted. */
export function roleMap(out: AssignOutput): Record<string, string> {
  return Object.fromEntries([...out.state].filter(([, s]) => s.roles.length).map(([n, s]) => [n, s.roles.join('+')]));
}
