// collectFacts() over a whole fake node written to a temp dir: every section is read through the
// roots in CollectOptions, so a machine unlike this one (two sockets, swap, cgroup v2, IPv6-only,
// br_netfilter loaded as a module) can be checked end to end.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { collectFacts, VersionCache } from '../../agent/facts/index.ts';
import type { CollectOptions, ExecFn } from '../../agent/facts/index.ts';
import { writeFixtureRoot, link } from './fixture-root.ts';
import type { FixtureRoot } from './fixture-root.ts';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (local: string, remote: string, st: string, inode: number) =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
const ANY6 = '00000000000000000000000000000000';

function cpuinfo(): string {
  const blocks: string[] = [];
  let n = 0;
  for (const s of [0, 1]) for (const c of [0, 1, 2, 3]) for (const _t of [0, 1]) blocks.push(`processor\t: ${n++}\nmodel name\t: AMD EPYC 7B13\ncpu MHz\t\t: 2450.000\nphysical id\t: ${s}\ncore id\t\t: ${c}\n`);
  return `${blocks.join('\n')}\n`;
}

/** A two-socket Ubuntu node with swap, cgroup v2, a dedicated /var/lib disk and a few servers. */
function fakeNode(): FixtureRoot {
  return writeFixtureRoot({
    'proc/cpuinfo': cpuinfo(),
    'proc/meminfo': 'MemTotal:       65536000 kB\nMemFree:         1000000 kB\nMemAvailable:   40000000 kB\nSwapTotal:       1048576 kB\nSwapFree:         524288 kB\n',
    'proc/mounts':
      'sysfs /sys sysfs rw 0 0\nproc /proc proc rw 0 0\n/dev/nvme0n1p2 / ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0\n' +
      '/dev/nvme1n1 /var/lib xfs rw 0 0\nnfs.example:/export /mnt/hung nfs4 rw 0 0\noverlay /var/lib/containerd/x/rootfs overlay rw 0 0\n',
    'proc/sys/kernel/osrelease': '6.8.0-45-generic\n',
    'proc/sys/kernel/hostname': 'worker-7\n',
    'proc/sys/kernel/random/boot_id': '11111111-2222-3333-4444-555555555555\n',
    'proc/1/comm': 'systemd\n',
    'proc/net/route': 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
      'ens5\t00000000\t01000A0A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n',
    'proc/net/tcp': HEADER + row('00000000:0016', '00000000:0000', '0A', 5001) + row('0100007F:2710', '00000000:0000', '0A', 5002) + row('0500000A:0016', '0900000A:D000', '01', 5003),
    'proc/net/tcp6': HEADER + row(`${ANY6}:0016`, `${ANY6}:0000`, '0A', 5004) + row(`${ANY6}:1A0A`, `${ANY6}:0000`, '0A', 5005),
    'proc/net/udp': HEADER + row('00000000:12B5', '00000000:0000', '07', 5006),
    'proc/net/udp6': HEADER,
    'proc/sys/net/ipv4/ip_forward': '1\n',
    'proc/sys/net/ipv6/conf/all/forwarding': '0\n',
    'proc/sys/net/bridge/bridge-nf-call-iptables': '1\n',
    'proc/sys/net/bridge/bridge-nf-call-ip6tables': '1\n',
    'proc/modules': 'br_netfilter 32768 0 - Live 0x0\nbridge 307200 1 br_netfilter, Live 0x0\n',
    'proc/filesystems': 'nodev\tsysfs\nnodev\ttmpfs\n\text4\n\txfs\n',
    // sshd (pid 812) holds both ssh sockets; kubelet (pid 2001) holds 6666 and the udp socket;
    // pid 1 is unreadable (no fd dir); 10000 on 127.0.0.1 has no visible owner.
    'proc/812/comm': 'sshd\n',
    'proc/812/fd/0': link('/dev/null'),
    'proc/812/fd/3': link('socket:[5001]'),
    'proc/812/fd/4': link('socket:[5004]'),
    'proc/2001/comm': 'kubelet\n',
    'proc/2001/fd/0': link('/dev/null'),
    'proc/2001/fd/7': link('pipe:[77]'),
    'proc/2001/fd/9': link('socket:[5005]'),
    'proc/2001/fd/11': link('socket:[5006]'),
    'sys/devices/system/cpu/online': '0-15\n',
    'sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq': '3500000\n',
    'sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory pids\n',
    'sys/class/net/ens5/mtu': '9001\n',
    'sys/class/net/ens5/operstate': 'up\n',
    'sys/class/net/ens5/address': '0a:1b:2c:3d:4e:5f\n',
    'sys/class/net/lo/mtu': '65536\n',
    'sys/class/net/lo/operstate': 'unknown\n',
    'sys/class/net/lo/address': '00:00:00:00:00:00\n',
    'sys/class/net/cali12ab34cd/mtu': '1450\n',
    'sys/class/net/cni0/mtu': '1450\n',
    'sys/class/net/cni0/operstate': 'down\n',
    'sys/class/net/cni0/address': 'aa:bb:cc:dd:ee:ff\n',
    'etc/os-release': 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\n',
    'etc/machine-id': '0123456789abcdef0123456789abcdef\n',
    'etc/hosts': '127.0.0.1 localhost\n10.10.0.5 worker-7.prod.example worker-7\n',
    'etc/resolv.conf': 'search ec2.internal\n',
  });
}

