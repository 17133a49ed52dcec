// writeFileAtomic: unchanged files are left alone (same inode, same mtime), a mode-only
// difference counts as a change, and no temp file survives a write, failed or not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, statSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../shared/fs/atomic-write.ts';

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

const mode = (p: string) => statSync(p).mode & 0o7777;
/** Names in dir that look like writeFileAtomic's temp files (`.NAME.PID.HEX.tmp`). */
const temps = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));

test('same bytes and mode: changed false, the file is not touched (inode and mtime kept)', async () => {
  const dir = tempDir('muster-atomic-');
  const file = join(dir, 'a.conf');
  assert.equal(await writeFileAtomic(file, 'hello\n', { mode: 0o640 }), { path: file, changed: true });
  // An mtime in the past, so a rewrite within the same clock tick could not hide.
  utimesSync(file, 1_000_000, 1_000_000);
  const before = statSync(file);
  assert.equal(await writeFileAtomic(file, 'hello\n', { mode: 0o640 }), { path: file, changed: false });
  assert.equal(await writeFileAtomic(file, Buffer.from('hello\n'), { mode: 0o640 }), { path: file, changed: false }, 'bytes compare equal to the string');
  const after = statSync(file);
  assert.is(after.ino, before.ino);
  assert.is(after.mtimeMs, before.mtimeMs);
  assert.is(mode(file), 0o640);
  assert.equal(temps(dir), []);
});

test('same bytes, different mode: changed true and the mode applied', async () => {
  const dir = tempDir('muster-atomic-');
  const file = join(dir, 'identity.key');
  await writeFileAtomic(file, 'secret\n', { mode: 0o600 });
  chmodSync(file, 0o644); // someone loosened it
  assert.equal(await writeFileAtomic(file, 'secret\n', { mode: 0o600 }), { path: file, changed: true });
  assert.is(mode(file), 0o600);
  assert.is(readFileSync(file, 'utf8'), 'secret\n');
  // The default mode is 0o644: a file at 0o600 written without a mode changes too.
  assert.equal(await writeFileAtomic(file, 'secret\n'), { path: file, changed: true });
  assert.is(mode(file), 0o644);
  assert.equal(await writeFileAtomic(file, 'secret\n'), { path: file, changed: false });
  assert.equal(temps(dir), []);
});

test('different bytes: changed true, new content and mode, whatever the umask', async () => {
  const dir = tempDir('muster-atomic-');
  const file = join(dir, 'sub', 'deeper', 'b.yaml');
  assert.equal(await writeFileAtomic(file, 'one\n', { mode: 0o644 }), { path: file, changed: true }, 'missing parents are created');
  assert.equal(await writeFileAtomic(file, 'two\n', { mode: 0o644 }), { path: file, changed: true }, 'same length, other bytes');
  assert.is(readFileSync(file, 'utf8'), 'two\n');
  assert.equal(await writeFileAtomic(file, 'three\n', { mode: 0o666 }), { path: file, changed: true });
  assert.is(readFileSync(file, 'utf8'), 'three\n');
  assert.is(mode(file), 0o666, 'the umask does not narrow the final mode');
  assert.equal(temps(join(dir, 'sub', 'deeper')), []);
});

test('concurrent writes to one path are queued: the last one wins, no temp file left', async () => {
  const dir = tempDir('muster-atomic-');
  const file = join(dir, 'c');
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => writeFileAtomic(file, `v${i}\n`)));
  assert.ok(results.every((r) => r.changed));
  assert.is(readFileSync(file, 'utf8'), 'v19\n');
  assert.equal(temps(dir), []);
});

test('a failed write leaves no temp file: parent is a file, target is a directory', async () => {
  const dir = tempDir('muster-atomic-');
  writeFileSync(join(dir, 'plain'), 'x');
  try {
    await writeFileAtomic(join(dir, 'plain', 'child'), 'data');
    assert.unreachable('writing under a file must fail');
  } catch (err) {
    assert.ok(['ENOTDIR', 'EEXIST'].includes((err as NodeJS.ErrnoException).code!), String(err));
  }
  assert.equal(readdirSync(dir), ['plain']);

  // The temp file is created, then the rename onto a directory fails: it must be removed.
  const target = join(dir, 'is-a-dir');
  mkdirSync(target);
  try {
    await writeFileAtomic(target, 'data');
    assert.unreachable('renaming a file onto a directory must fail');
  } catch (err) {
    assert.ok(['EISDIR', 'ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code!), String(err));
  }
  assert.equal(readdirSync(dir).sort(), ['is-a-dir', 'plain']);
  assert.ok(statSync(target).isDirectory());
  // A failed write does not block the next one to the same path (its queue moves on).
  rmdirSync(target);
  assert.equal(await writeFileAtomic(target, 'fine'), { path: target, changed: true });
  assert.is(readFileSync(target, 'utf8'), 'fine');
  assert.equal(readdirSync(dir).sort(), ['is-a-dir', 'plain']);
});

test.run();
