// Fleet load: N simulated agents in this process join a coordinator (its own process) on
// loopback, long-poll it, and apply; then one plan change must reach them all.
// Prints join throughput, p50/p99/max of the plan change reaching agents, coordinator CPU and RSS.
//
//   node bench/fleet.ts [--agents 1000] [--timeout 180] [--source | --binary dist/muster]
//
// The coordinator is the shipped bundle, dist/muster.cjs (build it with `npm run build`), run
// with the same Node flags as its shebang. --source runs it from the TypeScript sources instead,
// which adds Node's type-stripping compiler (about 26 MB RSS) that users never load; --binary runs
// a single executable (`npm run build:sea`), whose Node flags are inside it.
//
// Environment for experiments: BENCH_NODE_FLAGS="--flag ..." adds Node/V8 flags to the
// coordinator, BENCH_COORD_ENV=NAME=VALUE,... sets its environment (e.g. MALLOC_ARENA_MAX=2),
// BENCH_PROFILE=DIR writes its CPU profile there.
//
// Bounded: at most --agents agents, and the run aborts after --timeout seconds.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, type FactsSource } from '../agent/loop/agent.ts';
import { compileAgentOptions } from '../agent/config/options.ts';
import { silentLogger } from '../shared/log/logger.ts';
import { loadAdminConfig } from '../coordinator/admin/config.ts';
import { connectAdmin } from '../coordinator/admin/client.ts';
import type { Facts } from '../shared/wire/types.ts';
import { COORDINATOR_NODE_FLAGS } from '../shared/constants.ts';

const { values } = parseArgs({ options: { agents: { type: 'string', default: '1000' }, timeout: { type: 'string', default: '180' }, source: { type: 'boolean', default: false }, binary: { type: 'string' } } });
const N = Math.min(Number(values.agents), 5000);
const deadline = Date.now() + Number(values.timeout) * 1000;
const ROOT = join(import.meta.dirname, '..');

const ip = (i: number) => `127.1.${Math.floor(i / 250)}.${(i % 250) + 2}`;
const name = (i: number) => `node-${String(i).padStart(5, '0')}`;

function plan(label: string): string {
  const workers = Array.from({ length: N - 1 }, (_, k) => `    - { host: ${name(k + 1)}, ip: ${ip(k + 1)}${label ? `, labels: { wave: "${label}" }` : ''} }`).join('\n');
  return `cluster:
  name: fleet
  version: v1.36.3
  networking:
    pod_cidr_block: 10.200.0.0/13
    service_cidr_block: 172.17.0.0/16
  # Preflight runs for every node (its cost is in the coordinator's figures) but does not gate:
  # the simulated nodes report little, and probing between 1,000 agents in one process would
  # measure the simulator, not the coordinator (bench/preflight.ts measures probes).
  preflight: { ignore: [all] }
etcd:
  expected_count: 1
  nodes: [ { host: ${name(0)}, ip: ${ip(0)} } ]
master:
  expected_count: 1
  nodes: [ { host: ${name(0)}, ip: ${ip(0)} } ]
worker:
  expected_count: ${N - 1}
  nodes:
${workers}
`;
}

