// Binary lookup and version probing with real processes: small shell scripts stand in for
// iptables & co. in a temp dir, each counting how often it was run, so the test sees that the
// version cache spawns nothing for an unchanged binary and probes again after an upgrade.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectBinaries, findBinary, VersionCache } from '../../agent/facts/binaries.ts';
import type { BinarySpec } from '../../agent/facts/binaries.ts';
import { compileCollectOptions } from '../../agent/facts/options.ts';

interface Sandbox {
  bin: string;
  sbin: string;
  runs(name: string): number;
  remove(): void;
}

function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'muster-bins-'));
  const bin = join(dir, 'bin');
  const sbin = join(dir, 'sbin');
  mkdirSync(bin);
  mkdirSync(sbin);
  return {
    bin,
    sbin,
    runs: (name) => {
      const f = join(dir, `${name}.runs`);
      return existsSync(f) ? readFileSync(f, 'utf8').length : 0;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function script(dir: string, name: string, body: string, mode = 0o755): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nprintf x >> "${join(dir, '..', `${name}.runs`)}"\n${body}\n`, { flag: 'w' });
  chmodSync(path, mode);
  return path;
}

const SPECS: BinarySpec[] = [
  { name: 'iptables', args: ['--version'] },
  { name: 'ip', args: ['-V'] },
  { name: 'socat', args: ['-V'] },
  { name: 'runc', args: ['--version'] },
  { name: 'conntrack', args: ['--version'] },
];

function setup(): Sandbox {
  const sb = sandbox();
  script(sb.sbin, 'iptables', 'echo "iptables v1.8.9 (nf_tables)"');
  script(sb.bin, 'ip', 'echo "ip utility, iproute2-6.1.0, libbpf 1.1.0"');
  script(sb.sbin, 'ip', 'echo "ip utility, iproute2-5.0.0"'); // shadowed: bin comes first
  script(sb.bin, 'socat', 'echo "socat version 1.7.4.4"', 0o644); // not executable: absent
  script(sb.bin, 'runc', 'echo "runc version 1.1.5+ds1" >&2; exit 3'); // version on stderr, non-zero exit
  return sb;
}

test('found in search-path order; versions parsed from stdout or stderr; absent when not executable', async () => {
  const sb = setup();
  try {
    const o = compileCollectOptions({ searchPath: [sb.bin, sb.sbin], versionCache: new VersionCache() });
    const { binaries } = await collectBinaries(o, SPECS);
    assert.equal(binaries, [
      { name: 'iptables', present: true, path: join(sb.sbin, 'iptables'), version: '1.8.9', variant: 'nf_tables' },
      { name: 'ip', present: true, path: join(sb.bin, 'ip'), version: '6.1.0', variant: '' },
      { name: 'socat', present: false, path: '', version: '', variant: '' },
      { name: 'runc', present: true, path: join(sb.bin, 'runc'), version: '1.1.5+ds1', variant: '' },
      { name: 'conntrack', present: false, path: '', version: '', variant: '' },
    ]);
    assert.is(sb.runs('socat'), 0);
  } finally {
    sb.remove();
  }
});

test('cached by path + mtime: a second collection spawns nothing, an upgrade is probed again', async () => {
  const sb = setup();
  try {
    const cache = new VersionCache();
    const o = compileCollectOptions({ searchPath: [sb.bin, sb.sbin], versionCache: cache });
    await collectBinaries(o, SPECS);
    assert.is(cache.spawned, 3);
    assert.equal([sb.runs('iptables'), sb.runs('ip'), sb.runs('runc')], [1, 1, 1]);

    const again = await collectBinaries(o, SPECS);
    assert.is(cache.spawned, 3, 'warm cache: no probes');
    assert.equal([sb.runs('iptables'), sb.runs('ip'), sb.runs('runc')], [1, 1, 1]);
    assert.is(again.binaries[0]?.version, '1.8.9', 'version comes from the cache');

    // "Upgrade" iptables: new content and a new mtime.
    const path = script(sb.sbin, 'iptables', 'echo "iptables v1.8.10 (legacy)"');
    const later = new Date(Date.now() + 5000);
    utimesSync(path, later, later);
    const upgraded = await collectBinaries(o, SPECS);
    assert.equal(upgraded.binaries[0], { name: 'iptables', present: true, path, version: '1.8.10', variant: 'legacy' });
    assert.is(sb.runs('iptables'), 2);
    assert.is(cache.spawned, 4);
  } finally {
    sb.remove();
  }
});

test('a probe that hangs is killed after the timeout, reported without version, and retried next time', async () => {
  const sb = setup();
  try {
    script(sb.bin, 'conntrack', 'sleep 30; echo "conntrack v1.4.7"');
    const cache = new VersionCache();
    const o = compileCollectOptions({ searchPath: [sb.bin, sb.sbin], versionCache: cache, execTimeoutMs: 300 });
    const started = Date.now();
    const first = await collectBinaries(o, SPECS);
    const elapsed = Date.now() - started;
    assert.equal(first.binaries[4], { name: 'conntrack', present: true, path: join(sb.bin, 'conntrack'), version: '', variant: '' });
    assert.ok(elapsed < 20_000, `the hung probe was killed (took ${elapsed} ms, the script sleeps 30 s)`);
    await collectBinaries(o, SPECS);
    assert.is(sb.runs('conntrack'), 2, 'timed-out probes are not cached');
  } finally {
    sb.remove();
  }
});

test('findBinary: default search path includes the sbin directories', () => {
  const o = compileCollectOptions({});
  for (const d of ['/usr/sbin', '/sbin']) assert.ok(o.searchPath.includes(d), d);
  const sh = findBinary(o, 'sh');
  assert.ok(sh && sh.path.endsWith('/sh'), 'sh is found on any Debian');
  assert.is(findBinary(o, 'definitely-not-a-binary-muster'), null);
});

test.run();
