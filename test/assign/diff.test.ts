// diffText: a unified diff that GNU patch applies, minimal for small inputs, bounded for big ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffText } from '../../coordinator/assign/index.ts';
import { requireTool } from '../helpers/tools.ts';

/** Apply with the real GNU patch; returns the patched text. */
function gnuPatch(oldText: string, diff: string): string {
  requireTool('patch', 'patch');
  const dir = mkdtempSync(join(tmpdir(), 'muster-diff-'));
  try {
    writeFileSync(join(dir, 'old'), oldText);
    writeFileSync(join(dir, 'd.patch'), diff);
    execFileSync('patch', ['--quiet', '--force', '-o', join(dir, 'out'), join(dir, 'old'), join(dir, 'd.patch')], { stdio: ['ignore', 'pipe', 'pipe'] });
    return readFileSync(join(dir, 'out'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function lcs(a: string[], b: string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(row[j]!, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

const changed = (d: string) => d.split('\n').filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l)).length;

test('equal texts give an empty diff', () => {
  assert.is(diffText('', '', 'a', 'b'), '');
  assert.is(diffText('x\ny\n', 'x\ny\n', 'a', 'b'), '');
});

test('a one-line change with three lines of context, GNU hunk headers', () => {
  const oldText = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].join('\n') + '\n';
  const newText = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h'].join('\n') + '\n';
  assert.is(diffText(oldText, newText, 'plan@1', 'plan@2'), ['--- plan@1', '+++ plan@2', '@@ -2,7 +2,7 @@', ' b', ' c', ' d', '-e', '+E', ' f', ' g', ' h', ''].join('\n'));
});

test('distant changes make separate hunks, near ones merge', () => {
  const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
  const far = [...lines];
  far[2] = 'X';
  far[25] = 'Y';
  assert.is(diffText(lines.join('\n'), far.join('\n'), 'a', 'b').match(/^@@/gm)!.length, 2);
  const near = [...lines];
  near[2] = 'X';
  near[8] = 'Y'; // 5 unchanged lines between: within 2 * 3 context
  assert.is(diffText(lines.join('\n'), near.join('\n'), 'a', 'b').match(/^@@/gm)!.length, 1);
});

test('from and to empty text', () => {
  assert.is(diffText('', 'a\nb\n', 'a', 'b'), '--- a\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n');
  assert.is(diffText('a\n', '', 'a', 'b'), '--- a\n+++ b\n@@ -1 +0,0 @@\n-a\n');
});

test('a missing final newline is shown the way diff -u shows it, and patch applies it', () => {
  const d = diffText('a\nb\n', 'a\nb', 'x', 'y');
  assert.is(d, '--- x\n+++ y\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n');
  assert.is(gnuPatch('a\nb\n', d), 'a\nb');
  assert.is(gnuPatch('a\nb', diffText('a\nb', 'a\nc\n', 'x', 'y')), 'a\nc\n');
});

test('random edits: GNU patch reproduces the new text and the script is minimal', () => {
  let seed = 42;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  for (let round = 0; round < 60; round++) {
    const a = Array.from({ length: rand(25) }, () => `l${rand(6)}`);
    const b = a.filter(() => rand(4) !== 0).flatMap((l) => (rand(5) === 0 ? [l, `n${rand(6)}`] : [l]));
    const oldText = a.length ? `${a.join('\n')}\n` : '';
    const newText = b.length ? `${b.join('\n')}\n` : '';
    const d = diffText(oldText, newText, 'old', 'new');
    assert.is(changed(d), a.length + b.length - 2 * lcs(a, b), `round ${round}: not minimal\n${d}`);
    if (d) assert.is(gnuPatch(oldText, d), newText, `round ${round}\n${d}`);
  }
});

test('large inputs: few edits in 20,000 lines, and two unrelated 5,000-line files (past the edit bound)', () => {
  const big = Array.from({ length: 20_000 }, (_, i) => `  - host: node-${i}`);
  const edited = [...big];
  edited.splice(10_000, 1, '  - host: replaced');
  edited.push('  - host: added');
  const d = diffText(big.join('\n') + '\n', edited.join('\n') + '\n', 'a', 'b');
  assert.is(changed(d), 3);

  const x = Array.from({ length: 5000 }, (_, i) => `x${i}`).join('\n') + '\n';
  const y = Array.from({ length: 5000 }, (_, i) => `y${i}`).join('\n') + '\n';
  const d2 = diffText(x, y, 'a', 'b');
  assert.is(changed(d2), 10_000);
  assert.is(gnuPatch(x, d2), y);
});

test.run();
