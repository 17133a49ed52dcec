// The facts of THIS machine must agree with the standard tools: nproc, df, uname, hostname,
// os-release as the shell reads it, ss for listening sockets, ip for links, addresses and the
// default route, stat -f for the cgroup filesystem.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { once } from 'node:events';
import { collectFacts, VersionCache } from '../../agent/facts/index.ts';
import type { NodeFacts } from '../../agent/facts/index.ts';

/** Runs a standard tool; a missing tool fails the test with the package to install. */
function tool(cmd: string, args: string[], debianPackage: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, timeout: 10_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`${cmd} is not installed: run \`apt-get install -y ${debianPackage}\` (or bash test/install-tools.sh)`);
  }
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Our own listeners on a loopback address of their own (tests only talk to 127.0.0.0/8). */
const OWN_ADDRESS = '127.0.0.77';
let server: Server;
let udp: Socket;
let tcpPort = 0;
let udpPort = 0;
let facts: NodeFacts;
let ssTcpBefore: Set<number>;
let ssTcpAfter: Set<number>;
let ssUdpBefore: Set<number>;
let ssUdpAfter: Set<number>;

/** Local ports in `ss -ltnH` / `ss -lunH` output ("LISTEN 0 128 0.0.0.0:2024 0.0.0.0:*"). */
function ssPorts(flags: string): Set<number> {
  const out = tool('ss', [flags], 'iproute2');
  const ports = new Set<number>();
  for (const line of out.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    const port = Number(local?.slice(local.lastIndexOf(':') + 1));
    if (Number.isInteger(port) && port > 0) ports.add(port);
  }
  return ports;
}

test.before(async () => {
  server = createServer();
  server.listen(0, OWN_ADDRESS);
  await once(server, 'listening');
  tcpPort = (server.address() as { port: number }).port;
  udp = createSocket('udp4');
  udp.bind(0, OWN_ADDRESS);
  await once(udp, 'listening');
  udpPort = udp.address().port;
  ssTcpBefore = ssPorts('-ltnH');
  ssUdpBefore = ssPorts('-lunH');
  // The port-owner scan is bounded in time (250 ms by default: on a node it is one fact among
  // many); this machine may run a benchmark holding tens of thousands of sockets next to the
  // tests, so the comparison with ss gets a budget that cannot run out first.
  facts = await collectFacts({ versionCache: new VersionCache(), portScan: { budgetMs: 30_000 } });
  ssTcpAfter = ssPorts('-ltnH');
  ssUdpAfter = ssPorts('-lunH');
});

test.after(() => {
  server?.close();
  udp?.close();
});

test('logical cores = nproc', () => {
  assert.is(facts.cpu.logical_cores, Number(tool('nproc', [], 'coreutils').trim()));
  assert.ok(facts.cpu.physical_cores >= 1 && facts.cpu.physical_cores <= facts.cpu.logical_cores);
  const arch = tool('dpkg', ['--print-architecture'], 'dpkg').trim();
  assert.is(facts.cpu.architecture, arch, 'Kubernetes and Debian spell architectures alike');
});

test('memory total = MemTotal of /proc/meminfo', () => {
  const kb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
  assert.is(facts.memory.total_bytes, kb * 1024);
  assert.ok(facts.memory.available_bytes > 0 && facts.memory.available_bytes <= facts.memory.total_bytes);
});

test('size of / within 1% of df -P -B1', () => {
  const lines = tool('df', ['-P', '-B1', '/'], 'coreutils').trim().split('\n');
  const [, size, , avail, , mount] = (lines[1] ?? '').split(/\s+/);
  assert.is(mount, '/');
  const root = facts.disks.filesystems.find((f) => f.mount === '/');
  assert.ok(root, `/ is among the filesystems: ${facts.disks.filesystems.map((f) => f.mount).join(', ')}`);
  const dfSize = Number(size);
  assert.ok(Math.abs(root.size_bytes - dfSize) <= dfSize * 0.01, `size ${root.size_bytes} vs df ${dfSize}`);
  assert.ok(Math.abs(root.free_bytes - Number(avail)) <= dfSize * 0.01, `free ${root.free_bytes} vs df Available ${avail}`);
  const dfType = tool('df', ['--output=fstype', '/'], 'coreutils').trim().split('\n')[1]?.trim();
  assert.is(root.type, dfType);
  assert.ok(facts.disks.var_lib_mount.length > 0, 'some mount holds /var/lib');
  const dfVarLib = tool('df', ['-P', '/var/lib'], 'coreutils').trim().split('\n')[1]?.split(/\s+/)[5];
  assert.is(facts.disks.var_lib_mount, dfVarLib, 'df names the same mount for /var/lib');
});

