// Attacks on the apply engine's trust in its manifest and in the node tree: a tampered owned-files
// manifest (listing /etc/passwd, a path outside the root) must not delete anything muster did not
// write; an owned path swapped for a symbolic link to a secret must not be written through,
// chmodded through, read into a dry-run diff, copied back by a rollback, or have its target
// removed; a directory swapped for a link must not carry writes out of --root.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, captureLogger } from '../helpers/cluster.ts';
import { NodeApplier } from '../../agent/apply/engine.ts';
import { NoServices } from '../../agent/apply/services.ts';
import { ApplyError } from '../../agent/apply/transaction.ts';
import { AGENT_STATE } from '../../shared/constants.ts';
import type { FileSpec } from '../../shared/render/types.ts';

function setup() {
  const dir = tempDir('muster-redteam-');
  const root = join(dir, 'root');
  const stateDir = join(dir, 'state');
  mkdirSync(join(root, 'etc'), { recursive: true });
  // Outside the node root: what an attack tries to read, change or delete.
  const secret = join(dir, 'shadow');
  writeFileSync(secret, 'root:$6$secret-hash:19000:0:99999:7:::\n', { mode: 0o600 });
  const applier = new NodeApplier({ root, stateDir, log: captureLogger(), services: new NoServices(null, 'test') });
  const manifest = join(stateDir, AGENT_STATE.ownedFiles);
  const tamper = (edit: (m: { paths: string[]; written?: Record<string, string> }) => void) => {
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { paths: string[]; written?: Record<string, string> };
    edit(m);
    writeFileSync(manifest, JSON.stringify(m));
  };
  return { dir, root, secret, applier, tamper, at: (p: string) => join(root, p) };
}

const conf: FileSpec = { path: '/var/lib/kubelet/config.yaml', mode: 0o644, content: 'kind: KubeletConfiguration\n', triggers: [{ kind: 'restart', unit: 'kubelet.service' }] };
const unit: FileSpec = { path: '/etc/systemd/system/kubelet.service', mode: 0o644, content: '[Service]\nExecStart=/usr/bin/kubelet\n' };
const SECRET_TEXT = 'secret-hash';

