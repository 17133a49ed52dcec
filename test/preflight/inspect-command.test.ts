import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectCommand } from '../../agent/cli/inspect-command.ts';
import { memoryIO } from '../../shared/cli/io.ts';
import type { PreflightReport } from '../../shared/preflight/index.ts';
import { goodFacts, GiB } from './fixtures.ts';

const facts = (edit?: (f: ReturnType<typeof goodFacts>) => void) => async () => {
  const f = goodFacts();
  edit?.(f);
  return f;
};

test('a good node passes: exit 0, a table of the local checks, the skipped ones named', async () => {
  const io = memoryIO();
  const code = await inspectCommand(['--roles', 'etcd,master'], io, { collect: facts() });
  assert.is(code, 0, io.stderr);
  assert.ok(io.stdout.startsWith('Preflight for node-a as etcd, master (profile production, plan defaults)\n'), io.stdout);
  assert.match(io.stdout, /^hardware-cpu {7}ok$/m);
  assert.match(io.stdout, /^node-a: preflight passed \(0 errors, 0 warnings, 0 ignored\)$/m);
  assert.match(io.stdout, /Not run here \(they need the coordinator\): clock-offset, hostname-unique, peer-latency, peer-reach/);
  assert.not.match(io.stdout, /^peer-latency/m);
  assert.is(io.stderr, '');
});

test('a failing check: exit 1 and what to fix', async () => {
  const io = memoryIO();
  const code = await inspectCommand(['--roles', 'worker', '--node-name', 'w7'], io, { collect: facts((f) => (f.memory!.swap_total_bytes = 2 * GiB)) });
  assert.is(code, 1);
  assert.ok(io.stdout.includes([
    'swap               ERROR    found swap on (2 GiB, 0 GiB used)',
    '                            required swap off',
    '                            fix: run "swapoff -a" and remove the swap entries from /etc/fstab (and any systemd swap units)',
  ].join('\n')), io.stdout);
  assert.match(io.stdout, /^w7: preflight FAILED \(1 error, 0 warnings, 0 ignored\)$/m);
});

test('--json prints the report; --ignore turns the error into an ignored result', async () => {
  const io = memoryIO();
  const code = await inspectCommand(['--roles', 'worker', '--json', '--ignore', 'swap'], io, { collect: facts((f) => (f.memory!.swap_total_bytes = 2 * GiB)) });
  assert.is(code, 0);
  const report = JSON.parse(io.stdout) as PreflightReport;
  assert.is(report.node, 'node-a');
  assert.is(report.ok, true);
  assert.equal(report.results.map((r) => [r.check, r.severity]), [['swap', 'ignored']]);
  assert.not.ok(report.checks.includes('peer-reach'));
});

test('--ignore accepts a coordinator-only check name without an unknown-name warning', async () => {
  const io = memoryIO();
  const code = await inspectCommand(['--roles', 'worker', '--json', '--ignore', 'peer-latency'], io, { collect: facts() });
  assert.is(code, 0);
  assert.equal((JSON.parse(io.stdout) as PreflightReport).results, []);
});

test('--plan: profile and ignore list come from the plan file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'muster-inspect-'));
  try {
    writeFileSync(join(dir, 'cluster.yaml'), [
      'cluster:', '  name: lab', '  preflight:', '    profile: prototyping', '    ignore: [swap]',
      'etcd:', '  expected_count: 1', '  nodes: [{ host: node-a, ip: 10.0.0.5 }]',
      'master:', '  expected_count: 1', '  nodes: [{ host: node-a, ip: 10.0.0.5 }]',
      'worker:', '  expected_count: 1', '  nodes: [{ host: node-b, ip: 10.0.0.6 }]', '',
    ].join('\n'));
    const io = { ...memoryIO(), cwd: dir };
    const out: string[] = [];
    const err: string[] = [];
    io.out = (t) => void out.push(t);
    io.err = (t) => void err.push(t);
    // 1 CPU and 10 GB of disk: fails production, passes prototyping; swap is ignored by the plan.
    const code = await inspectCommand(['--roles', 'master', '--plan', 'cluster.yaml'], io, {
      collect: facts((f) => { f.cpu!.logical_cores = 1; f.disks!.filesystems[1]!.size_bytes = 10e9; f.memory!.swap_total_bytes = GiB; }),
    });
    assert.is(code, 0, err.join(''));
    assert.match(out.join(''), /profile prototyping, plan cluster\.yaml/);
    assert.match(out.join(''), /^swap {15}IGNORED {2}found swap on/m);
    assert.equal(err, []);

    const io2 = memoryIO();
    io2.cwd = dir;
    const code2 = await inspectCommand(['--roles', 'master', '--plan', 'cluster.yaml', '--profile', 'production'], io2, {
      collect: facts((f) => { f.cpu!.logical_cores = 1; }),
    });
    assert.is(code2, 1);
    assert.match(io2.stdout, /^hardware-cpu {7}ERROR {4}found 1 logical CPU$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage and plan errors exit 2 with a message that says what to do', async () => {
  const cases: Array<[string[], string]> = [
    [[], 'muster-agent inspect: --roles is required, e.g. --roles etcd,master (see muster-agent inspect --help)\n'],
    [['--roles', 'etcd,db'], 'muster-agent inspect: --roles: unknown role "db"; roles are etcd, master, worker (see muster-agent inspect --help)\n'],
    [['--roles', 'etcd', '--profile', 'huge'], 'muster-agent inspect: --profile: "huge" is not production or prototyping (see muster-agent inspect --help)\n'],
  ];
  for (const [argv, stderr] of cases) {
    const io = memoryIO();
    assert.is(await inspectCommand(argv, io, { collect: facts() }), 2, argv.join(' '));
    assert.is(io.stderr, stderr);
  }
  const io = memoryIO();
  assert.is(await inspectCommand(['--roles', 'etcd', '--bogus'], io, { collect: facts() }), 2);
  assert.match(io.stderr, /^muster-agent inspect: Unknown option '--bogus'/);

  const io2 = memoryIO();
  assert.is(await inspectCommand(['--roles', 'etcd', '--plan', 'no-such-plan.yaml'], io2, { collect: facts() }), 2);
  assert.match(io2.stderr, /no-such-plan\.yaml: error: cannot read the plan file: no such file/);
  assert.match(io2.stderr, /muster-agent inspect: fix the plan file no-such-plan\.yaml and run again/);
});

test('facts collection failing is exit 1 with the reason', async () => {
  const io = memoryIO();
  const code = await inspectCommand(['--roles', 'worker'], io, { collect: async () => { throw new Error('collecting the ports facts failed: EACCES'); } });
  assert.is(code, 1);
  assert.is(io.stderr, 'muster-agent inspect: collecting this node\'s facts failed: collecting the ports facts failed: EACCES\n');
});

test('--help', async () => {
  const io = memoryIO();
  assert.is(await inspectCommand(['--help'], io), 0);
  assert.match(io.stdout, /^Usage: muster-agent inspect --roles/);
});

test('on this machine, with the real fact collector: a table and exit 0 or 1, never a crash', async () => {
  const io = memoryIO();
  const code = await inspectCommand(['--roles', 'etcd,master,worker'], io);
  assert.ok(code === 0 || code === 1, `exit ${code}: ${io.stderr}`);
  assert.match(io.stdout, /^hardware-memory /m);
  assert.match(io.stdout, /preflight (passed|FAILED) \(\d+ errors?, \d+ warnings?, \d+ ignored\)/);
});

test.run();