test('os: os-release as the shell reads it, uname -r, cgroup filesystem type', () => {
  const shell = tool('sh', ['-c', '. /etc/os-release; printf "%s\\n%s\\n%s" "$ID" "$VERSION_ID" "$PRETTY_NAME"'], 'dash').split('\n');
  assert.equal([facts.os.id, facts.os.version_id, facts.os.pretty_name], shell);
  assert.is(facts.os.kernel, tool('uname', ['-r'], 'coreutils').trim());
  const fsType = tool('stat', ['-f', '-c', '%T', '/sys/fs/cgroup'], 'coreutils').trim();
  assert.is(facts.os.cgroup_version, fsType === 'cgroup2fs' ? 'v2' : 'v1', `/sys/fs/cgroup is ${fsType}`);
  assert.is(facts.os.boot_id, readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  assert.ok(facts.os.init_system.length > 0);
});

test('hostname = hostname', () => {
  assert.is(facts.network.hostname, tool('hostname', [], 'hostname').trim());
  assert.ok(facts.network.fqdn === facts.network.hostname || facts.network.fqdn.startsWith(`${facts.network.hostname}.`));
});

test('interfaces, addresses and default route agree with ip', () => {
  // "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 qdisc ... state UP ... link/ether 02:fc:..."
  const links = new Map<string, { mtu: number; state: string; mac: string }>();
  for (const line of tool('ip', ['-o', 'link', 'show'], 'iproute2').split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)[^:]*:.*\bmtu (\d+).*\bstate (\S+).*link\/\S+ ([0-9a-f:]+)/.exec(line);
    if (m?.[1]) links.set(m[1], { mtu: Number(m[2]), state: (m[3] ?? '').toLowerCase(), mac: m[4] ?? '' });
  }
  const ours = new Map(facts.network.interfaces.map((i) => [i.name, i]));
  for (const [name, l] of links) {
    if (/^(veth|cali|lxc)[0-9a-f]/.test(name)) continue;
    const i = ours.get(name);
    assert.ok(i, `interface ${name} (ip link) is reported`);
    assert.equal({ mtu: i.mtu, state: i.state, mac: i.mac }, l, name);
  }
  const addrs = new Map<string, string[]>();
  for (const line of tool('ip', ['-o', 'addr', 'show'], 'iproute2').split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet6?\s+(\S+)/.exec(line);
    if (m?.[1] && m[2]) addrs.set(m[1], [...(addrs.get(m[1]) ?? []), m[2]]);
  }
  for (const [name, list] of addrs) assert.equal([...(ours.get(name)?.addresses ?? [])].sort(), [...list].sort(), `addresses of ${name}`);
  const def = /dev (\S+)/.exec(tool('ip', ['route', 'show', 'default'], 'iproute2'))?.[1] ?? '';
  if (def) {
    assert.is(facts.network.default_interface, def);
    assert.ok(addrs.get(def)?.some((c) => c.startsWith(`${facts.network.default_address}/`)), 'default address is on that interface');
  }
});

test('listening TCP ports = ss -ltnH, UDP = ss -lunH (ports that came or went during collection excepted)', () => {
  const ours = (proto: string) => new Set(facts.ports.listening.filter((p) => p.protocol === proto).map((p) => p.port));
  for (const [proto, before, after] of [['tcp', ssTcpBefore, ssTcpAfter], ['udp', ssUdpBefore, ssUdpAfter]] as const) {
    const got = ours(proto);
    for (const p of before) if (after.has(p)) assert.ok(got.has(p), `${proto} port ${p} (ss, before and after) is reported`);
    for (const p of got) assert.ok(before.has(p) || after.has(p), `${proto} port ${p} is also listed by ss`);
  }
});

test('our own listeners appear with this program (not its thread name) and pid', () => {
  // Node names its main thread "MainThread" (/proc/self/comm); the program is node and this file.
  const comm = `node ${basename(process.argv[1]!)}`;
  for (const [proto, port] of [['tcp', tcpPort], ['udp', udpPort]] as const) {
    const entry = facts.ports.listening.find((p) => p.protocol === proto && p.port === port);
    assert.equal(entry, { protocol: proto, address: OWN_ADDRESS, port, process: comm, pid: process.pid }, `${proto} ${OWN_ADDRESS}:${port}`);
  }
});

test('binaries found by `command -v` are reported present at the same path', () => {
  for (const b of facts.binaries.binaries) {
    const r = spawnSync('sh', ['-c', `command -v ${b.name}`], { encoding: 'utf8' });
    const path = r.status === 0 ? r.stdout.trim() : '';
    if (path) {
      assert.ok(b.present, `${b.name} is at ${path}`);
      assert.is(b.path, path, b.name);
      assert.ok(b.version.length > 0, `${b.name} has a version`);
    }
  }
  const ip = facts.binaries.binaries.find((b) => b.name === 'ip');
  const ipV = execFileSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip?.present) assert.ok(ipV.includes(ip.version), `ip -V says ${ipV.trim()}, we say ${ip.version}`);
});

test.run();
