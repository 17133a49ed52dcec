// The README's first command: `npm run demo` (the built bundle, no terminal) brings up a
// coordinator and three agents, prints the status table and where to look, and stops; with
// --keep-running it stays up until Ctrl-C and then stops cleanly. The agents are real
// `muster-agent run` processes found next to the bundle: one that is refused ends the demo with
// exit 1 and a message naming it, and none outlives the demo. The demo's addresses (127.0.0.2-4)
// are the product's, not this test's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitFor } from '../helpers/cluster.ts';
import { AGENT_STATE } from '../../shared/constants.ts';
import { locateAgentProgram, type RunningProgram } from '../../coordinator/demo/agent-program.ts';
import { AgentProcess, type AgentExit } from '../../coordinator/demo/agent-process.ts';

const BUNDLE = join(import.meta.dirname, '../../dist/muster.cjs');
/** A stack frame line, as Node prints them: "    at fn (file:1:2)". */
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

/** Pids of processes whose command line contains `needle` (from /proc, no ps needed). */
function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const pid of execFileSync('ls', ['/proc'], { encoding: 'utf8' }).split('\n').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) pids.push(Number(pid));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

function demo(dir: string, extra: string[] = []) {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [BUNDLE, 'demo', '--dir', dir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  child.stdout.on('data', (d) => {
    out += d;
    stdout += d;
  });
  child.stderr.on('data', (d) => (out += d));
  // 'close': both pipes drained. Across two pipes the order of lines is not kept, so "the last
  // thing the demo says" is checked on stdout alone.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => out, stdout: () => stdout };
}

/** The promise's value, or 'timeout' after ms (the timer does not keep the process alive). */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]).finally(() => clearTimeout(timer));
}

test('demo without a terminal: three nodes applied, status table, where to look, then it stops', async () => {
  const dir = join(tempDir('muster-demo-'), 'demo');
  const d = demo(dir);
  const code = await within(d.exited, 90_000);
  const out = d.output();
  assert.is(code, 0, out);
  for (const row of ['node-1\\s+127\\.0\\.0\\.2\\s+etcd,master', 'node-2\\s+127\\.0\\.0\\.3\\s+worker', 'node-3\\s+127\\.0\\.0\\.4\\s+worker']) {
    assert.match(out, new RegExp(`${row}\\s+applied rev \\d+`));
  }
  assert.match(out, /All three agents joined, reported, and applied their assignment/);
  assert.match(d.stdout(), /demo stopped\.\n$/);
  assert.match(readFileSync(join(dir, 'nodes/node-1/root/etc/muster/assignment.yaml'), 'utf8'), /etcd/);
  assert.is(statSync(join(dir, 'nodes/node-2/state', AGENT_STATE.identity)).mode & 0o777, 0o600, 'the identity holds the private key');
  // Each agent ran as its own process, and its lines came out under its name.
  for (const n of ['node-1', 'node-2', 'node-3']) assert.match(out, new RegExp(`^${n} \\| .*agent: joined`, 'm'));
  assert.equal(processesWith(dir), [], 'no agent outlives the demo');
});

test('demo --keep-running stays up until SIGINT (Ctrl-C), then stops cleanly', async () => {
  const dir = join(tempDir('muster-demo-'), 'demo');
  const d = demo(dir, ['--keep-running']);
  await waitFor('the demo to be up', () => d.output().includes('press Ctrl-C to stop'), 90_000);
  assert.is(d.child.exitCode, null, 'still running');
  d.child.kill('SIGINT');
  const code = await within(d.exited, 15_000);
  assert.is(code, 0, d.output());
  assert.match(d.stdout(), /demo stopped\.\n$/);
  assert.equal(processesWith(dir), [], 'no agent outlives the demo');
});