test('a tampered manifest listing /etc/passwd (no hash, a forged hash) and a path outside the root deletes nothing', async () => {
  const { dir, at, applier, tamper } = setup();
  writeFileSync(at('/etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  writeFileSync(at('/etc/group'), 'root:x:0:\n');
  writeFileSync(join(dir, 'outside'), 'not the node\'s\n');
  await applier.apply([conf]);
  tamper((m) => {
    m.paths.push('/etc/passwd', '/etc/group', '/../outside', '/etc/../../outside');
    m.written = { ...m.written, '/etc/group': '0'.repeat(64) };
  });
  const r = await applier.apply([conf]);
  assert.equal(r.removed, []);
  assert.equal(r.kept.length, 4, r.kept.join('\n'));
  assert.match(r.kept.join('\n'), /\/etc\/passwd \(muster has no record of what it wrote there\)/);
  assert.match(r.kept.join('\n'), /\/etc\/group \(it changed since muster wrote it\)/);
  assert.match(r.kept.join('\n'), /leaves the node root/);
  assert.ok(existsSync(at('/etc/passwd')) && existsSync(at('/etc/group')) && existsSync(join(dir, 'outside')));
  // Decommissioning trusts the manifest no more than a pass does.
  await applier.apply([conf]);
  tamper((m) => m.paths.push('/etc/passwd'));
  const reset = await applier.removeAll();
  assert.equal(reset.removed, [conf.path]);
  assert.equal(reset.kept, ['/etc/passwd (muster has no record of what it wrote there)']);
  assert.ok(existsSync(at('/etc/passwd')));
});

test('a file muster wrote, edited and then no longer rendered is left in place and reported; an untouched one is removed', async () => {
  const { at, applier } = setup();
  await applier.apply([conf, unit]);
  writeFileSync(at(unit.path), '[Service]\nExecStart=/usr/bin/kubelet --operator-flag\n');
  const r = await applier.apply([]);
  assert.equal(r.removed, [conf.path]);
  assert.equal(r.kept, [`${unit.path} (it changed since muster wrote it)`]);
  assert.ok(existsSync(at(unit.path)));
  const again = await applier.apply([]);
  assert.equal([again.removed, again.kept], [[], []], 'no longer owned: not reported again');
});

test('an owned file swapped for a symlink to a secret: the dry run does not show it, the pass replaces the link, the target is untouched', async () => {
  const { at, secret, applier } = setup();
  await applier.apply([conf]);
  const link = at(conf.path);
  const { rmSync } = await import('node:fs');
  rmSync(link);
  symlinkSync(secret, link);
  const diff = (await applier.diff([conf])).map((d) => d.diff).join('\n');
  assert.not.match(diff, new RegExp(SECRET_TEXT), 'the target is never read into a diff');
  assert.match(diff, /a symbolic link \(to .*shadow\) would be replaced/);
  const r = await applier.apply([conf]);
  assert.equal(r.changed, [conf.path]);
  assert.equal(r.drift, [conf.path]);
  assert.ok(lstatSync(link).isFile(), 'the link itself was replaced');
  assert.is(readFileSync(link, 'utf8'), conf.content);
  assert.match(readFileSync(secret, 'utf8'), new RegExp(SECRET_TEXT));
  assert.is(statSync(secret).mode & 0o777, 0o600);
});

test('a symlink to a file that already holds the rendered bytes is replaced, not chmodded through', async () => {
  const { dir, at, applier } = setup();
  const target = join(dir, 'target');
  writeFileSync(target, conf.content, { mode: 0o600 });
  mkdirSync(at('/var/lib/kubelet'), { recursive: true });
  symlinkSync(target, at(conf.path));
  await applier.apply([conf]);
  assert.ok(lstatSync(at(conf.path)).isFile());
  assert.is(statSync(target).mode & 0o777, 0o600, 'the target keeps its mode');
});

test('a stale owned path swapped for a symlink: neither the link\'s target nor the link is removed', async () => {
  const { at, secret, applier } = setup();
  await applier.apply([conf, unit]);
  const { rmSync } = await import('node:fs');
  rmSync(at(unit.path));
  symlinkSync(secret, at(unit.path));
  const d = (await applier.diff([conf])).map((x) => x.diff).join('\n');
  assert.match(d, /kubelet\.service: no longer rendered, but would be left in place/);
  const r = await applier.apply([conf]);
  assert.equal(r.removed, []);
  assert.match(r.kept.join('\n'), /kubelet\.service \(it is a symbolic link/);
  assert.ok(existsSync(secret));
  assert.is(readlinkSync(at(unit.path)), secret);
});

test('a failing pass restores a replaced link as a link, never as a copy of its target', async () => {
  const { at, secret, applier } = setup();
  await applier.apply([conf]);
  const { rmSync } = await import('node:fs');
  rmSync(at(conf.path));
  symlinkSync(secret, at(conf.path));
  mkdirSync(at('/etc/blocked.conf'), { recursive: true });
  let err: unknown;
  try {
    await applier.apply([conf, { path: '/etc/ok.conf', mode: 0o644, content: 'x\n' }], {
      beforeStep: (p) => {
        if (p === '/etc/ok.conf') throw new Error('disk full');
      },
    });
  } catch (e) {
    err = e;
  }
  assert.instance(err, ApplyError);
  assert.ok(lstatSync(at(conf.path)).isSymbolicLink(), 'the link is back');
  assert.is(readlinkSync(at(conf.path)), secret);
});

test('a directory of the node tree swapped for a link out of --root: nothing is written, read or removed outside', async () => {
  const { dir, root, at, applier } = setup();
  const outside = join(dir, 'real-etc');
  mkdirSync(join(outside, 'systemd', 'system'), { recursive: true });
  writeFileSync(join(outside, 'systemd', 'system', 'kubelet.service'), `${SECRET_TEXT}\n`);
  await applier.apply([conf]);
  symlinkSync(outside, join(root, 'etc-link'));
  const { renameSync } = await import('node:fs');
  renameSync(at('/etc'), join(root, 'etc-orig'));
  renameSync(join(root, 'etc-link'), at('/etc'));
  let err: unknown;
  try {
    await applier.apply([conf, unit]);
  } catch (e) {
    err = e;
  }
  assert.instance(err, ApplyError);
  assert.match((err as Error).message, /leaves the node root through a symbolic link/);
  assert.is(readFileSync(join(outside, 'systemd', 'system', 'kubelet.service'), 'utf8'), `${SECRET_TEXT}\n`);
  let diffErr: unknown;
  await applier.diff([unit]).catch((e: unknown) => { diffErr = e; });
  assert.match(String(diffErr), /leaves the node root/, 'the dry run does not read it either');
});

test('/etc/hosts as a symlink: muster\'s block is not written into (or over) the target', async () => {
  const { dir, at, applier } = setup();
  const target = join(dir, 'hosts');
  writeFileSync(target, '127.0.0.1 localhost\n');
  symlinkSync(target, at('/etc/hosts'));
  const hosts: FileSpec = { path: '/etc/hosts', mode: 0o644, content: '10.0.0.5 w1\n', merge: 'managed-block' };
  let err: unknown;
  try {
    await applier.apply([hosts]);
  } catch (e) {
    err = e;
  }
  assert.instance(err, ApplyError);
  assert.match((err as Error).message, /symbolic link .*regular file/);
  assert.is(readFileSync(target, 'utf8'), '127.0.0.1 localhost\n');
  assert.ok(lstatSync(at('/etc/hosts')).isSymbolicLink());
});

test.run();
