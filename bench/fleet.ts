// Fleet load: for each size (default 1,000, 3,000, 5,000, 10,000), a fresh coordinator in its
// own process and N simulated agents in --sim-procs other processes (bench/sim-agent.ts: each
// has its own key, CSR, mutual-TLS identity and long poll, and does nothing on a node) join it
// over real gRPC on loopback; then one plan change must reach them all; then a steady phase in
// which every agent reports on its interval and holds its watch. Prints, per size, the
// coordinator's figures apart from the simulator's, and the table of all sizes at the end. The
// coordinator's figures are read from its own /metrics (joins, signatures, store commit latency,
// CPU and RSS from its process metrics), so the numbers shown are the ones it exports; only its
// peak RSS and the RSS by region come from /proc/PID, which no metric has.
//
//   node bench/fleet.ts [--sizes 1000,3000,5000,10000 | --agents N] [--timeout 300] [--steady 60]
//                       [--report-interval 60000] [--sim-procs 2] [--join-concurrency 256]
//                       [--source | --binary dist/muster] [--no-restart]
//
// After the steady phase the coordinator is restarted (SIGTERM, then started again on the same
// data dir and port) with every agent connected; --no-restart leaves that out.
// --steady is the steady phase in seconds per size (the issue's five minutes is --steady 300);
// --report-interval is the agents' (the real default, 60 s). The coordinator is the shipped
// bundle, dist/muster.cjs (`npm run build`), run with the same Node flags as its shebang;
// --source runs it from the TypeScript sources (adds Node's type-stripping compiler, ~26 MB RSS
// users never load); --binary runs a single executable (`npm run build:sea`).
//
// Environment for experiments: BENCH_NODE_FLAGS="--flag ..." adds Node/V8 flags to the
// coordinator, BENCH_COORD_ENV=NAME=VALUE,... sets its environment (e.g. MALLOC_ARENA_MAX=2),
// BENCH_PROFILE=DIR writes its CPU profile there (one per size), BENCH_SIM_PROFILE=DIR the
// simulator processes' (one per process and size), BENCH_SERVE_ARGS="--flag value ..."
// adds `muster coordinator serve` flags (e.g. --work-concurrency 64).
//
// Bounded: each size aborts after --timeout seconds (what it reached is printed, larger sizes
// are skipped); 10,000 agents at most.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, readFileSync, rmSync, realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAdminConfig } from '../coordinator/admin/config.ts';
import { connectAdmin } from '../coordinator/admin/client.ts';
import { COORDINATOR_NODE_FLAGS } from '../shared/constants.ts';
import { ip, nodeName as name, type SimConfig, type SimMessage } from './fleet-sim.ts';
import { now } from './sim-agent.ts';
import { scrape, type Scrape } from '../test/helpers/metrics-scrape.ts';

const { values } = parseArgs({
  allowNegative: true,
  options: {
    sizes: { type: 'string', default: '1000,3000,5000,10000' },
    agents: { type: 'string' },
    timeout: { type: 'string', default: '300' },
    steady: { type: 'string', default: '60' },
    'report-interval': { type: 'string', default: '60000' },
    'sim-procs': { type: 'string', default: '2' },
    'join-concurrency': { type: 'string', default: '256' },
    source: { type: 'boolean', default: false },
    binary: { type: 'string' },
    restart: { type: 'boolean', default: true },
  },
});
const SIZES = (values.agents ?? values.sizes).split(',').map((x) => Math.min(Number(x), 10_000)).filter((x) => x >= 2);
const SIM_PROCS = Math.max(1, Number(values['sim-procs']));
const STEADY_S = Number(values.steady);
const REPORT_MS = Number(values['report-interval']);
const ROOT = join(import.meta.dirname, '..');
/** The restart phase's own bound (the issue's target is 60 s at 10,000). */
const RESTART_TIMEOUT_MS = 180_000;

