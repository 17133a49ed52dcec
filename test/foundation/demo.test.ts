// The README's first command: `npm run demo` (the built bundle, no terminal) brings up a
// coordinator and three agents, prints the status table and where to look, and stops; with
// --keep-running it stays up until Ctrl-C and then stops cleanly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitFor } from '../helpers/cluster.ts';

const BUNDLE = join(import.meta.dirname, '../../dist/muster.cjs');

function demo(dir: string, extra: string[] = []) {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [BUNDLE, 'demo', '--dir', dir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
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
  assert.match(out, /demo stopped\.\n$/);
  assert.match(readFileSync(join(dir, 'nodes/node-1/root/etc/muster/assignment.yaml'), 'utf8'), /etcd/);
  assert.is(statSync(join(dir, 'nodes/node-2/state/identity.key')).mode & 0o777, 0o600);
});

test('demo --keep-running stays up until SIGINT (Ctrl-C), then stops cleanly', async () => {
  const dir = join(tempDir('muster-demo-'), 'demo');
  const d = demo(dir, ['--keep-running']);
  await waitFor('the demo to be up', () => d.output().includes('press Ctrl-C to stop'), 90_000);
  assert.is(d.child.exitCode, null, 'still running');
  d.child.kill('SIGINT');
  const code = await within(d.exited, 15_000);
  assert.is(code, 0, d.output());
  assert.match(d.output(), /demo stopped\.\n$/);
});

test.run();
