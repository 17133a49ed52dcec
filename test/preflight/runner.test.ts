import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runPreflight, DEFAULT_CHECKS, formatResult, formatReportTable, type Check } from '../../shared/preflight/index.ts';
import { ctx, GiB } from './fixtures.ts';

test('a good node passes every default check for every role', () => {
  const r = runPreflight(ctx(['etcd', 'master', 'worker']));
  assert.equal(r.results, []);
  assert.ok(r.ok);
  assert.equal(r.checks, DEFAULT_CHECKS.map((c) => c.name));
});

test('check names are unique kebab-case', () => {
  const names = DEFAULT_CHECKS.map((c) => c.name);
  assert.is(new Set(names).size, names.length);
  for (const n of names) assert.match(n, /^[a-z0-9]+(-[a-z0-9]+)*$/);
});

test('checks run only for the roles they apply to', () => {
  const r = runPreflight(ctx(['etcd'], (f) => (f.kernel!.sysctls!['net.ipv4.ip_forward'] = '0')));
  assert.not.ok(r.checks.includes('ip-forward'), 'pod networking is for Nodes, not an etcd-only member');
  assert.not.ok(r.checks.includes('binaries-optional'));
  assert.ok(r.checks.includes('ports-free'));
  // An etcd-only member runs a standalone kubelet in the plan's runtime: both checks apply to it.
  assert.ok(r.checks.includes('swap'));
  assert.ok(r.checks.includes('container-runtime'));
  assert.ok(r.ok, JSON.stringify(r.results));
  const swapped = runPreflight(ctx(['etcd'], (f) => (f.memory!.swap_total_bytes = GiB)));
  assert.equal(swapped.results.filter((x) => x.severity === 'error').map((x) => x.check), ['swap'], 'the kubelet refuses to start with swap on');
});

test('errors block; warnings do not; results carry check and node', () => {
  const r = runPreflight(ctx(['worker'], (f) => {
    f.memory!.swap_total_bytes = GiB;
    f.cpu!.speed_mhz = 1000;
  }));
  assert.not.ok(r.ok);
  assert.equal(r.results.map((x) => [x.check, x.node, x.severity, x.fixableByAgent]), [
    ['hardware-cpu', 'node-a', 'warning', false],
    ['swap', 'node-a', 'error', false],
  ]);
});

test('warnings alone pass', () => {
  const r = runPreflight(ctx(['worker'], (f) => (f.cpu!.speed_mhz = 1000)));
  assert.ok(r.ok);
  assert.is(r.results.length, 1);
});

test('plan ignore list turns errors into ignored results that do not block', () => {
  const r = runPreflight(ctx(['worker'], (f, p) => {
    f.memory!.swap_total_bytes = GiB;
    f.kernel!.sysctls['net.ipv4.ip_forward'] = '0';
    p.cluster.preflight.ignore = ['swap'];
  }));
  assert.equal(r.results.map((x) => [x.check, x.severity]), [['swap', 'ignored'], ['ip-forward', 'error']]);
  assert.not.ok(r.ok);
});

test('the extra ignore argument adds to the plan\'s list; names are case-insensitive', () => {
  const r = runPreflight(ctx(['worker'], (f, p) => {
    f.memory!.swap_total_bytes = GiB;
    f.kernel!.sysctls['net.ipv4.ip_forward'] = '0';
    p.cluster.preflight.ignore = ['swap'];
  }), DEFAULT_CHECKS, ['IP-Forward']);
  assert.equal(r.results.map((x) => [x.check, x.severity]), [['swap', 'ignored'], ['ip-forward', 'ignored']]);
  assert.ok(r.ok);
});

test('"all" ignores every error but keeps warnings as warnings', () => {
  const r = runPreflight(ctx(['worker'], (f) => { f.memory!.swap_total_bytes = GiB; f.cpu!.speed_mhz = 1000; }), DEFAULT_CHECKS, ['all']);
  assert.equal(r.results.map((x) => [x.check, x.severity]), [['hardware-cpu', 'warning'], ['swap', 'ignored']]);
  assert.ok(r.ok);
});

test('an unknown name in the ignore list is a warning naming the valid ones', () => {
  const r = runPreflight(ctx(['worker'], (_f, p) => (p.cluster.preflight.ignore = ['swapp'])));
  assert.is(r.results.length, 1);
  const w = r.results[0]!;
  assert.is(w.check, 'ignore-list');
  assert.is(w.severity, 'warning');
  assert.is(w.found, 'unknown check name "swapp" in the ignore list');
  assert.ok(w.required.includes('swap, ip-forward'));
  assert.ok(r.ok);
});

test('a check that throws becomes an error of that check', () => {
  const broken: Check = { name: 'broken', roles: 'all', description: '', run: () => { throw new Error('boom'); } };
  const r = runPreflight(ctx(['worker']), [broken]);
  assert.equal(r.results[0], {
    check: 'broken', node: 'node-a', severity: 'error', found: 'the check failed: boom', required: 'a check that completes',
    fix: 'report this as a muster bug; ignore the check to proceed', fixableByAgent: false,
  });
  assert.not.ok(r.ok);
});

test('decoded facts with long fields as strings work (input shape of the proto)', () => {
  const c = ctx(['master'], (f) => { (f.memory as any).total_bytes = String(GiB); });
  const r = runPreflight(c);
  assert.equal(r.results.map((x) => x.check), ['hardware-memory']);
});

test('formatResult: one line naming node, severity, check, found, required and fix', () => {
  const r = runPreflight(ctx(['worker'], (f) => (f.kernel!.sysctls['net.ipv4.ip_forward'] = '0')));
  assert.is(formatResult(r.results[0]!),
    'node-a: ERROR ip-forward: found net.ipv4.ip_forward = 0; required net.ipv4.ip_forward = 1; fix: run "sysctl -w net.ipv4.ip_forward=1" and persist it in /etc/sysctl.d/99-kubernetes.conf (the agent can fix this)');
});

test('formatReportTable: every check with ok or its findings, and a summary', () => {
  const r = runPreflight(ctx(['etcd'], (f) => (f.memory!.total_bytes = 0.5 * GiB)), DEFAULT_CHECKS.filter((c) => c.name.startsWith('hardware-')));
  assert.is(formatReportTable(r), [
    'CHECK            RESULT   DETAIL',
    'hardware-cpu     ok',
    'hardware-memory  ERROR    found 0.5 GiB of RAM',
    '                          required at least 1 GiB (production etcd)',
    '                          fix: give the machine 1 GiB of RAM or more, or set cluster.preflight.profile: prototyping for a test cluster',
    'hardware-disk    ok',
    'node-a: preflight FAILED (1 error, 0 warnings, 0 ignored)',
    '',
  ].join('\n'));
});

test.run();
