// The fleet as it is, through the real CLI entry against a real coordinator and three agents:
// node list / describe, status saying who is up to date, a node that stops reporting shown
// offline (never "applying"), status --watch redrawing on change, node assign that changes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempDir, testCoordinator, threeNodePlan, runAgent, waitFor, type RunningAgent } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { main } from '../../coordinator/cli/main.ts';
import { memoryIO, type CliIO } from '../../shared/cli/io.ts';

const net = addressBlock(import.meta.url);
const ADDRS = [net.host(2), net.host(3), net.host(4)] as const;
const NAMES = ['node-1', 'node-2', 'node-3'];
const dir = tempDir();
const dataDir = join(dir, 'coord');
// Short, so the test sees a node go offline; live agents long-poll every 200 ms, well inside it.
const OFFLINE_AFTER_MS = 5000;
let c: Awaited<ReturnType<typeof testCoordinator>> | undefined;
let agents: RunningAgent[] = [];

async function cli(args: string[], io: CliIO & { stdout: string; stderr: string } = memoryIO()) {
  const code = await main([...args, '--data-dir', dataDir], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}
const row = (name: string) => c!.state.status().find((r) => r.name === name)!;

test.after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await c?.close();
});

test('set-up: three agents apply their roles', async () => {
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, threeNodePlan('fleet', '', { addresses: ADDRS }));
  c = await testCoordinator(dataDir, { planFile, listen: `${net.host(1)}:0`, offlineAfterMs: OFFLINE_AFTER_MS });
  const { token } = await c.state.tokens.create({ uses: 3 });
  agents = NAMES.map((name, i) =>
    runAgent({ coordinator: c!.address, token, caHash: c!.identity.caPin, nodeName: name, address: ADDRS[i]!, stateDir: join(dir, name, 'state'), root: join(dir, name, 'root'), watchHoldMs: 200, reportIntervalMs: 200 }),
  );
  await waitFor('all applied', () => c!.state.status().length === 3 && c!.state.status().every((r) => r.upToDate));
});

test('node list: a row per node with up to date, revisions, agent; --json', async () => {
  const r = await cli(['node', 'list']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /NAME\s+ADDRESS\s+ROLES\s+STATE\s+UP TO DATE\s+ASSIGNED\s+APPLIED\s+AGENT\s+LAST SEEN/);
  assert.match(r.stdout, new RegExp(`node-1\\s+${ADDRS[0].replaceAll('.', '\\.')}\\s+etcd,master\\s+applied rev (\\d+)\\s+yes\\s+\\1\\s+\\1\\s+test\\s+\\d+s ago`));
  const j = await cli(['node', 'list', '--json']);
  assert.is(j.code, 0);
  const nodes = JSON.parse(j.stdout) as { name: string; up_to_date: boolean; state: string }[];
  assert.equal(nodes.map((n) => [n.name, n.up_to_date, n.state]), NAMES.map((n) => [n, true, 'applied']));
  const usage = await cli(['node', 'list', 'extra']);
  assert.is(usage.code, 2, 'a usage error');
  assert.match(usage.stderr, 'usage: muster node list [--json]');
});

test('status: says how many are up to date, and for each node', async () => {
  const r = await cli(['status']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'cluster fleet, plan revision 1, 3 node(s), 3/3 up to date');
  assert.match(r.stdout, /LAST SEEN\s+UP TO DATE\n/);
  assert.match(r.stdout, /node-2\s+\S+\s+worker\s+applied rev \d+\s+passed\s+\d+s ago\s+yes/);
  const j = JSON.parse((await cli(['status', '--json'])).stdout);
  assert.equal(j.nodes.map((n: { up_to_date: boolean }) => n.up_to_date), [true, true, true]);
});

