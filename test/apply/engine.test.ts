// The apply engine on a real directory: a change set is all or nothing (a failing file restores
// every file changed before it), unchanged files are not rewritten and set nothing off, a mode
// change is a change, files no longer rendered are removed, the managed block of a shared file
// leaves the rest alone, a hand edit is found and undone (drift), and the dry run shows a diff
// without secrets. Actions come out in the order a node needs them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, captureLogger } from '../helpers/cluster.ts';
import { NodeApplier } from '../../agent/apply/engine.ts';
import { NoServices, SystemdServices } from '../../agent/apply/services.ts';
import { ApplyError } from '../../agent/apply/transaction.ts';
import { actionsFor } from '../../agent/apply/actions.ts';
import type { FileSpec } from '../../shared/render/types.ts';

function setup() {
  const dir = tempDir('muster-apply-');
  const root = join(dir, 'root');
  mkdirSync(root);
  const services = new NoServices(null, 'test');
  const applier = new NodeApplier({ root, stateDir: join(dir, 'state'), log: captureLogger(), services });
  return { root, services, applier, at: (p: string) => join(root, p) };
}

const kubeletConfig: FileSpec = { path: '/var/lib/kubelet/config.yaml', mode: 0o644, content: 'kind: KubeletConfiguration\n', triggers: [{ kind: 'restart', unit: 'kubelet.service' }] };
const kubeletUnit: FileSpec = { path: '/etc/systemd/system/kubelet.service', mode: 0o644, content: '[Service]\nExecStart=/usr/bin/kubelet\n', triggers: [{ kind: 'unit', unit: 'kubelet.service' }, { kind: 'restart', unit: 'kubelet.service' }] };
const sysctl: FileSpec = { path: '/etc/sysctl.d/99-muster.conf', mode: 0o644, content: 'net.ipv4.ip_forward = 1\n', triggers: [{ kind: 'sysctl' }] };
const key: FileSpec = { path: '/etc/kubernetes/pki/sa.key', mode: 0o600, content: '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n', secret: true };

test('first pass writes everything and runs the actions in order; a second pass changes nothing and runs nothing', async () => {
  const { applier, services, at } = setup();
  const r = await applier.apply([kubeletConfig, kubeletUnit, sysctl, key]);
  assert.equal(r.changed.sort(), [kubeletConfig.path, kubeletUnit.path, sysctl.path, key.path].sort());
  assert.equal(r.actions, ['systemctl daemon-reload', 'systemctl enable kubelet.service', 'sysctl --system', 'systemctl restart kubelet.service']);
  assert.is(readFileSync(at(kubeletConfig.path), 'utf8'), kubeletConfig.content);
  assert.is(statSync(at(key.path)).mode & 0o777, 0o600);
  const again = await applier.apply([kubeletConfig, kubeletUnit, sysctl, key]);
  assert.equal(again.changed, []);
  assert.equal(again.actions, []);
  assert.is(services.skipped.length, 4, 'nothing more was run');
});

test('a mode-only change is a change and sets off its triggers', async () => {
  const { applier, at } = setup();
  await applier.apply([kubeletConfig]);
  chmodSync(at(kubeletConfig.path), 0o666);
  const r = await applier.apply([kubeletConfig]);
  assert.equal(r.changed, [kubeletConfig.path]);
  assert.equal(r.actions, ['systemctl restart kubelet.service']);
  assert.is(statSync(at(kubeletConfig.path)).mode & 0o777, 0o644);
});

test('a file that cannot be written fails the pass before anything is written, naming it', async () => {
  const { applier, at } = setup();
  await applier.apply([kubeletConfig]);
  // A directory where a file must go.
  mkdirSync(at('/etc/blocked/file.conf'), { recursive: true });
  let err: unknown;
  try {
    await applier.apply([{ ...kubeletConfig, content: 'kind: KubeletConfiguration\nnew: true\n' }, { path: '/etc/blocked/file.conf', mode: 0o644, content: 'x\n' }]);
  } catch (e) {
    err = e;
  }
  assert.instance(err, ApplyError);
  assert.match((err as Error).message, /cannot write \/etc\/blocked\/file\.conf: .*is not a regular file/);
  assert.is(readFileSync(at(kubeletConfig.path), 'utf8'), kubeletConfig.content, 'nothing was written');
});

