// Test runner: runs every test/**/*.test.ts file in its own Node process (real servers and
// ports are per-file, so files cannot disturb each other), two at a time, and ends with the line
// `N passed, N failed` that CI reads. A file that crashes or times out counts as one failure.
//
//   node test/run.ts [substring ...]     only files whose path contains one of the substrings
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { availableParallelism } from 'node:os';

const ROOT = join(import.meta.dirname, '..');
const FILE_TIMEOUT_MS = 10 * 60_000;
const EXIT_GRACE_MS = 20_000;

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

interface FileResult { file: string; passed: number; failed: number; skipped: number; output: string; code: number | null; ms: number }

/** Each file's own /24 of loopback (test/helpers/addresses.ts): 127.10.0 for the first file, ... */
function testNet(index: number): string {
  return `127.${10 + Math.floor(index / 250)}.${index % 250}`;
}

function runFile(file: string, index: number): Promise<FileResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', MUSTER_TEST_NET: testNet(index) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    // uvu prints its summary when the file's tests are done; a process still alive well after
    // that left something running (a server, an agent): kill it and count a failure, rather than
    // waiting for the file timeout.
    let exitTimer: NodeJS.Timeout | null = null;
    const onData = (d: Buffer) => {
      output += d;
      if (!exitTimer && /Duration:\s+[\d.]+m?s/.test(output)) {
        exitTimer = setTimeout(() => {
          output += `\n[runner] ${relative(ROOT, file)} did not exit ${EXIT_GRACE_MS / 1000}s after its tests finished (something was left running); killed\n`;
          child.kill('SIGKILL');
        }, EXIT_GRACE_MS);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      output += `\n[runner] ${relative(ROOT, file)} timed out after ${FILE_TIMEOUT_MS / 1000}s; killed\n`;
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (exitTimer) clearTimeout(exitTimer);
      const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(output)?.[1] ?? NaN);
      const total = num('Total');
      const passed = num('Passed');
      const skipped = num('Skipped');
      let res: FileResult;
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        res = { file, passed: 0, failed: 1, skipped: 0, output, code, ms: Date.now() - started };
      } else {
        let failed = total - passed - (skipped || 0);
        if (code !== 0 && failed === 0) failed = 1; // crashed after its tests, or exited non-zero
        res = { file, passed, failed, skipped: skipped || 0, output, code, ms: Date.now() - started };
      }
      resolve(res);
    });
  });
}

const filters = process.argv.slice(2);
const files = findTests(join(ROOT, 'test')).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
const queue = files.map((f, i) => ({ f, i }));
const results: FileResult[] = [];
const workers = Math.max(1, Math.min(Number(process.env.MUSTER_TEST_JOBS) || availableParallelism(), 4));

await Promise.all(
  Array.from({ length: workers }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { f, i } = next;
      const r = await runFile(f, i);
      results.push(r);
      const mark = r.failed ? 'FAIL' : 'ok  ';
      console.log(`${mark} ${relative(ROOT, f)}  ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}  (${(r.ms / 1000).toFixed(1)}s)`);
      if (r.failed) console.log(r.output.replace(/^/gm, '    | '));
    }
  }),
);

const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
const skipped = results.reduce((a, r) => a + r.skipped, 0);
if (files.length === 0) console.log('no test files found');
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed || files.length === 0 ? 1 : 0);