test('node describe: facts, roles, assignment, preflight, certificates, events; --json; unknown node', async () => {
  const r = await cli(['node', 'describe', 'node-1']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Name:\s+node-1$/m);
  assert.match(r.stdout, /^Roles:\s+etcd,master$/m);
  assert.match(r.stdout, /^Installed:\s+etcd,master$/m);
  assert.match(r.stdout, /^Assignment:\s+revision \d+ from plan revision 1; applied \d+; up to date$/m);
  assert.match(r.stdout, /^  os\s+Debian GNU\/Linux 12 \(bookworm\), kernel 6\.1\.0/m);
  assert.match(r.stdout, /^  memory\s+8\.0 GiB/m);
  assert.match(r.stdout, /^Preflight:\s+passed/m);
  assert.match(r.stdout, /^Certificates:\n  admin\s+expires \S+ \(\d+d left\), serial [0-9a-f]+$/m);
  assert.match(r.stdout, /^  etcd-server\s+expires/m);
  assert.match(r.stdout, /^Events:\n  \S+  joined from /m, r.stdout);
  assert.match(r.stdout, /  plan revision 1 gave assignment revision \d+: etcd,master/);
  assert.match(r.stdout, /  applied revision \d+ in \d+ ms/);
  const j = JSON.parse((await cli(['node', 'describe', 'node-2', '--json'])).stdout);
  assert.is(j.status.name, 'node-2');
  assert.equal(j.installed_roles, ['worker']);
  assert.is(j.facts.cpu.logical_cores, 4);
  assert.ok(Array.isArray(j.certificates));
  assert.is(j.preflight.state, 'passed');
  const none = await cli(['node', 'describe', 'nosuch']);
  assert.is(none.code, 1);
  assert.match(none.stderr, 'node nosuch is not registered');
});

test('node assign that changes nothing says why and exits 1', async () => {
  const clear = await cli(['node', 'assign', 'node-2', '--clear']);
  assert.is(clear.code, 1, clear.stdout);
  assert.match(clear.stderr, 'node node-2 has no operator roles to clear; the plan decides its roles already (it holds worker)');
  const pin = await cli(['node', 'assign', 'node-2', '--role', 'worker']);
  assert.is(pin.code, 0, pin.stderr);
  const again = await cli(['node', 'assign', 'node-2', '--role', 'worker']);
  assert.is(again.code, 1);
  assert.match(again.stderr, /node node-2 is pinned to worker already \(since \S+\); nothing changed/);
  const unpin = await cli(['node', 'assign', 'node-2', '--clear']);
  assert.is(unpin.code, 0, unpin.stderr);
});

test('a node that stops reporting goes offline, never "applying"; status --watch redraws on it', async () => {
  const ac = new AbortController();
  const io = Object.assign(memoryIO(), { signal: ac.signal });
  const watching = cli(['status', '--watch'], io);
  await waitFor('the first frame', () => io.stdout.includes('3/3 up to date'));
  assert.is(io.stdout.split('--- ').length - 1, 1, 'one frame while nothing changes');

  await agents[2]!.stop();
  // A plan change node-3 never gets: it must show offline, not "applying rev N".
  writeFileSync(join(dir, 'plan2.yaml'), threeNodePlan('fleet', ', labels: { tier: web }', { addresses: ADDRS }));
  const wait = await cli(['plan', 'apply', join(dir, 'plan2.yaml'), '--wait', '--timeout', '30s']);
  assert.is(wait.code, 1, 'an offline node fails the wait');
  assert.match(wait.stderr, /not applying: node-3 \(offline for \d+s; revision \d+ not applied\)/);
  assert.is(row('node-3').state, 'offline');
  assert.match(row('node-3').detail, /^offline for \d+s \(last seen \S+\); revision \d+ not applied$/);
  assert.ok(row('node-3').lastSeenMs <= Date.now() - OFFLINE_AFTER_MS);
  assert.is(row('node-2').state, 'applied');

  const s = await cli(['status']);
  assert.match(s.stdout, /node-3\s+\S+\s+worker\s+offline for \d+s; revision \d+ not applied\s+/);
  assert.not.match(s.stdout, /node-3.*applying/);
  assert.match(s.stdout, '2/3 up to date');

  await waitFor('a frame showing node-3 offline', () => /node-3 .*offline for/.test(io.stdout.split('--- ').at(-1) ?? ''));
  ac.abort();
  assert.is((await watching).code, 0);
  assert.ok(io.stdout.split('--- ').length - 1 >= 2, 'redrawn');

  // Back: it reports again, applies what it missed, and is no longer offline.
  agents[2] = runAgent({ coordinator: c!.address, caHash: c!.identity.caPin, nodeName: 'node-3', address: ADDRS[2], stateDir: join(dir, 'node-3', 'state'), root: join(dir, 'node-3', 'root'), watchHoldMs: 200, reportIntervalMs: 200 });
  await waitFor('node-3 back and up to date', () => row('node-3').upToDate && row('node-3').state === 'applied');
});

test.run();
