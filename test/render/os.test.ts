// Node OS settings: the sysctl and modules-load files (checked with `sysctl --dry-run`, which
// stats the keys under /proc/sys and writes nothing), and the /etc/hosts managed block -- the
// renderer's lines and mergeManagedBlock, table-style over the files it meets on real nodes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assignment, context } from './fixture-nodes.ts';
import { renderSysctl } from '../../shared/render/os/sysctl.ts';
import { renderModules } from '../../shared/render/os/modules.ts';
import { BLOCK_BEGIN as B, BLOCK_END as E, ManagedBlockError, mergeManagedBlock, renderHosts } from '../../shared/render/os/hosts.ts';
import { renderNodeFiles } from '../../shared/render/index.ts';
import { requireTool } from '../helpers/tools.ts';

test('sysctl file: exactly the three keys, trigger sysctl', () => {
  const f = renderSysctl();
  assert.is(f.path, '/etc/sysctl.d/99-muster-kubernetes.conf');
  const keys = f.content.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.equal(keys, ['net.bridge.bridge-nf-call-ip6tables = 1', 'net.bridge.bridge-nf-call-iptables = 1', 'net.ipv4.ip_forward = 1']);
  assert.equal(f.triggers, [{ kind: 'sysctl' }]);
});

test('sysctl --dry-run -p reads the file without complaint (and does complain about a bad one)', () => {
  requireTool('sysctl', 'procps');
  const dir = mkdtempSync(join(tmpdir(), 'muster-sysctl-'));
  try {
    const file = join(dir, 'k.conf');
    writeFileSync(file, renderSysctl().content);
    // The bridge keys exist only with br_netfilter loaded; on a host without it, -e limits the
    // check to syntax (an unknown key is then not an error), and the keys are asserted above.
    const bridge = existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables');
    const r = spawnSync('sysctl', ['--dry-run', ...(bridge ? [] : ['-e']), '-p', file], { encoding: 'utf8' });
    assert.is(r.stderr, '');
    assert.is(r.status, 0);
    assert.equal(r.stdout.trim().split('\n'), ['net.bridge.bridge-nf-call-ip6tables = 1', 'net.bridge.bridge-nf-call-iptables = 1', 'net.ipv4.ip_forward = 1']);
    writeFileSync(file, 'net.ipv4.ip_forwrd = 1\nno equals sign\n');
    const bad = spawnSync('sysctl', ['--dry-run', '-p', file], { encoding: 'utf8' });
    assert.is.not(bad.status, 0);
    assert.match(bad.stderr, /invalid syntax|cannot stat/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('modules-load file: br_netfilter and overlay, one per line, trigger modules', () => {
  const f = renderModules();
  assert.is(f.path, '/etc/modules-load.d/muster-kubernetes.conf');
  assert.equal(f.content.split('\n').filter((l) => l && !l.startsWith('#')), ['br_netfilter', 'overlay']);
  assert.equal(f.triggers, [{ kind: 'modules' }]);
});

test('the catalogue: modules then sysctl on kubelet nodes; /etc/hosts only when the plan manages hosts files', () => {
  const files = (k: Parameters<typeof assignment>[0]) => renderNodeFiles({ assignment: assignment(k) }).files.map((f) => f.path);
  const w = files({ roles: ['worker'] });
  assert.ok(w.indexOf('/etc/modules-load.d/muster-kubernetes.conf') < w.indexOf('/etc/sysctl.d/99-muster-kubernetes.conf'));
  assert.not.ok(w.includes('/etc/hosts'));
  assert.ok(files({ roles: ['worker'], hostsFiles: true }).includes('/etc/hosts'));
  const etcd = files({ roles: ['etcd'], hostsFiles: true });
  assert.ok(etcd.includes('/etc/hosts') && !etcd.includes('/etc/sysctl.d/99-muster-kubernetes.conf'));
});

test('the hosts block: notice, then one line per entry in the assignment\'s order; merge managed-block', () => {
  const f = renderHosts(context({ hostsFiles: true }));
  assert.is(f.merge, 'managed-block');
  assert.is(f.content, '# Managed by muster-agent: changes here are undone. Preview with `muster render --node NAME`.\n10.0.0.11 node-1 node-1.example.com\n10.0.0.12 node-2\n');
  const a = assignment({ hostsFiles: true });
  a.hosts_entries = [{ ip: '10.0.0.1', names: ['evil\n0.0.0.0 bank.example.com'] }];
  assert.throws(() => renderHosts({ ...context({ hostsFiles: true }), a }), /not an address or a host name/);
});

const BLOCK = '10.0.0.1 a\n10.0.0.2 b\n';
const wrapped = (eol = '\n') => [B, '10.0.0.1 a', '10.0.0.2 b', E].map((l) => l + eol).join('');

const mergeRows: { name: string; existing: string | null; block: string; want: string }[] = [
  { name: 'no file', existing: null, block: BLOCK, want: wrapped() },
  { name: 'no file, no block', existing: null, block: '', want: '' },
  { name: 'a file without markers: appended, the rest untouched', existing: '127.0.0.1 localhost\n::1 localhost\n', block: BLOCK, want: `127.0.0.1 localhost\n::1 localhost\n${wrapped()}` },
  { name: 'missing trailing newline', existing: '127.0.0.1 localhost', block: BLOCK, want: `127.0.0.1 localhost\n${wrapped()}` },
  { name: 'CRLF file: new lines in CRLF, old bytes kept', existing: '127.0.0.1 localhost\r\n', block: BLOCK, want: `127.0.0.1 localhost\r\n${wrapped('\r\n')}` },
  { name: 'CRLF file with an old block', existing: `a\r\n${B}\r\nold\r\n${E}\r\nz\r\n`, block: BLOCK, want: `a\r\n${wrapped('\r\n')}z\r\n` },
  { name: 'replaces only the lines between the markers', existing: `a\n${B}\nold 1\nold 2\n${E}\nz\n`, block: BLOCK, want: `a\n${wrapped()}z\n` },
  { name: 'block at the end without a trailing newline', existing: `a\n${B}\nold\n${E}`, block: BLOCK, want: `a\n${wrapped()}` },
  { name: 'markers with trailing blanks still match', existing: `a\n${B}  \nold\n${E}\t\nz\n`, block: BLOCK, want: `a\n${wrapped()}z\n` },
  { name: 'duplicated pairs: repaired into one at the first place', existing: `a\n${B}\nold\n${E}\nm\n${B}\nolder\n${E}\nz\n`, block: BLOCK, want: `a\n${wrapped()}m\nz\n` },
  { name: 'block "" removes the block', existing: `a\n${B}\nold\n${E}\nz\n`, block: '', want: 'a\nz\n' },
  { name: 'block "" removes every duplicate', existing: `${B}\nx\n${E}\n${B}\ny\n${E}\n`, block: '', want: '' },
  { name: 'block "" on a file without markers: unchanged', existing: 'a\nb', block: '', want: 'a\nb' },
  { name: 'block without its final newline', existing: 'a\n', block: '10.0.0.1 a\n10.0.0.2 b', want: `a\n${wrapped()}` },
  { name: 'an empty file', existing: '', block: BLOCK, want: wrapped() },
];

for (const row of mergeRows) {
  test(`mergeManagedBlock: ${row.name}`, () => {
    const out = mergeManagedBlock(row.existing, row.block);
    assert.is(out, row.want);
    assert.is(mergeManagedBlock(out, row.block), out, 'idempotent');
  });
}

const refuseRows: { name: string; existing: string; line: number; problem: RegExp }[] = [
  { name: 'BEGIN without END', existing: `a\n${B}\nmine?\nz\n`, line: 2, problem: /never closed/ },
  { name: 'END without BEGIN', existing: `a\nz\n${E}\n`, line: 3, problem: /never opened/ },
  { name: 'END before BEGIN', existing: `${E}\nx\n${B}\n`, line: 1, problem: /never opened/ },
  { name: 'BEGIN inside a block', existing: `${B}\nx\n${B}\ny\n${E}\n`, line: 3, problem: /inside the one opened at line 1/ },
];

for (const row of refuseRows) {
  test(`mergeManagedBlock refuses half-present markers: ${row.name}`, () => {
    for (const block of [BLOCK, '']) {
      try {
        mergeManagedBlock(row.existing, block);
        assert.unreachable('should refuse');
      } catch (e) {
        assert.instance(e, ManagedBlockError);
        const err = e as ManagedBlockError;
        assert.is(err.line, row.line);
        assert.is(err.kind, 'failed-precondition');
        assert.match(err.message, row.problem);
        assert.match(err.message, /by hand/);
      }
    }
  });
}

test('mergeManagedBlock: a block holding a marker line is a bug, refused', () => {
  assert.throws(() => mergeManagedBlock('a\n', `x\n${E}\n`), /may not contain/);
});

test.run();