test('a write failing mid-set restores every file changed before it: new files removed, changed ones get bytes and mode back', async () => {
  const { applier, at } = setup();
  await applier.apply([kubeletConfig, sysctl]);
  chmodSync(at(sysctl.path), 0o640);
  const next = [
    { ...kubeletConfig, content: 'kind: KubeletConfiguration\nnew: true\n' },
    { ...sysctl, content: 'net.ipv4.ip_forward = 0\n' },
    { path: '/etc/new/created.conf', mode: 0o644, content: 'new\n' },
    { path: '/etc/last.conf', mode: 0o644, content: 'fails\n' },
  ];
  let err: unknown;
  try {
    // The disk fills up (or the like) at the fourth file.
    await applier.apply(next, { beforeStep: (p) => { if (p === '/etc/last.conf') throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }); } });
  } catch (e) {
    err = e;
  }
  assert.instance(err, ApplyError);
  assert.is((err as ApplyError).path, '/etc/last.conf');
  assert.match((err as Error).message, /cannot write \/etc\/last\.conf: ENOSPC: no space left on device; the 3 file\(s\) changed before it were restored/);
  assert.is(readFileSync(at(kubeletConfig.path), 'utf8'), kubeletConfig.content, 'old content back');
  assert.is(readFileSync(at(sysctl.path), 'utf8'), sysctl.content);
  assert.is(statSync(at(sysctl.path)).mode & 0o777, 0o640, 'old mode back');
  assert.not.ok(existsSync(at('/etc/new/created.conf')), 'a file that did not exist is gone again');
  // And the next pass, without the fault, converges.
  const r = await applier.apply(next);
  assert.is(r.changed.length, 4);
});

test('files no longer rendered are removed (a role taken away leaves nothing), and removeAll removes exactly what muster wrote', async () => {
  const { applier, at, root } = setup();
  writeFileSync(join(root, 'operator-file'), 'mine\n');
  await applier.apply([kubeletConfig, kubeletUnit, sysctl], { alsoOwned: [] });
  const r = await applier.apply([sysctl]);
  assert.equal(r.removed.sort(), [kubeletConfig.path, kubeletUnit.path].sort());
  assert.not.ok(existsSync(at(kubeletConfig.path)) || existsSync(at(kubeletUnit.path)));
  assert.ok(existsSync(at(sysctl.path)));
  // Files written by the PKI (alsoOwned) are owned too, and go with the rest.
  mkdirSync(at('/etc/kubernetes/pki'), { recursive: true });
  writeFileSync(at('/etc/kubernetes/pki/ca.crt'), 'ca\n');
  await applier.apply([sysctl], { alsoOwned: ['/etc/kubernetes/pki/ca.crt'] });
  assert.equal((await applier.removeAll()).removed.sort(), ['/etc/kubernetes/pki/ca.crt', sysctl.path].sort());
  assert.is(readFileSync(join(root, 'operator-file'), 'utf8'), 'mine\n', 'what muster did not write stays');
});

test('a file no longer rendered takes with it the temp file a killed writer left beside it; a live writer\'s temp file stays', async () => {
  const { applier, at } = setup();
  await applier.apply([kubeletConfig, sysctl], { alsoOwned: [] });
  const dir = at('/var/lib/kubelet');
  // pid 2^22+1 is above Linux's pid_max ceiling: no process has it.
  const dead = `.config.yaml.${2 ** 22 + 1}.0123456789ab.tmp`;
  const live = `.config.yaml.${process.ppid}.ba9876543210.tmp`;
  writeFileSync(join(dir, dead), 'half a generati');
  writeFileSync(join(dir, live), 'being written');
  const r = await applier.apply([sysctl]);
  assert.equal(r.removed, [kubeletConfig.path]);
  assert.equal(readdirSync(dir).sort(), [live], 'the dead writer\'s temp file is gone, the live one is not touched');
});

test('a managed block changes only the lines between the markers and keeps the file mode', async () => {
  const { applier, at } = setup();
  mkdirSync(at('/etc'), { recursive: true });
  writeFileSync(at('/etc/hosts'), '127.0.0.1 localhost\n10.9.9.9 printer\n', { mode: 0o640 });
  chmodSync(at('/etc/hosts'), 0o640);
  const hosts: FileSpec = { path: '/etc/hosts', mode: 0o644, content: '10.0.0.5 w1\n', merge: 'managed-block' };
  await applier.apply([hosts]);
  const text = readFileSync(at('/etc/hosts'), 'utf8');
  assert.ok(text.startsWith('127.0.0.1 localhost\n10.9.9.9 printer\n'), text);
  assert.match(text, /10\.0\.0\.5 w1/);
  assert.is(statSync(at('/etc/hosts')).mode & 0o777, 0o640);
  writeFileSync(at('/etc/hosts'), text.replace('printer', 'scanner'));
  const r = await applier.apply([hosts]);
  assert.equal(r.changed, [], 'a line outside the block is not muster\'s');
  // Hosts files turned off in the plan: the block goes, the file and its other lines stay.
  const off = await applier.apply([]);
  assert.equal(off.removed, []);
  assert.equal(off.changed, ['/etc/hosts']);
  assert.is(readFileSync(at('/etc/hosts'), 'utf8'), '127.0.0.1 localhost\n10.9.9.9 scanner\n');
});

