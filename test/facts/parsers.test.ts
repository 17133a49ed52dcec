// The /proc, /sys and /etc parsers on fixture text: layouts of other machines than this one
// (two sockets, ARM, IPv6 routes, escaped mount points) and the edge cases of each format.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCpuinfo, countCpuList, kubernetesArch } from '../../agent/facts/cpu.ts';
import { parseMeminfo, memoryFromMeminfo } from '../../agent/facts/memory.ts';
import { parseMounts, realFilesystems, mountContaining } from '../../agent/facts/disks.ts';
import { parseOsRelease } from '../../agent/facts/os.ts';
import { decodeProcAddress, parseProcNet } from '../../agent/facts/ports.ts';
import { parseDefaultRoute, parseDefaultRoute6, hexToIPv6, ipv4InCidr, fqdnOf, hexToIPv4 } from '../../agent/facts/network.ts';
import { parseVersionOutput } from '../../agent/facts/binaries.ts';
import { parseProcModules } from '../../agent/facts/kernel.ts';
import { clockOffset } from '../../agent/facts/clock.ts';

/** cpuinfo of `sockets` x `cores` x `threads` x86 processors. */
function x86Cpuinfo(sockets: number, cores: number, threads: number): string {
  const blocks: string[] = [];
  let n = 0;
  for (let s = 0; s < sockets; s++)
    for (let c = 0; c < cores; c++)
      for (let t = 0; t < threads; t++)
        blocks.push(
          `processor\t: ${n++}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\n` +
            `cpu MHz\t\t: ${1000 + n}.123\nphysical id\t: ${s}\nsiblings\t: ${cores * threads}\ncore id\t\t: ${c}\ncpu cores\t: ${cores}\n`,
        );
  return `${blocks.join('\n')}\n`;
}

const ARM_CPUINFO = [0, 1, 2, 3]
  .map((i) => `processor\t: ${i}\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd0c\n`)
  .join('\n');

const OLD_ARM_CPUINFO = 'Processor\t: ARMv7 Processor rev 4 (v7l)\nprocessor\t: 0\nBogoMIPS\t: 38.40\n\nprocessor\t: 1\nBogoMIPS\t: 38.40\n\nHardware\t: BCM2835\n';

test('parseCpuinfo: sockets, cores and threads', () => {
  const cases: Array<[string, string, { model: string; processors: number; physicalCores: number; mhz: number }]> = [
    ['2 sockets x 4 cores x 2 threads', x86Cpuinfo(2, 4, 2), { model: 'Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz', processors: 16, physicalCores: 8, mhz: 1001.123 }],
    ['1 socket, no SMT', x86Cpuinfo(1, 2, 1), { model: 'Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz', processors: 2, physicalCores: 2, mhz: 1001.123 }],
    ['arm64: no model, no core ids', ARM_CPUINFO, { model: '', processors: 4, physicalCores: 0, mhz: 0 }],
    ['old 32-bit ARM: "Processor" line', OLD_ARM_CPUINFO, { model: 'ARMv7 Processor rev 4 (v7l)', processors: 2, physicalCores: 0, mhz: 0 }],
    ['empty', '', { model: '', processors: 0, physicalCores: 0, mhz: 0 }],
  ];
  for (const [name, text, want] of cases) assert.equal(parseCpuinfo(text), want, name);
});

test('countCpuList and kubernetesArch', () => {
  const lists: Array<[string, number]> = [['0-1', 2], ['0', 1], ['0-3,8-11', 8], ['0,2,4-5\n', 4], ['', 0]];
  for (const [list, n] of lists) assert.is(countCpuList(list), n, list);
  const arches: Array<[string, string]> = [['x86_64', 'amd64'], ['aarch64', 'arm64'], ['armv7l', 'arm'], ['ppc64le', 'ppc64le'], ['s390x', 's390x'], ['mips', 'mips']];
  for (const [m, a] of arches) assert.is(kubernetesArch(m), a, m);
});

