// Assignment engine at fleet scale: 10,000 registered nodes (3 etcd from a zoned pool, 3 named
// masters, the rest workers from a pool). Computes from empty state, then again with that state
// as previous (the steady case after a coordinator restart or any change), and prints time and
// heap for each. Target: under 1 s each.
//
//   node --expose-gc bench/assign.ts [nodes] [runs]
import { computeAssignments, ZONE_LABEL, type RegisteredNode } from '../coordinator/assign/index.ts';
import type { Plan } from '../shared/plan/types.ts';

const NODES = Number(process.argv[2] ?? 10_000);
const RUNS = Number(process.argv[3] ?? 3);
const gc = (globalThis as { gc?: () => void }).gc;

function plan(hosts: boolean): Plan {
  const none = { selector: {}, min_cpus: 0, min_memory_bytes: 0, min_disk_bytes: 0 };
  const entry = (host: string) => ({ host, ip: '', internal_ip: '', labels: {}, taints: [] });
  return {
    cluster: {
      name: 'bench', version: 'v1.36.3',
      networking: { type: 'overlay', pod_cidr_block: '172.16.0.0/12', service_cidr_block: '10.96.0.0/12', pod_block_size: 64, bgp_as_number: 64512, network_policy: false, update_hosts_files: hosts, cluster_domain: 'cluster.local', dns_service_ip: '10.96.0.10', http_proxy: '', https_proxy: '', no_proxy: '', proxy_mode: 'iptables', overlay_mode: 'ipip' },
      images: { kubernetes: 'registry.k8s.io', calico: 'quay.io/calico' },
      certificates: { expiry: '17520h', ca_expiry: '87600h', location: { city: '', state: '', country: 'US' }, apiserver_cert_extra_sans: [] },
      preflight: { profile: 'production', ignore: [], max_peer_latency_ms: 10, probe_timeout_ms: 1000, supported_os: [] },
    },
    container_runtime: { type: 'containerd', logs: { driver: 'json-file', opts: {} }, storage: { driver: 'overlay2', opts: {} }, registry_mirrors: [], insecure_registries: [], version: '', mtu: 0 },
    etcd: { expected_count: 3, nodes: [], pool: { ...none, selector: { 'muster.io/etcd': 'true' }, min_cpus: 2 } },
    master: { expected_count: 3, nodes: [entry('node-00003'), entry('node-00004'), entry('node-00005')], pool: null, load_balancer: 'api.bench:6443', load_balanced_fqdn: '', load_balanced_short_name: '', apiserver_shutdown_delay: '15s' },
    worker: { expected_count: NODES - 6, nodes: [], pool: { ...none, min_cpus: 2, min_memory_bytes: 2 ** 30 } },
  };
}

const fleet: RegisteredNode[] = Array.from({ length: NODES }, (_, i) => ({
  name: `node-${String(i).padStart(5, '0')}`,
  machineId: i.toString(16).padStart(32, '0'),
  hostname: `host-${i}`,
  addresses: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
  labels: { [ZONE_LABEL]: `zone-${i % 3}`, ...(i < 12 ? { 'muster.io/etcd': 'true' } : {}) },
  cpus: 4, memoryBytes: 8 * 2 ** 30, varLibDiskBytes: 100 * 2 ** 30,
  joinedAtMs: 1_700_000_000_000 + i * 1000,
}));
// Present them in reverse, as a store might: the engine sorts.
fleet.reverse();

function measure(label: string, fn: () => ReturnType<typeof computeAssignments>) {
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const t = performance.now();
  const out = fn();
  const ms = performance.now() - t;
  const heapAfter = process.memoryUsage().heapUsed;
  console.log(`${label.padEnd(38)} ${ms.toFixed(0).padStart(6)} ms   heap ${(heapAfter / 2 ** 20).toFixed(0).padStart(5)} MiB (+${((heapAfter - heapBefore) / 2 ** 20).toFixed(0)} MiB)   ${out.assignments.size} assigned, ${out.waiting.size} waiting, ${out.problems.length} problems`);
  return out;
}

console.log(`assignment engine, ${NODES} nodes, node ${process.version}${gc ? '' : ' (run with --expose-gc for steadier heap figures)'}`);
for (let run = 1; run <= RUNS; run++) {
  for (const hosts of [false, true]) {
    const p = plan(hosts);
    const tag = `run ${run}${hosts ? ', hosts files' : ''}`;
    const first = measure(`${tag}: empty previous`, () => computeAssignments({ plan: p, nodes: fleet, previous: new Map(), overrides: new Map() }));
    const again = measure(`${tag}: with previous`, () => computeAssignments({ plan: p, nodes: fleet, previous: first.state, overrides: new Map() }));
    if (hosts) {
      // hosts_entries lists every assigned node in every body: say how big one body is.
      const one = JSON.stringify(again.assignments.values().next().value);
      console.log(`${`${tag}: size of one body`.padEnd(38)} ${(one.length / 2 ** 20).toFixed(2)} MiB (x ${again.assignments.size} bodies)`);
      continue;
    }
    const t = performance.now();
    let bytes = 0;
    let same = 0;
    for (const [name, body] of again.assignments) {
      const text = JSON.stringify(body);
      bytes += text.length;
      if (text === JSON.stringify(first.assignments.get(name))) same++;
    }
    console.log(`${`${tag}: JSON compare of every body`.padEnd(38)} ${(performance.now() - t).toFixed(0).padStart(6)} ms   ${(bytes / 2 ** 20).toFixed(1)} MiB, ${same} unchanged`);
  }
}