function plan(n: number, label: string): string {
  const workers = Array.from({ length: n - 1 }, (_, k) => `    - { host: ${name(k + 1)}, ip: ${ip(k + 1)}${label ? `, labels: { wave: "${label}" }` : ''} }`).join('\n');
  return `cluster:
  name: fleet
  version: v1.36.3
  networking:
    pod_cidr_block: 10.192.0.0/12
    service_cidr_block: 172.17.0.0/16
  # Preflight runs for every node (its cost is in the coordinator's figures) but does not gate:
  # the simulated nodes report little and listen nowhere (bench/preflight.ts measures probes).
  preflight: { ignore: [all] }
etcd:
  expected_count: 1
  nodes: [ { host: ${name(0)}, ip: ${ip(0)} } ]
master:
  expected_count: 1
  nodes: [ { host: ${name(0)}, ip: ${ip(0)} } ]
worker:
  expected_count: ${n - 1}
  nodes:
${workers}
`;
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
    if (h) region = h[1] === '[heap]' ? 'malloc heap (TLS, HTTP/2, buffers)' : !h[1] ? 'anonymous (V8 heap, thread arenas)' : h[1] === (values.binary ? resolve(values.binary) : realpathSync(process.execPath)) ? 'node binary' : 'other';
    const r = /^Rss:\s+(\d+)/.exec(line);
    if (r) mb.set(region, (mb.get(region) ?? 0) + Number(r[1]) / 1024);
  }
  return [...mb].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}


interface Row {
  agents: number;
  load: string;
  reached: string;
  joinS?: number;
  settleS?: number;
  cpuPerJoinMs?: number;
  /** The same net of the steady traffic (reports, re-watches) that ran during the joins. */
  netPerJoinMs?: number;
  joinCpuS?: number;
  applyCallMs?: number;
  changed?: number;
  p50?: number;
  p99?: number;
  max?: number;
  appliedAllMs?: number;
  rssMB?: number;
  hwmMB?: number;
  rssSplit?: string;
  steadyCores?: number;
  /** From /metrics after the join phase. */
  joinsCounted?: number;
  signatures?: number;
  commits?: number;
  commitMeanMs?: number;
  commitP99BoundMs?: number;
  steadyRssMB?: number;
  steadyReports?: number;
  simCpuS?: number;
  /** Restart phase: SIGTERM to exit, to listening again, to every agent watching again (ms from the SIGTERM). */
  restartStopMs?: number;
  restartStartMs?: number;
  restartBackMs?: number;
  restartCpuS?: number;
  /** What the agents were answered meanwhile, by call and error kind. */
  restartErrors?: string;
  simRssMB?: number;
  /** The simulator processes' event-loop delay, the worst p99 and max (ms). */
  simLagMs?: [number, number];
  errors?: string;
  /** What the coordinator served before the restart (served()). */
  served?: string;
}