test('meminfo: kB to bytes, swap used, kernels without MemAvailable', () => {
  const text = 'MemTotal:       16384000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\nBuffers:           10000 kB\nCached:          2000000 kB\nSwapTotal:       2097148 kB\nSwapFree:        1048574 kB\nHugePages_Total:       0\n';
  const info = parseMeminfo(text);
  assert.is(info.get('HugePages_Total'), 0, 'counts without a unit stay as they are');
  assert.equal(memoryFromMeminfo(info), {
    total_bytes: 16384000 * 1024,
    available_bytes: 8000000 * 1024,
    swap_total_bytes: 2097148 * 1024,
    swap_used_bytes: (2097148 - 1048574) * 1024,
  });
  const old = memoryFromMeminfo(parseMeminfo(text.replace(/MemAvailable.*\n/, '')));
  assert.is(old.available_bytes, (1000000 + 10000 + 2000000) * 1024, 'free + buffers + cache before Linux 3.14');
});

const MOUNTS = `proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
/dev/sda1 / ext4 rw,relatime 0 0
tmpfs /run tmpfs rw,nosuid,nodev,size=1628872k,mode=755 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0
/dev/sdb1 /var/lib xfs rw,relatime 0 0
/dev/sdb2 /var/lib/docker btrfs rw,relatime 0 0
overlay /var/lib/docker/overlay2/abc/merged overlay rw,lowerdir=/a,upperdir=/b,workdir=/c 0 0
/dev/loop3 /snap/core/1 squashfs ro,nodev,relatime 0 0
/dev/sdc1 /mnt/my\\040disk ext4 rw 0 0
lxcfs /var/lib/lxcfs fuse.lxcfs rw,nosuid,nodev,relatime 0 0
/dev/sdd1 /data ext4 rw 0 0
tmpfs /data tmpfs rw 0 0
/dev/sde1 /srv ext4 rw 0 0
`;

test('mounts: pseudo filesystems dropped, real ones (overlay too) kept, escapes undone', () => {
  const fs = realFilesystems(parseMounts(MOUNTS));
  assert.equal(
    fs.map((m) => `${m.mount} ${m.type} ${m.device}`),
    [
      '/ ext4 /dev/sda1',
      '/mnt/my disk ext4 /dev/sdc1',
      '/srv ext4 /dev/sde1',
      '/var/lib xfs /dev/sdb1',
      '/var/lib/docker btrfs /dev/sdb2',
      '/var/lib/docker/overlay2/abc/merged overlay overlay',
    ],
  );
  // /data: the tmpfs mounted on top hides the ext4 below it.
  assert.not.ok(fs.some((m) => m.mount === '/data'));
});

test('mountContaining: longest prefix on whole path components', () => {
  const mounts = ['/', '/var/lib', '/var/lib/docker', '/var/libx'];
  const cases: Array<[string, string[], string]> = [
    ['/var/lib', mounts, '/var/lib'],
    ['/var/lib/kubelet', mounts, '/var/lib'],
    ['/var/lib/docker/x', mounts, '/var/lib/docker'],
    ['/var/li', mounts, '/'],
    ['/var/lib', ['/', '/var/libx'], '/'],
    ['/var/lib', [], ''],
  ];
  for (const [path, ms, want] of cases) assert.is(mountContaining(path, ms), want, `${path} in ${ms.join(',')}`);
});

test('os-release: quoting and escapes', () => {
  const text = `PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME='Ubuntu'\nVERSION_ID="24.04"\nID=ubuntu\n# comment\nID_LIKE=debian\nWEIRD="say \\"hi\\" \\$HOME"\nEMPTY=\n`;
  assert.equal(parseOsRelease(text), {
    PRETTY_NAME: 'Ubuntu 24.04.1 LTS',
    NAME: 'Ubuntu',
    VERSION_ID: '24.04',
    ID: 'ubuntu',
    ID_LIKE: 'debian',
    WEIRD: 'say "hi" $HOME',
    EMPTY: '',
  });
});

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (local: string, remote: string, st: string, inode: number) =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
const V6_ANY = '00000000000000000000000000000000';

