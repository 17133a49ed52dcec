// Building blocks for tests that run a real coordinator and real agents on 127.0.0.x.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoordinator, type Coordinator, type CoordinatorOptions } from '../../coordinator/server/coordinator.ts';
import { Agent, type AgentDeps, type FactsSource } from '../../agent/loop/agent.ts';
import { compileAgentOptions, type AgentOptions } from '../../agent/config/options.ts';
import { createLogger, type Logger } from '../../shared/log/logger.ts';
import type { Facts } from '../../shared/wire/types.ts';
import { PREFLIGHT_BINARIES } from '../../shared/preflight/index.ts';

export function tempDir(prefix = 'muster-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A logger that keeps its lines, for asserting on what a user would read. */
export function captureLogger(component = 'test', level: 'debug' | 'info' = 'info'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ level, component, sink: (l) => lines.push(l) }) as Logger & { lines: string[] };
  log.lines = lines;
  return log;
}

export interface ThreeNodePlanOptions {
  /** Addresses of node-1..3. @default 127.0.0.2-4 */
  addresses?: readonly [string, string, string];
  /**
   * cluster.preflight.max_peer_latency_ms. Loopback on a busy 2-core machine exceeds the
   * production 10 ms, so plans whose subject is not latency allow a loaded loopback. @default 1000
   */
  maxPeerLatencyMs?: number;
}

export function threeNodePlan(name = 'test', extra = '', o: ThreeNodePlanOptions = {}): string {
  const [a1, a2, a3] = o.addresses ?? ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
  return `cluster:
  name: ${name}
  version: v1.36.3
  networking:
    pod_cidr_block: 172.16.0.0/16
    service_cidr_block: 172.17.0.0/16
  preflight:
    max_peer_latency_ms: ${o.maxPeerLatencyMs ?? 1000}
etcd:
  expected_count: 1
  nodes:
    - { host: node-1, ip: ${a1} }
master:
  expected_count: 1
  nodes:
    - { host: node-1, ip: ${a1} }
worker:
  expected_count: 2
  nodes:
    - { host: node-2, ip: ${a2}${extra} }
    - { host: node-3, ip: ${a3}${extra} }
`;
}

export async function testCoordinator(dataDir: string, o: Partial<CoordinatorOptions> = {}): Promise<Coordinator & { log: Logger & { lines: string[] } }> {
  const log = captureLogger('coordinator');
  const c = await startCoordinator({ dataDir, listen: '127.0.0.1:0', logger: log, recomputeDelayMs: 10, ...o });
  return Object.assign(c, { log });
}


/** A simulated node's FactsSource whose facts a test can change (`update`), e.g. to fix a preflight error. */
export type FakeFacts = FactsSource & { current: Facts; update(fn: (f: Facts) => void): void };

/**
 * Facts of a simulated node: fixed, cheap, and passing every preflight check for every role in
 * the production profile (real collection is tested in test/facts). Diffs by section, like the
 * real source.
 */
export function fakeFacts(address: string, hostname = `sim-${address.replaceAll('.', '-')}`): FakeFacts {
  const GiB = 2 ** 30;
  const GB = 1e9;
  const src: FakeFacts = {
    current: {
      cpu: { model: 'test cpu', physical_cores: 2, logical_cores: 4, speed_mhz: 2400, architecture: 'amd64' },
      memory: { total_bytes: 8 * GiB, available_bytes: 6 * GiB, swap_total_bytes: 0, swap_used_bytes: 0 },
      disks: { filesystems: [{ mount: '/', device: '/dev/vda1', type: 'ext4', size_bytes: 500 * GB, free_bytes: 400 * GB }], var_lib_mount: '/' },
      os: { id: 'debian', version_id: '12', pretty_name: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.1.0', cgroup_version: 'v2', init_system: 'systemd', machine_id: '', boot_id: '' },
      network: { hostname, fqdn: hostname, interfaces: [{ name: 'lo', addresses: [`${address}/8`], mtu: 65536, state: 'up', mac: '' }], default_interface: 'lo', default_address: address },
      ports: { listening: [] },
      binaries: { binaries: PREFLIGHT_BINARIES.map((name) => ({ name, present: true, path: `/usr/bin/${name}`, version: '' })) },
      kernel: { sysctls: { 'net.ipv4.ip_forward': '1', 'net.bridge.bridge-nf-call-iptables': '1' }, modules_loaded: ['br_netfilter', 'overlay'] },
    },
    update(fn) {
      const next = structuredClone(src.current);
      fn(next);
      src.current = next;
    },
    collect: async () => structuredClone(src.current),
    diff(prev, next) {
      if (!prev) return { facts: next, full: true, changed: ['all'] };
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(next)) if (k !== 'clock' && JSON.stringify(v) !== JSON.stringify((prev as Record<string, unknown>)[k])) out[k] = v;
      return { facts: out as Facts, full: false, changed: Object.keys(out) };
    },
    merge: (base, update) => ({ ...base, ...update }),
  };
  return src;
}

export interface RunningAgent {
  agent: Agent;
  log: Logger & { lines: string[] };
  done: Promise<void>;
  stop(): Promise<void>;
}

export function runAgent(o: AgentOptions & { coordinator: string; address: string }, facts?: FactsSource, deps: Partial<AgentDeps> = {}): RunningAgent {
  const log = captureLogger(`agent ${o.nodeName}`, 'debug');
  // A free probe port: test files run in parallel and share 127.0.0.x addresses.
  // No start-up or reconnect jitter unless a test asks for it: tests wait on events, not on chance.
  const agent = new Agent(compileAgentOptions({ probePort: 0, startupJitterMs: 0, reconnectJitterMs: 0, ...o }), { log, facts: facts ?? fakeFacts(o.address, o.nodeName), version: 'test', retry: { initialMs: 50, maxMs: 500 }, ...deps });
  const ac = new AbortController();
  const done = agent.run(ac.signal);
  done.catch(() => undefined);
  return {
    agent,
    log,
    done,
    async stop() {
      ac.abort(new Error('test stop'));
      await done.catch(() => undefined);
    },
  };
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 15_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