test('drift: a hand edit is found by the next pass and undone', async () => {
  const { applier, at } = setup();
  await applier.apply([kubeletConfig]);
  writeFileSync(at(kubeletConfig.path), 'kind: KubeletConfiguration\nhand: edit\n');
  const r = await applier.apply([kubeletConfig]);
  assert.equal(r.changed, [kubeletConfig.path]);
  assert.equal(r.drift, [kubeletConfig.path], 'changed by someone else: drift');
  assert.equal(r.actions, ['systemctl restart kubelet.service']);
  assert.is(readFileSync(at(kubeletConfig.path), 'utf8'), kubeletConfig.content);
  // A new rendering is a change, not drift; a deleted file is drift; a chmod is drift.
  const next = { ...kubeletConfig, content: 'kind: KubeletConfiguration\nv: 2\n' };
  assert.equal((await applier.apply([next])).drift, []);
  rmSync(at(kubeletConfig.path));
  assert.equal((await applier.apply([next])).drift, [kubeletConfig.path]);
  chmodSync(at(kubeletConfig.path), 0o600);
  assert.equal((await applier.apply([next])).drift, [kubeletConfig.path]);
  assert.equal((await applier.apply([next])).drift, []);
});

test('dry run: a unified diff per file that would change, secrets only named, removals listed; nothing written', async () => {
  const { applier, at } = setup();
  await applier.apply([kubeletConfig, key, sysctl]);
  const d = await applier.diff([{ ...kubeletConfig, content: 'kind: KubeletConfiguration\nreadOnlyPort: 0\n' }, { ...key, content: 'other secret\n' }]);
  const text = d.map((x) => x.diff).join('\n');
  assert.match(text, /\+\+\+ \/var\/lib\/kubelet\/config\.yaml/);
  assert.match(text, /^\+readOnlyPort: 0$/m);
  assert.match(text, /sa\.key: differs \(secret: content not shown\)/);
  assert.not.match(text, /secret\n/);
  assert.not.match(text, /other secret/);
  assert.match(text, /99-muster\.conf: would be removed/);
  assert.is(readFileSync(at(kubeletConfig.path), 'utf8'), kubeletConfig.content, 'nothing written');
});

test('actions: runtime before kubelet before kube-proxy, one daemon-reload however many units', () => {
  const spec = (unit: string, reload: boolean): FileSpec => ({ path: `/x/${unit}`, mode: 0o644, content: '', triggers: [...(reload ? [{ kind: 'unit' as const, unit }] : []), { kind: 'restart', unit }] });
  const a = actionsFor([spec('kube-proxy.service', true), spec('kubelet.service', true), spec('containerd.service', false)], ['kubelet.service']);
  assert.equal(actionsFor([sysctl, { path: '/m', mode: 0o644, content: '', triggers: [{ kind: 'modules' }] }]).map((x) => x.kind), ['modules', 'sysctl'], 'br_netfilter before its sysctl keys');
  assert.equal(a, [
    { kind: 'daemon-reload' },
    { kind: 'enable', unit: 'kube-proxy.service' },
    { kind: 'enable', unit: 'kubelet.service' },
    { kind: 'restart', unit: 'containerd.service' },
    { kind: 'restart', unit: 'kubelet.service' },
    { kind: 'restart', unit: 'kube-proxy.service' },
  ]);
});

test('on systemd the actions are these commands, a failing one fails the pass with its output; without systemd the agent says so once', async () => {
  const ran: string[] = [];
  const dir = tempDir('muster-apply-');
  const systemd = new SystemdServices(async (cmd, args) => {
    ran.push([cmd, ...args].join(' '));
    if (args.includes('kube-proxy.service') && args[0] === 'restart') throw new Error('systemctl restart kube-proxy.service failed: Job for kube-proxy.service failed');
  });
  const applier = new NodeApplier({ root: join(dir, 'root'), stateDir: join(dir, 'state'), log: captureLogger(), services: systemd });
  await applier.apply([kubeletConfig, kubeletUnit, sysctl]);
  assert.equal(ran, ['systemctl daemon-reload', 'systemctl enable kubelet.service', 'sysctl --system', 'systemctl restart kubelet.service']);
  const proxy: FileSpec = { path: '/var/lib/kube-proxy/config.conf', mode: 0o644, content: 'x\n', triggers: [{ kind: 'restart', unit: 'kube-proxy.service' }] };
  let err: unknown;
  try {
    await applier.apply([kubeletConfig, kubeletUnit, sysctl, proxy]);
  } catch (e) {
    err = e;
  }
  assert.match(String(err), /Job for kube-proxy.service failed/);
  const log = captureLogger();
  const none = new NoServices(log);
  await none.run({ kind: 'daemon-reload' });
  await none.run({ kind: 'restart', unit: 'kubelet.service' });
  assert.is(log.lines.filter((l) => l.includes('systemd is not PID 1')).length, 1, log.lines.join('\n'));
  assert.is(none.skipped.length, 2);
});

test.run();