/** From the coordinator's /metrics: calls by method (and code, when not OK), TLS connections accepted by class, store transactions. */
function served(m: Scrape): string {
  const calls = [...m.text.matchAll(/^muster_rpc_duration_seconds_count\{method="([^"]+)",code="([^"]+)"\} (\S+)$/gm)].map(([, method, code, v]) => `${method}${code === 'OK' ? '' : ` ${code}`} ${v}`);
  const conns = [...m.text.matchAll(/^muster_connections_accepted_total\{class="([^"]+)"\} (\S+)$/gm)].map(([, c, v]) => `${c} ${v}`);
  return `calls ${calls.join(', ')}; connections accepted ${conns.join(', ')}; ${m.get('muster_store_committed_transactions_total')} store transactions`;
}

/** Runs one size start to end; fills `row` as it goes, so a timeout still shows what was reached. */
async function runSize(n: number, row: Row): Promise<void> {
  const deadline = Date.now() + Number(values.timeout) * 1000;
  const until = async (what: string, fn: () => boolean): Promise<void> => {
    while (!fn()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${values.timeout} s waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const dir = mkdtempSync(join(tmpdir(), 'muster-fleet-'));
  const dataDir = join(dir, 'coord');
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, plan(n, ''));
  const port = await freePort();
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  const BUNDLE = join(ROOT, 'dist/muster.cjs');
  if (!values.source && !values.binary && !existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first (or pass --source)`);
  const program = values.source ? [join(ROOT, 'test/helpers/coordinator-process.ts')] : [BUNDLE, 'coordinator', 'serve'];
  const nodeFlags = [...COORDINATOR_NODE_FLAGS, ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
  // Every simulated agent comes from 127.0.0.1 (the real agent's grpc-js cannot bind a source address):
  // one source, like a fleet behind one NAT, so the per-source join budget and unverified-connection
  // cap are raised to what a fleet of distinct addresses would meet, one connection per source
  // (both limits are measured in test/server/admission and test/foundation/bounded-inputs); the
  // cap at the fleet's size, or a restart's reconnect storm would be cut at 1,024 handshakes.
  const serveArgs = ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--plan', planFile, '--log-level', 'warn', '--join-burst', '100000', '--join-rate', '100000', '--max-unverified-per-source', String(Math.max(1024, n)), '--metrics-address', metricsAddress, ...(process.env.BENCH_SERVE_ARGS?.split(' ').filter(Boolean) ?? [])];
  const coordEnv = Object.fromEntries((process.env.BENCH_COORD_ENV?.split(',').filter(Boolean) ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const [command, args] = values.binary ? [values.binary, ['coordinator', 'serve', ...serveArgs]] : [process.execPath, [...nodeFlags, ...program, ...serveArgs]];
  let out = '';
  let warnings = 0;
  const startCoordinator = (): ChildProcess => {
    out = '';
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...coordEnv } });
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d: Buffer) => {
      // The coordinator's warnings, counted; the first few shown (at 10,000 agents they would flood).
      for (const line of d.toString().split('\n').filter(Boolean)) if (++warnings <= 5) console.error(`  [coordinator] ${line}`);
    });
    return child;
  };
  const stopCoordinator = (child: ChildProcess) =>
    new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) return r();
      const t = setTimeout(() => { child.kill('SIGKILL'); r(); }, 20_000);
      child.once('exit', () => { clearTimeout(t); r(); });
      child.kill('SIGTERM');
    });
  let coord = startCoordinator();
  const sims: ChildProcess[] = [];
  const joinedAt = new Float64Array(n);
  const gotAt = new Float64Array(n);
  const gotRev = new Float64Array(n);
  const appliedRev = new Float64Array(n);
  const errors: Record<string, number> = {};
  let lastError = '';
  try {
    const started = () => out.includes('Join nodes') || out.includes('Join command');
    await until('coordinator start', started);
    const cfg = await loadAdminConfig({ dataDir, env: {} });
    const admin = connectAdmin(cfg);
    const { token } = await admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'fleet bench' });
    const metrics = () => scrape(metricsAddress);
    const cpu = (m: Scrape) => m.get('process_cpu_seconds_total');
    const rssMB = (m: Scrape) => m.get('process_resident_memory_bytes') / 1024 / 1024;
    const m0 = await metrics();
    const cpu0 = cpu(m0);
    const t0 = now();
    for (let p = 0; p < SIM_PROCS; p++) {
      const from = Math.floor((p * n) / SIM_PROCS);
      const to = Math.floor(((p + 1) * n) / SIM_PROCS);
      const sc: SimConfig = { coordinator: `127.0.0.1:${port}`, token, caHash: cfg.ca_hash, from, to, reportIntervalMs: REPORT_MS, watchHoldMs: 55_000, joinConcurrency: Math.ceil(Number(values['join-concurrency']) / SIM_PROCS) };
      const execArgv = [...process.execArgv, ...(process.env.BENCH_SIM_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SIM_PROFILE}`] : [])];
      const child = fork(join(import.meta.dirname, 'fleet-sim.ts'), [JSON.stringify(sc)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
      child.on('message', (m: SimMessage) => {
        for (const [kind, i, rev, at] of m.events) {
          if (kind === 0) joinedAt[i] = at;
          else if (kind === 1) {
            gotRev[i] = rev;
            gotAt[i] = at;
          } else appliedRev[i] = rev;
        }
        for (const [k, c] of Object.entries(m.errors)) errors[k] = (errors[k] ?? 0) + c;
        if (m.lastError) lastError = m.lastError;
        if (m.lagMs) row.simLagMs = [Math.max(m.lagMs[0], row.simLagMs?.[0] ?? 0), Math.max(m.lagMs[1], row.simLagMs?.[1] ?? 0)];
      });
      sims.push(child);
    }
    row.reached = 'joining';
    await until(`all ${n} joined`, () => joinedAt.every((t) => t > 0));
    row.joinS = (Math.max(...joinedAt) - t0) / 1000;
    row.reached = 'applying first assignment';
    await until('all applied their first assignment', () => appliedRev.every((r) => r > 0));
    row.settleS = (now() - t0) / 1000;
    const m1 = await metrics();
    row.joinCpuS = cpu(m1) - cpu0;
    row.joinsCounted = m1.get('muster_joins_total{result="joined"}');
    row.signatures = [...m1.text.matchAll(/^muster_signatures_total\{[^}]*result="ok"\} (\S+)$/gm)].reduce((a, x) => a + Number(x[1]), 0);
    const commits = m1.get('muster_store_commit_duration_seconds_count') - m0.get('muster_store_commit_duration_seconds_count');
    row.commits = commits;
    row.commitMeanMs = commits ? ((m1.get('muster_store_commit_duration_seconds_sum') - m0.get('muster_store_commit_duration_seconds_sum')) * 1000) / commits : undefined;
    row.commitP99BoundMs = m1.quantileBound('muster_store_commit_duration_seconds', 0.99) * 1000;
    row.cpuPerJoinMs = (row.joinCpuS * 1000) / n;
    row.reached = 'plan change';

    // One plan change for every worker; measured until each agent received it.
    const before = Float64Array.from(appliedRev);
    const t1 = now();
    const res = await admin.call('ApplyPlan', { plan_yaml: plan(n, '2'), file_name: 'plan2.yaml', force: false }, 120_000);
    // The restart below passes --plan again: it must be the plan in force, or it would be a change.
    writeFileSync(planFile, plan(n, '2'));
    row.applyCallMs = now() - t1;
    row.changed = res.changed_nodes.length;
    await until('all workers received the change', () => gotRev.every((r, i) => i === 0 || r > before[i]!));
    const lat = Array.from(gotAt.subarray(1), (t) => t - t1).sort((x, y) => x - y);
    [row.p50, row.p99, row.max] = [pct(lat, 50), pct(lat, 99), lat[lat.length - 1]!];
    await until('all workers applied the change', () => appliedRev.every((r, i) => i === 0 || r > before[i]!));
    row.appliedAllMs = now() - t1;
    const st = procStats(coord.pid!);
    [row.rssMB, row.hwmMB, row.rssSplit] = [rssMB(await metrics()), st.hwmMB, rssSplit(coord.pid!)];

    // Steady state: every agent reports on its interval and holds its watch; nothing changes.
    if (STEADY_S > 0) {
      row.reached = 'steady state';
      const s0 = cpu(await metrics());
      const w0 = performance.now();
      const reports0 = errors.Report ?? 0;
      await new Promise((r) => setTimeout(r, STEADY_S * 1000));
      const ms = await metrics();
      row.steadyCores = (cpu(ms) - s0) / ((performance.now() - w0) / 1000);
      row.steadyRssMB = rssMB(ms);
      // Agents report and re-watch while the others still join: on a busy machine the join phase
      // is long, and that traffic would be counted as join cost.
      row.netPerJoinMs = ((row.joinCpuS! - row.steadyCores * row.settleS!) * 1000) / n;
      if ((errors.Report ?? 0) > reports0) lastError ||= 'report errors in the steady phase';
    }
    row.served = served(await metrics());
    admin.close();

    // A restart with every agent connected: SIGTERM, start again on the same data dir and port,
    // and time until every agent holds its watch again at the revision it had applied (the
    // coordinator's own gauges), counting what the agents saw meanwhile.
    if (values.restart) {
      row.reached = 'restart';
      const errorsBefore = { ...errors };
      const watching = (m: Scrape) => m.get('muster_watches_held');
      const applied = (m: Scrape) => [...m.text.matchAll(/^muster_nodes\{state="applied",role="[^"]+"\} (\S+)$/gm)].reduce((a, x) => a + Number(x[1]), 0);
      const roleCount = applied(await metrics());
      const t2 = now();
      await stopCoordinator(coord);
      row.restartStopMs = now() - t2;
      coord = startCoordinator();
      await until('the coordinator to start again', started);
      row.restartStartMs = now() - t2;
      const cpuR0 = cpu(await metrics());
      // Scrapes compute the node gauges (O(fleet)): four a second, not the 20 ms of `until`.
      for (const end = Date.now() + RESTART_TIMEOUT_MS; ; ) {
        const m = await metrics().catch(() => null);
        if (m && watching(m) >= n && applied(m) >= roleCount) break;
        if (Date.now() > end) throw new Error(`timed out after ${RESTART_TIMEOUT_MS / 1000} s waiting for all ${n} agents to watch again (${m ? watching(m) : '?'} watching)`);
        await new Promise((r) => setTimeout(r, 250));
      }
      row.restartBackMs = now() - t2;
      row.restartCpuS = cpu(await metrics()) - cpuR0;
      row.restartErrors = Object.entries(errors).filter(([k, v]) => v > (errorsBefore[k] ?? 0)).map(([k, v]) => `${k} ${v - (errorsBefore[k] ?? 0)}`).join(', ') || 'none';
    }
    row.reached = 'done';
  } finally {
    let simCpu = 0;
    let simRss = 0;
    for (const c of sims) {
      try {
        const s = procStats(c.pid!);
        simCpu += s.cpuS;
        simRss += s.rssMB;
      } catch {
        /* gone */
      }
    }
    [row.simCpuS, row.simRssMB] = [simCpu, simRss];
    row.errors = Object.keys(errors).length ? `${Object.entries(errors).map(([k, v]) => `${k} ${v}`).join(', ')} (last: ${lastError.slice(0, 200)})` : 'none';
    if (warnings) row.errors += `; coordinator warnings ${warnings}`;
    await Promise.all(sims.map((c) => new Promise<void>((r) => {
      if (c.exitCode !== null || !c.connected) return r();
      const t = setTimeout(() => { c.kill('SIGKILL'); r(); }, 20_000);
      c.once('exit', () => { clearTimeout(t); r(); });
      c.send('stop');
    })));
    await stopCoordinator(coord);
    rmSync(dir, { recursive: true, force: true });
  }
}

const f = (x: number | undefined, d = 0, unit = '') => (x === undefined ? '—' : `${x.toFixed(d)}${unit}`);
function printRow(r: Row): void {
  console.log(`fleet benchmark: ${r.agents} agents over ${SIM_PROCS} simulator process(es); coordinator ${values.binary ?? (values.source ? 'from TypeScript sources' : 'dist/muster.cjs')}; load average before ${r.load}`);
  if (r.reached !== 'done') console.log(`  NOT COMPLETED: stopped while ${r.reached}`);
  console.log(`  join: all joined in ${f(r.joinS, 2, ' s')}; all applied their first assignment after ${f(r.settleS, 2, ' s')}; coordinator CPU per join ${f(r.cpuPerJoinMs, 2, ' ms')} (${f(r.netPerJoinMs, 2, ' ms')} net of the steady traffic meanwhile)`);
  console.log(`  from the coordinator's /metrics: ${f(r.joinsCounted)} joins, ${f(r.signatures)} certificates signed, ${f(r.commits)} store commits (mean ${f(r.commitMeanMs, 2, ' ms')}, p99 at most ${f(r.commitP99BoundMs, 2, ' ms')})`);
  console.log(`  plan change (${f(r.changed)} nodes changed; ApplyPlan call ${f(r.applyCallMs, 0, ' ms')}): reached agents p50 ${f(r.p50, 0, ' ms')}, p99 ${f(r.p99, 0, ' ms')}, max ${f(r.max, 0, ' ms')}; all applied after ${f(r.appliedAllMs, 0, ' ms')}`);
  console.log(`  coordinator RSS ${f(r.rssMB, 0, ' MB')} (peak ${f(r.hwmMB, 0, ' MB')}); by region (MB): ${r.rssSplit ?? '—'}`);
  if (STEADY_S > 0) console.log(`  steady state (${STEADY_S} s, reports every ${REPORT_MS / 1000} s, watches held 55 s): coordinator ${f(r.steadyCores, 3, ' cores')}, RSS ${f(r.steadyRssMB, 0, ' MB')}`);
  console.log(`  served by the coordinator before any restart (its /metrics): ${r.served ?? '—'}`);
  if (values.restart) console.log(`  restart (SIGTERM, start again, every agent back): stopped after ${f(r.restartStopMs, 0, ' ms')}, listening again after ${f(r.restartStartMs, 0, ' ms')}, all ${r.agents} watching again after ${f(r.restartBackMs, 0, ' ms')} (coordinator CPU meanwhile ${f(r.restartCpuS, 1, ' s')}); what the agents were answered meanwhile: ${r.restartErrors ?? '—'}`);
  console.log(`  simulator (${SIM_PROCS} processes): CPU ${f(r.simCpuS, 1, ' s')} (${f(r.simCpuS !== undefined ? (r.simCpuS * 1000) / r.agents : undefined, 1, ' ms')} per agent), RSS ${f(r.simRssMB, 0, ' MB')}, event-loop delay p99 ${f(r.simLagMs?.[0], 0, ' ms')}, max ${f(r.simLagMs?.[1], 0, ' ms')}; agent-side errors/retries: ${r.errors ?? '—'}`);
}

const rows: Row[] = [];
for (const n of SIZES) {
  const row: Row = { agents: n, load: loadavg().map((x) => x.toFixed(2)).join(' '), reached: 'starting' };
  rows.push(row);
  try {
    await runSize(n, row);
  } catch (err) {
    console.error(`  ${n} agents: ${(err as Error).message}`);
  }
  printRow(row);
  if (row.reached !== 'done') break;
}
console.log(`\n| agents | joins | coordinator CPU per join (net of steady traffic) | ApplyPlan call | change reaching agents p99 | coordinator RSS | steady CPU (${STEADY_S} s) | steady RSS | restart: all back | load before |`);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.agents.toLocaleString('en')}${r.reached === 'done' ? '' : ` (stopped: ${r.reached})`} | ${f(r.joinS, 1, ' s')} | ${f(r.cpuPerJoinMs, 2, ' ms')} (${f(r.netPerJoinMs, 2, ' ms')}) | ${f(r.applyCallMs !== undefined ? r.applyCallMs / 1000 : undefined, 2, ' s')} | ${f(r.p99 !== undefined ? r.p99 / 1000 : undefined, 2, ' s')} | ${f(r.rssMB, 0, ' MB')} | ${f(r.steadyCores, 3, ' cores')} | ${f(r.steadyRssMB, 0, ' MB')} | ${f(r.restartBackMs !== undefined ? r.restartBackMs / 1000 : undefined, 1, ' s')} | ${r.load} |`);
process.exit(0);