test('/proc/net addresses decode to the text ss prints', () => {
  const cases: Array<[string, string]> = [
    ['0100007F', '127.0.0.1'],
    ['00000000', '0.0.0.0'],
    ['0202000A', '10.0.2.2'],
    [V6_ANY, '::'],
    ['00000000000000000000000001000000', '::1'],
    ['0000000000000000FFFF00000100007F', '::ffff:127.0.0.1'],
    ['B80D0120000000000000000001000000', '2001:db8::1'],
    ['000080FE00000000FF000002030000FE', 'fe80::200:ff:fe00:3'],
  ];
  for (const [hex, want] of cases) assert.is(decodeProcAddress(hex), want, hex);
  assert.is(hexToIPv4('010200C0'), '192.0.2.1');
});

test('parseProcNet: TCP LISTEN and unconnected UDP only', () => {
  const tcp =
    HEADER +
    row('0100007F:0CEA', '00000000:0000', '0A', 111) +
    row('0202000A:0016', '0101000A:C350', '01', 112) + // established ssh: not listening
    row('00000000:1F90', '00000000:0000', '0A', 113);
  assert.equal(parseProcNet(tcp, 'tcp'), [
    { protocol: 'tcp', address: '127.0.0.1', port: 3306, inode: 111 },
    { protocol: 'tcp', address: '0.0.0.0', port: 8080, inode: 113 },
  ]);
  const udp6 = HEADER + row(`${V6_ANY}:12B5`, `${V6_ANY}:0000`, '07', 211) + row(`00000000000000000000000001000000:0035`, `00000000000000000000000001000000:D431`, '01', 212);
  assert.equal(parseProcNet(udp6, 'udp'), [{ protocol: 'udp', address: '::', port: 4789, inode: 211 }]);
  assert.equal(parseProcNet('', 'tcp'), []);
});

