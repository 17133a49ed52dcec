// The single executables, built as `npm run build:sea` builds them, run where there is no Node and
// no node_modules: a coordinator and an agent, each one file, join and apply on this file's loopback block.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSea } from '../../packaging/sea.ts';
import { AGENT_NODE_FLAGS, COORDINATOR_NODE_FLAGS } from '../../shared/constants.ts';
import { tempDir, waitFor } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';

const net = addressBlock(import.meta.url);

const ROOT = join(import.meta.dirname, '../..');
const dir = tempDir('muster-sea-test-');
// No node on PATH, nothing from this checkout's environment.
const env = { PATH: '/usr/bin:/bin', HOME: dir };

function start(bin: string, args: string[]): ChildProcess & { output: () => string } {
  const child = spawn(bin, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return Object.assign(child, { output: () => out });
}

function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

test('muster and muster-agent as single executables: one node joins and applies, with no Node installed', async () => {
  for (const b of ['dist/muster.cjs', 'dist/muster-agent.cjs']) {
    if (!existsSync(join(ROOT, b))) throw new Error(`${b} is missing: run \`npm run build\` first (npm test does)`);
  }
  const [muster, agent] = await buildSea(dir);
  assert.is(muster, join(dir, 'muster'));

  // Each program's V8 flags ride in its executable; neither prints a warning (e.g. the
  // experimental-SEA one) on stderr.
  const version = (bin: string) => spawnSync(bin, ['version', '--verbose'], { cwd: dir, env, encoding: 'utf8' });
  const c = version(muster!);
  assert.match(c.stdout, /single executable/);
  assert.match(c.stdout, `node flags: ${COORDINATOR_NODE_FLAGS.join(' ')}`);
  assert.is(c.stderr, '');
  const a = version(agent!);
  assert.match(a.stdout, `single executable\nnode flags: ${AGENT_NODE_FLAGS.join(' ')}`);
  assert.is(a.stderr, '');

  writeFileSync(
    join(dir, 'plan.yaml'),
    `cluster:
  name: sea
  version: v1.36.3
  preflight: { ignore: [all] }
etcd: { expected_count: 1, nodes: [ { host: node-1, ip: ${net.host(2)} } ] }
master: { expected_count: 1, nodes: [ { host: node-1, ip: ${net.host(2)} } ] }
worker: { expected_count: 0, nodes: [] }
`,
  );
  const coord = start(muster!, ['coordinator', 'serve', '--plan', 'plan.yaml', '--data-dir', 'data', '--listen', `${net.host(1)}:0`]);
  let node: ReturnType<typeof start> | undefined;
  try {
    const join_ = await waitFor('the join command', () => /muster-agent run --coordinator (\S+) --token (\S+) --ca-hash (\S+)/.exec(coord.output()), 20_000);
    node = start(agent!, ['run', '--coordinator', join_[1]!, '--token', join_[2]!, '--ca-hash', join_[3]!, '--node-name', 'node-1', '--address', net.host(2), '--state-dir', 'state', '--root', 'root', '--probe-port', '0']);
    const file = join(dir, 'root/etc/muster/assignment.yaml');
    await waitFor('the assignment on the node', () => existsSync(file), 20_000);
    assert.match(readFileSync(file, 'utf8'), /etcd/);
    const status = await waitFor(
      'status "applied"',
      () => {
        const s = JSON.parse(execFileSync(muster!, ['status', '--json', '--data-dir', 'data'], { cwd: dir, env, encoding: 'utf8' })) as { nodes: Array<{ name: string; state: string }> };
        return s.nodes.find((n) => n.name === 'node-1' && n.state.startsWith('applied')) ? s : null;
      },
      20_000,
    );
    assert.is(status.nodes.length, 1);
    assert.is(await stop(node), 0, node.output());
    assert.is(await stop(coord), 0, coord.output());
  } finally {
    if (node) await stop(node);
    await stop(coord);
  }
});

test.run();
