// diffFacts: only changed sections are sent, noise in free memory / free disk / clock is ignored,
// and a slow drift is still reported because the baseline is what was last sent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diffFacts, mergeFacts, SECTION_NAMES, NOISE_FLOOR_BYTES } from '../../agent/facts/index.ts';
import type { NodeFacts } from '../../agent/facts/index.ts';
import { deepEqual } from '../../agent/facts/diff.ts';

const GiB = 1024 ** 3;

function baseFacts(): NodeFacts {
  return {
    cpu: { model: 'AMD EPYC', physical_cores: 4, logical_cores: 8, speed_mhz: 3000, architecture: 'amd64' },
    memory: { total_bytes: 32 * GiB, available_bytes: 20 * GiB, swap_total_bytes: 0, swap_used_bytes: 0 },
    disks: {
      filesystems: [
        { mount: '/', device: '/dev/sda1', type: 'ext4', size_bytes: 100 * GiB, free_bytes: 50 * GiB },
        { mount: '/var/lib', device: '/dev/sdb1', type: 'xfs', size_bytes: 500 * GiB, free_bytes: 2 * GiB },
      ],
      var_lib_mount: '/var/lib',
    },
    os: { id: 'debian', version_id: '12', pretty_name: 'Debian 12', kernel: '6.1.0', cgroup_version: 'v2', init_system: 'systemd', machine_id: 'm', boot_id: 'b' },
    network: {
      hostname: 'n1',
      fqdn: 'n1.example',
      interfaces: [{ name: 'eth0', addresses: ['10.0.0.5/24'], mtu: 1500, state: 'up', mac: 'aa:bb:cc:dd:ee:ff' }],
      default_interface: 'eth0',
      default_address: '10.0.0.5',
    },
    ports: { listening: [{ protocol: 'tcp', address: '0.0.0.0', port: 22, process: 'sshd', pid: 800 }] },
    binaries: { binaries: [{ name: 'ip', present: true, path: '/usr/sbin/ip', version: '6.1.0', variant: '' }] },
    kernel: { sysctls: { 'net.ipv4.ip_forward': '1' }, modules_loaded: ['overlay'] },
    clock: { offset_ms: 12, round_trip_ms: 3 },
  };
}

type Edit = (f: NodeFacts) => void;

test('first report is full', () => {
  const f = baseFacts();
  const d = diffFacts(null, f);
  assert.is(d.full, true);
  assert.equal(d.changed, [...SECTION_NAMES]);
  assert.equal(d.facts, f);
});

test('changes and noise, section by section', () => {
  const cases: Array<[string, Edit, string[]]> = [
    ['identical', () => {}, []],
    ['available memory -40 MiB (under the 64 MiB floor)', (f) => (f.memory.available_bytes -= 40 * 1024 * 1024), []],
    ['available memory -900 MiB (under 5% of 20 GiB)', (f) => (f.memory.available_bytes -= 900 * 1024 * 1024), []],
    ['available memory -2 GiB', (f) => (f.memory.available_bytes -= 2 * GiB), ['memory']],
    ['swap appears', (f) => (f.memory.swap_total_bytes = 4 * GiB), ['memory']],
    ['root free -1 GiB (2% of 50 GiB)', (f) => (f.disks.filesystems[0]!.free_bytes -= GiB), []],
    ['/var/lib free 2 GiB -> 1.5 GiB (25% of a nearly full disk)', (f) => (f.disks.filesystems[1]!.free_bytes -= GiB / 2), ['disks']],
    ['disk resized', (f) => (f.disks.filesystems[0]!.size_bytes += GiB), ['disks']],
    ['new mount', (f) => f.disks.filesystems.push({ mount: '/data', device: '/dev/sdc', type: 'ext4', size_bytes: GiB, free_bytes: GiB }), ['disks']],
    ['clock jitter 40 ms', (f) => (f.clock.offset_ms += 40), []],
    ['round trip changes alone', (f) => (f.clock.round_trip_ms = 90), []],
    ['clock stepped 2 s', (f) => (f.clock.offset_ms += 2000), ['clock']],
    ['new listening port', (f) => f.ports.listening.push({ protocol: 'tcp', address: '0.0.0.0', port: 6443, process: 'kube-apiserver', pid: 9 }), ['ports']],
    ['sshd restarted (new pid)', (f) => (f.ports.listening[0]!.pid = 801), ['ports']],
    ['ip_forward off', (f) => (f.kernel.sysctls['net.ipv4.ip_forward'] = '0'), ['kernel']],
    ['binary upgraded', (f) => (f.binaries.binaries[0]!.version = '6.2.0'), ['binaries']],
    ['address added', (f) => f.network.interfaces[0]!.addresses.push('fd00::5/64'), ['network']],
    ['rebooted', (f) => (f.os.boot_id = 'b2'), ['os']],
    ['two sections', (f) => ((f.os.kernel = '6.2.0'), (f.cpu.logical_cores = 16)), ['cpu', 'os']],
  ];
  for (const [name, edit, want] of cases) {
    const prev = baseFacts();
    const next = baseFacts();
    edit(next);
    const d = diffFacts(prev, next);
    assert.is(d.full, false, name);
    assert.equal(d.changed, want, name);
    assert.equal(Object.keys(d.facts), want, `${name}: only the changed sections are set`);
    for (const s of want) assert.equal((d.facts as Record<string, unknown>)[s], (next as Record<string, unknown>)[s], name);
  }
});

test('a slow drift adds up against the last sent facts', () => {
  let sent = baseFacts() as ReturnType<typeof baseFacts>;
  let reported = 0;
  // /var/lib loses 20 MiB per collection: each step is noise, the sum is not.
  for (let i = 1; i <= 20; i++) {
    const next = baseFacts();
    next.disks.filesystems[1]!.free_bytes -= i * 20 * 1024 * 1024;
    const d = diffFacts(sent, next);
    if (d.changed.length) reported++;
    sent = mergeFacts(sent, d.facts) as NodeFacts;
  }
  // Thresholds: 5% of ~2 GiB is ~100 MiB, so about every fifth step is reported.
  assert.ok(reported >= 2 && reported <= 5, `reported ${reported} times over 400 MiB of drift`);
  const unreported = 400 * 1024 * 1024 - (2 * GiB - sent.disks.filesystems[1]!.free_bytes);
  assert.ok(unreported >= 0 && unreported < Math.max(NOISE_FLOOR_BYTES, 0.05 * 2 * GiB), `baseline followed the drift (${unreported} B behind)`);
});

test('uint64 values compare by value whatever their encoding; key order does not matter', () => {
  const prev = baseFacts();
  const asStrings = {
    ...baseFacts(),
    memory: { swap_used_bytes: '0', swap_total_bytes: '0', available_bytes: String(20 * GiB), total_bytes: String(32 * GiB) },
  };
  assert.equal(diffFacts(prev, asStrings).changed, []);
  assert.ok(deepEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }));
  assert.not.ok(deepEqual({ a: 1 }, { a: 1, b: 2 }));
  assert.not.ok(deepEqual([1, 2], [2, 1]));
  assert.ok(deepEqual({ a: 1, b: undefined }, { a: 1 }));
});

test('mergeFacts: unset sections keep the old value', () => {
  const base = baseFacts();
  const merged = mergeFacts(base, { os: { ...base.os, boot_id: 'new' } });
  assert.is(merged.os?.boot_id, 'new');
  assert.equal(merged.cpu, base.cpu);
  assert.equal(mergeFacts(null, { cpu: base.cpu }), { cpu: base.cpu });
});

test.run();