const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t00000000\t0101A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
wg0\t00000000\t00000000\t0000\t0\t0\t1\t00000000\t0\t0\t0
`;

const IPV6_ROUTE = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;

test('default route: lowest metric among up routes; IPv6 fallback skips the unreachable lo entry', () => {
  assert.equal(parseDefaultRoute(ROUTE), { iface: 'eth0', gateway: '192.0.2.1', family: 'IPv4' });
  assert.is(parseDefaultRoute(ROUTE.split('\n').slice(0, 1).join('\n')), null);
  assert.equal(parseDefaultRoute6(IPV6_ROUTE), { iface: 'eth0', gateway: 'fd00::1', family: 'IPv6' });
  assert.is(parseDefaultRoute6(IPV6_ROUTE.split('\n')[2] ?? ''), null);
  assert.is(hexToIPv6('20010db8000000000000000000000001'), '2001:db8::1');
  assert.is(hexToIPv6('20010db8000100000000000100000001'), '2001:db8:1::1:0:1');
});

test('ipv4InCidr', () => {
  const cases: Array<[string, string, boolean]> = [
    ['192.0.2.1', '192.0.2.2/24', true],
    ['192.0.3.1', '192.0.2.2/24', false],
    ['10.1.2.3', '10.0.0.0/8', true],
    ['10.1.2.3', '0.0.0.0/0', true],
    ['10.1.2.3', '10.1.2.3/32', true],
    ['10.1.2.4', '10.1.2.3/32', false],
    ['fd00::1', '192.0.2.2/24', false],
  ];
  for (const [ip, cidr, want] of cases) assert.is(ipv4InCidr(ip, cidr), want, `${ip} in ${cidr}`);
});

test('fqdnOf: /etc/hosts canonical name, resolv.conf domain, plain host name', () => {
  const cases: Array<[string, string, string, string, string]> = [
    ['hosts line with FQDN first', 'node1', '127.0.0.1 localhost\n127.0.1.1 node1.example.com node1\n', '', 'node1.example.com'],
    ['hosts line with short name only', 'vm', '127.0.0.1 localhost\n127.0.0.1 vm\n', 'search corp.example\n', 'vm'],
    ['localhost first on the line is not our name', 'node2', '127.0.0.1 localhost node2 node2.lan\n', '', 'node2.lan'],
    ['commented out', 'node3', '#127.0.1.1 node3.example.com node3\n', 'domain example.org\n', 'node3.example.org'],
    ['search when no domain', 'node4', '', 'nameserver 10.0.0.1\nsearch a.example b.example\n', 'node4.a.example'],
    ['already qualified', 'node5.example.net', '', 'search x\n', 'node5.example.net'],
    ['nothing known', 'node6', '', '', 'node6'],
  ];
  for (const [name, host, hosts, resolv, want] of cases) assert.is(fqdnOf(host, hosts, resolv), want, name);
});

test('parseVersionOutput: the version outputs of the node binaries', () => {
  const cases: Array<[string, string, string]> = [
    ['iptables v1.8.9 (nf_tables)', '1.8.9', 'nf_tables'],
    ['iptables-save v1.8.7 (legacy)', '1.8.7', 'legacy'],
    ['ip utility, iproute2-6.1.0, libbpf 1.1.0', '6.1.0', ''],
    ['ip utility, iproute2-ss190107', '', ''],
    ['nsenter from util-linux 2.38.1', '2.38.1', ''],
    ['mount from util-linux 2.39.3 (libmount 2.39.3: selinux, smack, btrfs, verity, namespaces, idmapping, assert, debug)', '2.39.3', ''],
    ['conntrack v1.4.7 (conntrack-tools)', '1.4.7', ''],
    ['socat by Gerhard Rieger and contributors - see www.dest-unreach.org\nsocat version 1.7.4.4 on 06 Nov 2022 08:15:41\n', '1.7.4.4', ''],
    ['ebtables 1.8.9 (nf_tables)', '1.8.9', 'nf_tables'],
    ['ebtables v2.0.10-4 (December 2011)', '2.0.10-4', ''],
    ['ethtool version 6.1', '6.1', ''],
    ['Docker version 28.2.2, build e6534b4', '28.2.2', ''],
    ['containerd github.com/containerd/containerd v1.7.24 88bf19b2105c8b17560993bee28a01ddc2f97182', '1.7.24', ''],
    ['containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1', '1.6.20~ds1', ''],
    ['runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8', '1.1.5+ds1', ''],
    ['', '', ''],
  ];
  for (const [out, version, variant] of cases) assert.equal(parseVersionOutput(out), { version, variant }, out);
});

test('parseProcModules', () => {
  const text = 'br_netfilter 32768 0 - Live 0x0000000000000000\nbridge 307200 1 br_netfilter, Live 0x0000000000000000\noverlay 151552 0 - Live 0x0000000000000000\n';
  assert.equal([...parseProcModules(text)], ['br_netfilter', 'bridge', 'overlay']);
});

test('clockOffset: NTP style, node minus coordinator', () => {
  const cases: Array<[string, [number, number, number], { offset_ms: number; round_trip_ms: number }]> = [
    ['in sync', [1000, 1050, 1100], { offset_ms: 0, round_trip_ms: 100 }],
    ['node 5 s ahead', [10_000, 5_010, 10_020], { offset_ms: 5_000, round_trip_ms: 20 }],
    ['node 2 s behind', [1000, 3005, 1010], { offset_ms: -2000, round_trip_ms: 10 }],
    ['clock stepped back during the call', [1000, 1000, 990], { offset_ms: 0, round_trip_ms: 0 }],
  ];
  for (const [name, [s, srv, r], want] of cases) assert.equal(clockOffset(s, srv, r), want, name);
});

test.run();
