// Crash safety: an applying agent SIGKILLed at random moments, over and over. After every kill,
// each file is whole -- absent, or exactly one generation's content, never torn or short -- and
// a last run without a kill converges: every file at the last generation, the dropped file
// removed, no temp file left behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cluster.ts';
import { CRASH_FILE_COUNT, crashContent } from './crash-files.ts';

const CHILD = new URL('./crash-child.ts', import.meta.url).pathname;
const ITERATIONS = 25;

function run(root: string, stateDir: string, gen: number, killAfterMs: number): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, root, stateDir, String(gen), String(killAfterMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, out });
    });
  });
}

function check(root: string, gens: number[]): string[] {
  const bad: string[] = [];
  for (let i = 0; i < CRASH_FILE_COUNT; i++) {
    const p = join(root, `etc/crash/d${i % 5}/file-${i}.conf`);
    if (!existsSync(p)) continue;
    const text = readFileSync(p, 'utf8');
    if (!gens.some((g) => text === crashContent(i, g))) bad.push(`${p}: ${text.length} bytes, starts ${JSON.stringify(text.slice(0, 30))}`);
  }
  return bad;
}

test(`killed at random points ${ITERATIONS} times: no file is ever torn, and the next run converges`, async () => {
  const dir = tempDir('muster-crash-');
  const root = join(dir, 'root');
  const state = join(dir, 'state');
  let kills = 0;
  for (let gen = 1; gen <= ITERATIONS; gen++) {
    // Node starts in ~40 ms on this machine and writes the set in tens of ms: the kill lands
    // anywhere from before the first write to after the last.
    const r = await run(root, state, gen, Math.floor(Math.random() * 120));
    if (r.signal === 'SIGKILL') kills++;
    else assert.is(r.code, 0, r.out);
    const bad = check(root, Array.from({ length: gen }, (_, g) => g + 1));
    assert.equal(bad, [], `after generation ${gen} (${r.signal ?? 'finished'})`);
  }
  assert.ok(kills >= ITERATIONS / 3, `most runs were killed mid-way (${kills} of ${ITERATIONS})`);
  // An odd generation: it drops file 7, so the converging run removes it.
  const last = ITERATIONS % 2 === 0 ? ITERATIONS + 1 : ITERATIONS + 2;
  const r = await run(root, state, last, -1);
  assert.is(r.code, 0, r.out);
  for (let i = 0; i < CRASH_FILE_COUNT; i++) {
    const p = join(root, `etc/crash/d${i % 5}/file-${i}.conf`);
    if (i === 7) assert.not.ok(existsSync(p), 'the file the last generation drops is removed');
    else assert.is(readFileSync(p, 'utf8'), crashContent(i, last), p);
  }
  const temps = [0, 1, 2, 3, 4].flatMap((d) => readdirSync(join(root, `etc/crash/d${d}`)).filter((n) => n.endsWith('.tmp')));
  assert.equal(temps, [], 'no temp file of a killed writer is left');
});

test.run();