function facts(address: string): FactsSource {
  const f: Facts = {
    cpu: { model: 'sim', physical_cores: 2, logical_cores: 2, speed_mhz: 2000, architecture: 'amd64' },
    memory: { total_bytes: 4 * 2 ** 30, available_bytes: 3 * 2 ** 30, swap_total_bytes: 0, swap_used_bytes: 0 },
    network: { hostname: 'sim', fqdn: 'sim', interfaces: [], default_interface: 'lo', default_address: address },
  };
  return { collect: async () => f, diff: (p, n) => (p ? { facts: {}, full: false, changed: [] } : { facts: n, full: true, changed: ['all'] }), merge: (b) => b };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function procStats(pid: number): { cpuS: number; rssMB: number; hwmMB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuS: ticks / 100, rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
}

/** Where the coordinator's resident memory is: malloc's main heap, anonymous maps, the node binary. */
function rssSplit(pid: number): string {
  const mb = new Map<string, number>();
  let region = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const h = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (h) region = h[1] === '[heap]' ? 'malloc heap (TLS, HTTP/2, buffers)' : !h[1] ? 'anonymous (V8 heap, thread arenas)' : h[1] === (values.binary ? resolve(values.binary) : process.execPath) ? 'node binary' : 'other';
    const r = /^Rss:\s+(\d+)/.exec(line);
    if (r) mb.set(region, (mb.get(region) ?? 0) + Number(r[1]) / 1024);
  }
  return [...mb].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function until(what: string, fn: () => boolean): Promise<void> {
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'muster-fleet-'));
const dataDir = join(dir, 'coord');
const planFile = join(dir, 'plan.yaml');
writeFileSync(planFile, plan(''));
const port = await freePort();
const BUNDLE = join(ROOT, 'dist/muster.cjs');
if (!values.source && !values.binary && !existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first (or pass --source)`);
const program = values.source ? [join(ROOT, 'test/helpers/coordinator-process.ts')] : [BUNDLE, 'coordinator', 'serve'];
const nodeFlags = [...COORDINATOR_NODE_FLAGS, ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
// Every simulated agent comes from 127.0.0.1: one source, like a fleet behind one NAT, so the
// per-source join budget and unverified-connection cap are raised to let the whole fleet join at
// once (both are measured in test/server/admission and test/foundation/bounded-inputs).
const serveArgs = ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--plan', planFile, '--log-level', 'warn', '--join-burst', '100000', '--join-rate', '100000', '--max-unverified-per-source', '512'];
const coordEnv = Object.fromEntries((process.env.BENCH_COORD_ENV?.split(',').filter(Boolean) ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
// A single executable carries its own Node flags; BENCH_NODE_FLAGS and BENCH_PROFILE apply to the bundle and sources.
const [command, args] = values.binary ? [values.binary, ['coordinator', 'serve', ...serveArgs]] : [process.execPath, [...nodeFlags, ...program, ...serveArgs]];
const coord = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...coordEnv } });
let out = '';
coord.stdout!.on('data', (d) => (out += d));
const ac = new AbortController();
const agents: Agent[] = [];
const runs: Promise<void>[] = [];
try {
  await until('coordinator start', () => out.includes('Join nodes'));
  const admin = connectAdmin(await loadAdminConfig({ dataDir, env: {} }));
  const { token } = await admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'fleet bench' });
  const cfg = await loadAdminConfig({ dataDir, env: {} });
  const cpu0 = procStats(coord.pid!).cpuS;

  const joinedAt: number[] = new Array(N).fill(0);
  const gotRevAt: number[] = new Array(N).fill(0);
  let measuringChange = false;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const a = new Agent(
      compileAgentOptions({ coordinator: `127.0.0.1:${port}`, token, caHash: cfg.ca_hash, nodeName: name(i), address: ip(i), stateDir: join(dir, 'n', name(i), 's'), root: join(dir, 'n', name(i), 'r'), watchHoldMs: 55_000, reportIntervalMs: 600_000, probePort: 0 }),
      { log: silentLogger(), facts: facts(ip(i)), version: 'bench', retry: { initialMs: 200, maxMs: 5000 } },
    );
    a.onPhase((p) => {
      if (!joinedAt[i] && p === 'reporting') joinedAt[i] = performance.now();
      if (p === 'applying' && !gotRevAt[i] && measuringChange) gotRevAt[i] = performance.now();
    });
    agents.push(a);
    runs.push(a.run(ac.signal).catch((e) => console.error(`agent ${name(i)}: ${e.message}`)));
  }
  await until('all joined', () => joinedAt.every((t) => t > 0));
  const joinS = (Math.max(...joinedAt) - t0) / 1000;
  await until('all applied first revision', () => agents.every((a) => a.appliedRevision > 0));
  const settleS = (performance.now() - t0) / 1000;
  const cpuJoin = procStats(coord.pid!).cpuS - cpu0;

  // One plan change for every worker; measure until each agent received it.
  const before = agents.map((a) => a.appliedRevision);
  const t1 = performance.now();
  measuringChange = true;
  const res = await admin.call('ApplyPlan', { plan_yaml: plan('2'), file_name: 'plan2.yaml', force: false }, 60_000);
  const applyCallMs = performance.now() - t1;
  await until('all workers received the change', () => agents.every((a, i) => i === 0 || gotRevAt[i]! > 0));
  const lat = gotRevAt.slice(1).map((t) => t - t1).sort((x, y) => x - y);
  await until('all workers applied the change', () => agents.every((a, i) => i === 0 || a.appliedRevision > before[i]!));
  const appliedAllMs = performance.now() - t1;
  const st = procStats(coord.pid!);
  const split = rssSplit(coord.pid!);
  admin.close();
  if (values.source) {
    coord.kill('SIGUSR2'); // coordinator-process.ts prints its heap / external split to stderr
    await new Promise((r) => setTimeout(r, 200));
  }

  console.log(`fleet benchmark: ${N} agents, one process, coordinator (${values.binary ?? (values.source ? 'from TypeScript sources' : 'dist/muster.cjs')}) in its own process on 127.0.0.1:${port}`);
  console.log(`  join: all ${N} joined in ${joinS.toFixed(2)} s (${(N / joinS).toFixed(0)} joins/s); all applied first assignment after ${settleS.toFixed(2)} s`);
  console.log(`  plan change (${res.changed_nodes.length} nodes changed; ApplyPlan call ${applyCallMs.toFixed(0)} ms): reached agents p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms, max ${lat[lat.length - 1]!.toFixed(0)} ms; all applied after ${appliedAllMs.toFixed(0)} ms`);
  console.log(`  coordinator: CPU ${cpuJoin.toFixed(2)} s during joins, ${(st.cpuS - cpu0).toFixed(2)} s total; RSS ${st.rssMB.toFixed(0)} MB now, peak ${st.hwmMB.toFixed(0)} MB`);
  console.log(`  coordinator RSS by region (MB): ${split}`);
  const cpu = process.cpuUsage();
  console.log(`  bench process (the ${N} simulated agents): CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
} finally {
  ac.abort(new Error('bench done'));
  await Promise.allSettled(runs);
  coord.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