test('an agent that is refused (its node removed by an operator) ends the demo: exit 1, the node named, no stack trace', async () => {
  const dir = join(tempDir('muster-demo-'), 'demo');
  const d = demo(dir, ['--keep-running']);
  await waitFor('the demo to be up', () => d.output().includes('press Ctrl-C to stop'), 90_000);
  // The operator's command, as the demo prints it: node-2's agent is refused from now on.
  execFileSync(process.execPath, [BUNDLE, 'node', 'remove', 'node-2', '--data-dir', join(dir, 'coordinator')], { encoding: 'utf8' });
  const code = await within(d.exited, 30_000);
  const out = d.output();
  assert.is(code, 1, out);
  assert.match(out, /demo: the agent of node-2 \(pid \d+\) exited with code 1 before the demo was done, so the demo stops the other agents and the coordinator\. Its last log lines:\n/);
  // Its last lines, in the message: the refusal, as the agent said it.
  const message = out.slice(out.indexOf('demo: the agent of node-2'));
  assert.match(message, /\n {4}muster-agent: node node-2 was removed by an operator/);
  assert.not.match(out, STACK_FRAME);
  assert.match(d.stdout(), /demo stopped\.\n$/, out.slice(-600));
  assert.equal(processesWith(dir), [], 'the other agents were stopped too');
});

test('a bundle without muster-agent.cjs beside it: a clear error saying how to build it, nothing started', async () => {
  const lone = tempDir('muster-demo-lone-');
  copyFileSync(BUNDLE, join(lone, 'muster.cjs'));
  const dir = join(lone, 'demo');
  const child = spawn(process.execPath, [join(lone, 'muster.cjs'), 'demo', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  const code = await within(new Promise<number | null>((r) => child.on('exit', (c) => r(c))), 30_000);
  assert.is(code, 1, out);
  assert.is(out, `muster: the demo runs each agent as a muster-agent program, but ${join(lone, 'muster-agent.cjs')} does not exist; build both programs with \`npm run build\`\n`);
  assert.not.ok(existsSync(dir), 'nothing created');
});

test('the agent program is found next to the running muster, in the same form', () => {
  const all = () => true;
  const node = '/usr/bin/node';
  const rows: Array<[RunningProgram, { command: string; args: string[] }]> = [
    [{ sea: false, execPath: node, entry: '/opt/m/dist/muster.cjs' }, { command: node, args: ['/opt/m/dist/muster-agent.cjs'] }],
    [{ sea: true, execPath: '/usr/local/bin/muster', entry: '/usr/local/bin/muster' }, { command: '/usr/local/bin/muster-agent', args: [] }],
    [{ sea: false, execPath: node, entry: '/src/muster/coordinator/cli/main.ts' }, { command: node, args: ['/src/muster/agent/cli/main.ts'] }],
  ];
  for (const [from, want] of rows) {
    const p = locateAgentProgram(from, all);
    assert.equal({ command: p.command, args: p.args }, want, JSON.stringify(from));
  }
  assert.throws(() => locateAgentProgram(rows[1]![0], () => false), /\/usr\/local\/bin\/muster-agent does not exist; build both single executables with `npm run build:sea`/);
  assert.throws(() => locateAgentProgram({ sea: false, execPath: node, entry: '/tmp/some-test.ts' }, all), /cannot tell where that is \(muster runs from \/tmp\/some-test\.ts\)/);
});

test('an agent that ignores SIGTERM is killed after the grace period; its last lines are kept', async () => {
  // A stand-in agent program: Node running a script that traps SIGTERM and says so.
  const script = "process.on('SIGTERM', () => console.error('ignoring SIGTERM')); console.error('line one'); console.log('ready'); setInterval(() => {}, 1000);";
  const lines: string[] = [];
  const a = new AgentProcess({ node: 'stubborn', program: { command: process.execPath, args: ['-e', script], path: 'stand-in' }, args: [], env: process.env, onLine: (l) => lines.push(l) });
  await waitFor('the stand-in to be ready', () => lines.includes('stubborn | ready'), 15_000);
  const exit: AgentExit = await a.stop(2_000);
  assert.is(exit.signal, 'SIGKILL');
  assert.is(exit.code, null);
  assert.is(a.running, false);
  assert.ok(exit.lastLines.includes('line one') && exit.lastLines.includes('ignoring SIGTERM'), JSON.stringify(exit.lastLines));
  assert.ok(lines.includes('stubborn | ignoring SIGTERM'));
});

test.run();
