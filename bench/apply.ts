// The agent's apply cycle, measured on the real programs: a coordinator (dist/muster.cjs) and one
// muster-agent process (dist/muster-agent.cjs) for a master+etcd node and one for a worker, each
// on its own loopback address and node root. Printed:
//   - the full first apply: keys made, one IssueCertificates call, every file written (the
//     duration the agent reports for it);
//   - a pass with nothing to change (the drift check each report interval: certificates
//     checked, every file rendered and compared), wall and CPU, median and max over the passes;
//   - the agent's RSS while idle.
// Targets (issue 11): nothing-to-change pass under 50 ms CPU, first apply under 1 s, idle RSS
// under 80 MB.
//
// The agents run with AGENT_NODE_FLAGS (shared/constants.ts), the flags their bundle's shebang and
// single executable carry; the environment variable AGENT_NODE_FLAGS="--flag ..." replaces them
// for experiments (AGENT_NODE_FLAGS="" runs them with Node's defaults).
//
//   npm run build && node bench/apply.ts [seconds idle, default 20]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../shared/net/free-port.ts';
import { AGENT_NODE_FLAGS } from '../shared/constants.ts';

const IDLE_S = Number(process.argv[2] ?? 20);
const AGENT_FLAGS = process.env.AGENT_NODE_FLAGS === undefined ? [...AGENT_NODE_FLAGS] : process.env.AGENT_NODE_FLAGS.split(' ').filter(Boolean);
const dir = mkdtempSync(join(tmpdir(), 'muster-bench-apply-'));
const HOST = '127.0.80.1';
const NODES = [
  { name: 'm1', ip: '127.0.80.2', roles: 'etcd+master' },
  { name: 'w1', ip: '127.0.80.3', roles: 'worker' },
];
const PLAN = `cluster:
  name: bench-apply
  version: v1.36.3
  preflight: { max_peer_latency_ms: 1000, ignore: [all] }
etcd: { expected_count: 1, nodes: [{ host: m1, ip: 127.0.80.2 }] }
master: { expected_count: 1, nodes: [{ host: m1, ip: 127.0.80.2 }] }
worker: { expected_count: 1, nodes: [{ host: w1, ip: 127.0.80.3 }] }
`;

const children: ChildProcess[] = [];
process.on('exit', () => {
  children.forEach((c) => c.kill('SIGKILL'));
  // The agents die a moment after SIGKILL and may still be writing: retried, and never fatal.
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  } catch {
    /* left in the temp dir */
  }
});

function start(args: string[], onLine: (l: string) => void): ChildProcess {
  const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  let buf = '';
  const feed = (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  };
  c.stdout!.on('data', feed);
  c.stderr!.on('data', feed);
  return c;
}

function until<T>(what: string, ms: number, get: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      const v = get();
      if (v !== undefined) {
        clearInterval(t);
        resolve(v);
      } else if (Date.now() > deadline) {
        clearInterval(t);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 50);
  });
}

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const port = await freePort(HOST);
writeFileSync(join(dir, 'plan.yaml'), PLAN);
let join_ = '';
start(['dist/muster.cjs', 'coordinator', 'serve', '--data-dir', join(dir, 'coord'), '--plan', join(dir, 'plan.yaml'), '--listen', `${HOST}:${port}`, '--log-level', 'warn'], (l) => {
  if (l.includes('muster-agent run --coordinator')) join_ = l.trim();
});
const cmd = await until('the join command', 30_000, () => join_ || undefined);
const token = /--token (\S+)/.exec(cmd)![1]!;
const pin = /--ca-hash (\S+)/.exec(cmd)![1]!;

interface AgentRun {
  name: string;
  roles: string;
  proc: ChildProcess;
  firstApplyMs?: number;
  firstFiles?: number;
  passes: { wall: number; cpu: number; files: number }[];
}
const runs: AgentRun[] = [];
for (const n of NODES) {
  const cfg = join(dir, `${n.name}.yaml`);
  writeFileSync(cfg, 'report_interval_ms: 1000\n');
  const run: AgentRun = { name: n.name, roles: n.roles, proc: null as unknown as ChildProcess, passes: [] };
  run.proc = start(
    [...AGENT_FLAGS, 'dist/muster-agent.cjs', 'run', '--config', cfg, '--coordinator', `${HOST}:${port}`, '--token', token, '--ca-hash', pin, '--node-name', n.name, '--address', n.ip, '--state-dir', join(dir, n.name, 'state'), '--root', join(dir, n.name, 'root'), '--probe-port', '0', '--log-level', 'debug'],
    (l) => {
      const pass = /pass over revision \d+: (\d+) files, (\d+) changed, in ([\d.]+) ms \(CPU ([\d.]+) ms\)/.exec(l);
      if (pass) {
        const files = Number(pass[1]);
        if (run.firstApplyMs === undefined && Number(pass[2]) > 0) {
          run.firstApplyMs = Number(pass[3]);
          run.firstFiles = files;
        } else if (Number(pass[2]) === 0) run.passes.push({ wall: Number(pass[3]), cpu: Number(pass[4]), files });
      }
    },
  );
  runs.push(run);
}
await until('both agents applied', 60_000, () => (runs.every((r) => r.firstApplyMs !== undefined) ? true : undefined));
await new Promise((r) => setTimeout(r, IDLE_S * 1000));

console.log(`agent apply cycle (this machine, ${IDLE_S} s idle, a drift pass each second; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; agent flags: ${AGENT_FLAGS.join(' ') || '(none)'})`);
for (const r of runs) {
  const cpu = r.passes.map((p) => p.cpu);
  const wall = r.passes.map((p) => p.wall);
  console.log(`  ${r.name} (${r.roles}): first apply ${r.firstApplyMs!.toFixed(0)} ms for ${r.firstFiles} files (keys, one IssueCertificates call, every file)`);
  console.log(`    nothing-to-change pass over ${r.passes[0]?.files ?? 0} files: CPU median ${median(cpu).toFixed(1)} ms, max ${Math.max(...cpu).toFixed(1)} ms; wall median ${median(wall).toFixed(1)} ms (${r.passes.length} passes)`);
  console.log(`    idle RSS ${rss(r.proc.pid!).toFixed(0)} MB`);
}
const worst = (f: (r: AgentRun) => number) => Math.max(...runs.map(f));
console.log('targets:');
console.log(`  nothing-to-change pass < 50 ms CPU: ${worst((r) => median(r.passes.map((p) => p.cpu))).toFixed(1)} ms (median, worst node) ${worst((r) => median(r.passes.map((p) => p.cpu))) < 50 ? 'met' : 'NOT met'}`);
console.log(`  first apply < 1 s: ${worst((r) => r.firstApplyMs!).toFixed(0)} ms ${worst((r) => r.firstApplyMs!) < 1000 ? 'met' : 'NOT met'}`);
console.log(`  idle RSS < 80 MB: ${worst((r) => rss(r.proc.pid!)).toFixed(0)} MB ${worst((r) => rss(r.proc.pid!)) < 80 ? 'met' : 'NOT met'}`);
process.exit(0);
