// Benchmark: what a fact collection costs, next to Debian's `facter --json` run side by side,
// and how many bytes a steady node's Report carries.
//
//   node bench/facts.ts [--rounds N]      (default 3 rounds; needs facter: apt-get install -y facter)
//
// Per round: a muster process that collects once and exits (like `muster-agent facts`); one that
// collects once cold (version probes spawned) and then REPEATS times warm (versions cached),
// timed inside the process; and facter --json twice. CPU is user+system of the process
// and every child it waited for, read from /proc/PID/stat (utime, stime, cutime, cstime) -- what
// `/usr/bin/time` reports, without needing it installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { collectFacts, diffFacts } from '../agent/facts/index.ts';

const REPEATS = 5;
/** USER_HZ: /proc reports CPU times in these ticks; fixed at 100 by the Linux ABI. */
const TICKS_PER_S = 100;

interface Sample {
  wallMs: number;
  selfCpuMs: number;
  childCpuMs: number;
}

/** CPU of this process (self) and of its waited-for children, ms. */
function procCpu(pid: number | 'self' = 'self'): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // Fields after "(comm) ": state=0 ... utime=11 stime=12 cutime=13 cstime=14.
  return { self: ((f[11] ?? 0) + (f[12] ?? 0)) * (1000 / TICKS_PER_S), children: ((f[13] ?? 0) + (f[14] ?? 0)) * (1000 / TICKS_PER_S) };
}

async function measure(fn: () => Promise<unknown>): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const kids0 = procCpu().children;
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, selfCpuMs: (cpu.user + cpu.system) / 1000, childCpuMs: procCpu().children - kids0 };
}

/** Child mode: collect cold, then warm, print the samples and the report sizes as JSON. */
async function child(): Promise<void> {
  const cold = await measure(() => collectFacts());
  const warm: Sample[] = [];
  for (let i = 0; i < REPEATS; i++) warm.push(await measure(() => collectFacts()));

  // Loaded here, not at the top, so the --once process measures collection alone.
  const { default: protobuf } = await import('protobufjs');
  const { MUSTER_V1_DESCRIPTOR } = await import('../proto/gen/descriptor.ts');
  const root = protobuf.Root.fromJSON(MUSTER_V1_DESCRIPTOR as protobuf.INamespace);
  const Report = root.lookupType('muster.v1.ReportRequest');
  const size = (facts: object, full: boolean) =>
    Report.encode(Report.fromObject({ facts, full, sent_at_ms: Date.now(), agent_version: '0.1.0', probe_port: 7444 })).finish().length;
  const first = await collectFacts();
  const full = diffFacts(null, first);
  // A steady node: collect again a little later and send only what changed.
  await new Promise((r) => setTimeout(r, 200));
  const steady = diffFacts(first, await collectFacts());
  process.stdout.write(
    JSON.stringify({ cold, warm, fullBytes: size(full.facts, true), steadyBytes: size(steady.facts, false), steadyChanged: steady.changed }),
  );
}

/** Runs `cmd` under sh and reads sh's cutime/cstime afterwards: the command's CPU including its children. */
function runMeasured(cmd: string[]): { wallMs: number; cpuMs: number; stdout: string } {
  const quoted = cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `${quoted} 2>/dev/null; echo; echo "@@CPU $(cut -d')' -f2 /proc/$$/stat)"`;
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wallMs = performance.now() - t0;
  const marker = r.stdout.lastIndexOf('@@CPU ');
  const f = r.stdout.slice(marker + 6).trim().split(' ').map(Number);
  // After "(comm)": state=0 ... cutime=13 cstime=14; the trailing `cut` is not waited for yet.
  const cpuMs = ((f[13] ?? 0) + (f[14] ?? 0)) * (1000 / TICKS_PER_S);
  return { wallMs, cpuMs, stdout: r.stdout.slice(0, marker) };
}

function fmt(ms: number): string {
  return `${ms.toFixed(0).padStart(5)} ms`;
}

async function main(): Promise<void> {
  const roundsArg = process.argv.indexOf('--rounds');
  const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) || 3 : 3;
  if (spawnSync('sh', ['-c', 'command -v facter']).status !== 0) {
    console.error('facter is not installed; the benchmark compares against it. Install it with: apt-get install -y facter');
    process.exit(1);
  }
  const self = join(import.meta.dirname, 'facts.ts');
  // The agent ships as an esbuild bundle (packaging/build.ts); measure that form too, since
  // running .ts sources adds Node's type-stripping start-up to every process.
  const tmp = mkdtempSync(join(tmpdir(), 'muster-bench-'));
  const bundle = join(tmp, 'collect-once.mjs');
  await esbuild.build({
    stdin: { contents: "import { collectFacts } from './agent/facts/index.ts';\nawait collectFacts();\n", resolveDir: join(import.meta.dirname, '..'), loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    outfile: bundle,
    logLevel: 'warning',
  });
  console.log(`fact collection: muster vs facter --json, ${rounds} rounds side by side (${REPEATS} warm repeats per muster process)\n`);
  let sizes = '';
  for (let round = 1; round <= rounds; round++) {
    const once = runMeasured([process.execPath, self, '--once']);
    const bundled = runMeasured([process.execPath, bundle]);
    const m = runMeasured([process.execPath, self, '--child']);
    const r = JSON.parse(m.stdout.trim()) as { cold: Sample; warm: Sample[]; fullBytes: number; steadyBytes: number; steadyChanged: string[] };
    const f1 = runMeasured(['facter', '--json']);
    const f2 = runMeasured(['facter', '--json']);
    const warmWall = r.warm.reduce((a, s) => a + s.wallMs, 0) / r.warm.length;
    const warmCpu = r.warm.reduce((a, s) => a + s.selfCpuMs + s.childCpuMs, 0) / r.warm.length;
    const warmChild = r.warm.reduce((a, s) => a + s.childCpuMs, 0);
    console.log(`round ${round}`);
    console.log(`  muster first collection    wall ${fmt(r.cold.wallMs)}  cpu ${fmt(r.cold.selfCpuMs + r.cold.childCpuMs)} (self ${r.cold.selfCpuMs.toFixed(0)} + probes ${r.cold.childCpuMs.toFixed(0)})`);
    console.log(`  muster repeated (mean)     wall ${fmt(warmWall)}  cpu ${fmt(warmCpu)} (probe cpu over ${REPEATS} repeats: ${warmChild.toFixed(0)} ms)`);
    console.log(`  muster process, bundled    wall ${fmt(bundled.wallMs)}  cpu ${fmt(bundled.cpuMs)} (node start + 1 collection + probes, as shipped)`);
    console.log(`  muster process, .ts        wall ${fmt(once.wallMs)}  cpu ${fmt(once.cpuMs)} (the same from sources: + type stripping)`);
    console.log(`  facter --json first        wall ${fmt(f1.wallMs)}  cpu ${fmt(f1.cpuMs)}`);
    console.log(`  facter --json repeated     wall ${fmt(f2.wallMs)}  cpu ${fmt(f2.cpuMs)}`);
    sizes = `report size: full ${r.fullBytes} bytes; steady state ${r.steadyBytes} bytes (sections changed: ${r.steadyChanged.join(', ') || 'none'})`;
  }
  rmSync(tmp, { recursive: true, force: true });
  console.log(`\n${sizes}`);
  console.log('budget: a full collection within facter\'s wall time and at most 150 ms of CPU');
}

if (process.argv.includes('--once')) await collectFacts();
else if (process.argv.includes('--child')) await child();
else await main();