function fixtureOptions(root: FixtureRoot, extra: CollectOptions = {}): CollectOptions {
  const spawned: string[] = [];
  const exec: ExecFn = async (file) => {
    spawned.push(file);
    return { stdout: 'fake v9.9.9\n', stderr: '', exitCode: 0, timedOut: false };
  };
  const emptyBin = join(root.dir, 'bin');
  mkdirSync(emptyBin, { recursive: true });
  return {
    procRoot: root.procRoot,
    sysRoot: root.sysRoot,
    etcRoot: root.etcRoot,
    exec,
    searchPath: [emptyBin],
    versionCache: new VersionCache(),
    varLibPath: '/var/lib/kubelet',
    statfsTimeoutMs: 200,
    io: {
      async statfs(path) {
        if (path === '/mnt/hung') return new Promise(() => {}); // a dead NFS server never answers
        const sizes: Record<string, number> = { '/': 100e9, '/var/lib': 500e9, '/var/lib/containerd/x/rootfs': 100e9 };
        const size = sizes[path];
        if (size === undefined) throw new Error(`ENOENT: ${path}`);
        return { sizeBytes: size, freeBytes: size / 4 };
      },
      interfaceAddresses: () => ({
        ens5: [
          { cidr: '10.10.0.5/20', family: 'IPv4', address: '10.10.0.5' },
          { cidr: 'fe80::81b:2cff:fe3d:4e5f/64', family: 'IPv6', address: 'fe80::81b:2cff:fe3d:4e5f' },
        ],
        lo: [{ cidr: '127.0.0.1/8', family: 'IPv4', address: '127.0.0.1' }],
      }),
    },
    ...extra,
  };
}

test('every section from a fixture node', async () => {
  const root = fakeNode();
  try {
    const f = await collectFacts(fixtureOptions(root));
    assert.equal(f.cpu, { model: 'AMD EPYC 7B13', physical_cores: 8, logical_cores: 16, speed_mhz: 3500, architecture: f.cpu.architecture });
    assert.equal(f.memory, {
      total_bytes: 65536000 * 1024,
      available_bytes: 40000000 * 1024,
      swap_total_bytes: 1048576 * 1024,
      swap_used_bytes: 524288 * 1024,
    });
    assert.equal(f.disks, {
      filesystems: [
        { mount: '/', device: '/dev/nvme0n1p2', type: 'ext4', size_bytes: 100e9, free_bytes: 25e9 },
        { mount: '/var/lib', device: '/dev/nvme1n1', type: 'xfs', size_bytes: 500e9, free_bytes: 125e9 },
        { mount: '/var/lib/containerd/x/rootfs', device: 'overlay', type: 'overlay', size_bytes: 100e9, free_bytes: 25e9 },
      ],
      var_lib_mount: '/var/lib',
    });
    assert.equal(f.os, {
      id: 'ubuntu',
      version_id: '24.04',
      pretty_name: 'Ubuntu 24.04.1 LTS',
      kernel: '6.8.0-45-generic',
      cgroup_version: 'v2',
      init_system: 'systemd',
      machine_id: '0123456789abcdef0123456789abcdef',
      boot_id: '11111111-2222-3333-4444-555555555555',
    });
    assert.equal(f.network, {
      hostname: 'worker-7',
      fqdn: 'worker-7.prod.example',
      interfaces: [
        { name: 'cni0', addresses: [], mtu: 1450, state: 'down', mac: 'aa:bb:cc:dd:ee:ff' },
        { name: 'ens5', addresses: ['10.10.0.5/20', 'fe80::81b:2cff:fe3d:4e5f/64'], mtu: 9001, state: 'up', mac: '0a:1b:2c:3d:4e:5f' },
        { name: 'lo', addresses: ['127.0.0.1/8'], mtu: 65536, state: 'unknown', mac: '00:00:00:00:00:00' },
      ],
      default_interface: 'ens5',
      default_address: '10.10.0.5',
    });
    assert.equal(f.ports.listening, [
      { protocol: 'tcp', address: '0.0.0.0', port: 22, process: 'sshd', pid: 812 },
      { protocol: 'tcp', address: '::', port: 22, process: 'sshd', pid: 812 },
      { protocol: 'tcp', address: '::', port: 6666, process: 'kubelet', pid: 2001 },
      { protocol: 'tcp', address: '127.0.0.1', port: 10000, process: '', pid: 0 },
      { protocol: 'udp', address: '0.0.0.0', port: 4789, process: 'kubelet', pid: 2001 },
    ]);
    assert.equal(f.kernel, {
      sysctls: {
        'net.ipv4.ip_forward': '1',
        'net.ipv6.conf.all.forwarding': '0',
        'net.bridge.bridge-nf-call-iptables': '1',
        'net.bridge.bridge-nf-call-ip6tables': '1',
      },
      modules_loaded: ['br_netfilter'],
    });
    assert.equal(f.clock, { offset_ms: 0, round_trip_ms: 0 });
    assert.ok(f.binaries.binaries.length >= 16);
    assert.ok(f.binaries.binaries.every((b) => !b.present && b.path === '' && b.version === ''), 'empty search path: nothing present');
  } finally {
    root.remove();
  }
});

test('a measured clock offset is passed through', async () => {
  const root = fakeNode();
  try {
    const f = await collectFacts(fixtureOptions(root, { clock: { offset_ms: -1234.5, round_trip_ms: 8 } }));
    assert.equal(f.clock, { offset_ms: -1234.5, round_trip_ms: 8 });
  } finally {
    root.remove();
  }
});

test('a bare node: missing files give empty values, not errors', async () => {
  const root = writeFixtureRoot({ 'proc/.keep': '', 'sys/.keep': '', 'etc/.keep': '' });
  try {
    const f = await collectFacts(fixtureOptions(root, { io: { interfaceAddresses: () => ({}), statfs: async () => ({ sizeBytes: 1, freeBytes: 1 }) } }));
    assert.is(f.cpu.logical_cores, 1, 'at least one CPU');
    assert.is(f.memory.total_bytes, 0);
    assert.equal(f.disks, { filesystems: [], var_lib_mount: '' });
    assert.is(f.os.cgroup_version, 'v1');
    assert.is(f.os.id, '');
    assert.equal(f.network.interfaces, []);
    assert.is(f.network.default_interface, '');
    assert.equal(f.ports.listening, []);
    assert.equal(f.kernel, { sysctls: {}, modules_loaded: [] });
  } finally {
    root.remove();
  }
});

test('IPv6-only node: default route and address from ipv6_route; overlay built in', async () => {
  const root = fakeNode();
  const ipv6 = writeFixtureRoot({
    'proc/net/route': 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n',
    'proc/net/ipv6_route':
      `${ANY6} 00 ${ANY6} 00 20010db8000000000000000000000001 00000400 00000002 00000000 00000003     ens5\n` +
      `${ANY6} 00 ${ANY6} 00 ${ANY6} ffffffff 00000001 00000000 00200200       lo\n`,
    'proc/filesystems': 'nodev\tsysfs\nnodev\toverlay\n',
    'proc/sys/kernel/hostname': 'v6node\n',
  });
  try {
    const f = await collectFacts(
      fixtureOptions(root, {
        procRoot: ipv6.procRoot,
        io: {
          statfs: async () => ({ sizeBytes: 1, freeBytes: 1 }),
          interfaceAddresses: () => ({
            ens5: [
              { cidr: 'fe80::1/64', family: 'IPv6', address: 'fe80::1' },
              { cidr: '2001:db8::5/64', family: 'IPv6', address: '2001:db8::5' },
            ],
          }),
        },
      }),
    );
    assert.is(f.network.default_interface, 'ens5');
    assert.is(f.network.default_address, '2001:db8::5', 'global address, not link-local');
    assert.is(f.network.fqdn, 'v6node.ec2.internal', 'resolv.conf search domain');
    assert.equal(f.kernel.modules_loaded, ['overlay'], 'overlay registered as a filesystem; no bridge sysctls, no br_netfilter');
  } finally {
    root.remove();
    ipv6.remove();
  }
});

test('port owner scan is bounded by process count and skips unreadable processes', async () => {
  const root = fakeNode();
  try {
    // /proc lists pids in directory order; with a budget of one process at most one owner is found.
    const f = await collectFacts(fixtureOptions(root, { portScan: { maxProcesses: 1 } }));
    const owned = new Set(f.ports.listening.filter((p) => p.pid).map((p) => p.process));
    assert.ok(owned.size <= 1, `one process scanned, owners found: ${[...owned].join(',')}`);
    assert.is(f.ports.listening.length, 5, 'ports are listed even when owners are not found');
    const none = await collectFacts(fixtureOptions(root, { portScan: { maxFdsPerProcess: 0 } }));
    assert.ok(none.ports.listening.every((p) => p.pid === 0 && p.process === ''));
  } finally {
    root.remove();
  }
});

test.run();
