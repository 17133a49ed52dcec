// What an authenticated node (Report, ReportApply) or a joining one (Join) may send: one row per
// rule, valid and invalid, with the exact error the node gets back. A meta-test holds every entry
// of INPUT_LIMITS to at least one failing row, so a limit cannot be added without a test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateReport } from '../../coordinator/server/input/report.ts';
import { validateApplyResult } from '../../coordinator/server/input/apply.ts';
import { validateJoinRequest, validateNodeName } from '../../coordinator/server/input/join.ts';
import { checkWatchSlots } from '../../coordinator/server/input/watches.ts';
import { INPUT_LIMITS, type InputLimit } from '../../coordinator/server/input/limits.ts';
import { InvalidArgumentError, MusterError } from '../../shared/errors/index.ts';
import { collectFacts, VersionCache } from '../../agent/facts/index.ts';
import type { ApplyResultOut, FactsOut, ReportRequestOut } from '../../shared/wire/types.ts';
import type { JoinRequest__Output as JoinRequestOut } from '../../proto/gen/types/muster/v1/JoinRequest.ts';

// Addresses below are data inside messages; nothing in this file binds or dials.
type Net = NonNullable<FactsOut['network']>;
type Iface = Net['interfaces'][number];
type Port = NonNullable<FactsOut['ports']>['listening'][number];
type Target = { node_name: string; address: string; port: number; sample: boolean };

const target = (name: string, address: string, port: number): Target => ({ node_name: name, address, port, sample: false });

/** A report as a real node sends it: every section, probe results, labels. */
function report(): ReportRequestOut {
  return {
    facts: {
      cpu: { model: 'Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz', physical_cores: 2, logical_cores: 4, speed_mhz: 2100, architecture: 'amd64' },
      memory: { total_bytes: 8 * 2 ** 30, available_bytes: 6 * 2 ** 30, swap_total_bytes: 0, swap_used_bytes: 0 },
      disks: { filesystems: [{ mount: '/', device: '/dev/vda1', type: 'ext4', size_bytes: 5e11, free_bytes: 4e11 }, { mount: '/run', device: 'tmpfs', type: 'tmpfs', size_bytes: 1e9, free_bytes: 1e9 }], var_lib_mount: '/' },
      os: { id: 'debian', version_id: '12', pretty_name: 'Debian GNU/Linux 12 (bookworm) — façade ✓', kernel: '6.1.0-18-amd64', cgroup_version: 'v2', init_system: 'systemd', machine_id: '0123456789abcdef0123456789abcdef', boot_id: '8a0e5c6e-3f0e-4c36-9f5b-2a3e2d1f0c11' },
      network: {
        hostname: 'node-2',
        fqdn: 'node-2.example.com',
        interfaces: [
          { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'], mtu: 65536, state: 'unknown', mac: '00:00:00:00:00:00' },
          { name: 'eth0', addresses: ['10.0.0.5/24', 'fe80::5054:ff:fe12:3456/64'], mtu: 1500, state: 'up', mac: '52:54:00:12:34:56' },
          { name: 'cni0', addresses: ['172.16.3.1/26'], mtu: 1450, state: 'up', mac: 'aa:bb:cc:dd:ee:ff' },
          { name: 'flannel.1', addresses: [], mtu: 1450, state: 'unknown', mac: '' },
        ],
        default_interface: 'eth0',
        default_address: '10.0.0.5',
      },
      ports: { listening: [
        { protocol: 'tcp', address: '0.0.0.0', port: 22, process: 'sshd', pid: 612 },
        { protocol: 'tcp', address: '::', port: 10250, process: 'kubelet', pid: 2001 },
        { protocol: 'udp', address: '::ffff:127.0.0.1', port: 323, process: '', pid: 0 },
      ] },
      binaries: { binaries: [
        { name: 'iptables', present: true, path: '/usr/sbin/iptables', version: '1.8.9', variant: 'nf_tables' },
        { name: 'runc', present: true, path: '/usr/bin/runc', version: '1.1.5+ds1', variant: '' },
        { name: 'crictl', present: false, path: '', version: '', variant: '' },
      ] },
      // ip_local_port_range separates its two values with a tab.
      kernel: { sysctls: { 'net.ipv4.ip_forward': '1', 'net.ipv4.ip_local_port_range': '32768\t60999' }, modules_loaded: ['br_netfilter', 'overlay'] },
      clock: { offset_ms: -1.5, round_trip_ms: 0.8 },
    },
    full: true,
    sent_at_ms: 1_760_000_000_000,
    probes: {
      plan_id: 3,
      latency: [{ target: target('node-1', '10.0.0.4', 7444), median_ms: 0.42, tries: 5, error: '' }, { target: target('node-3', '10.0.0.6', 7444), median_ms: -1, tries: 5, error: 'ECONNREFUSED: connection refused (nothing listens on the port, or a firewall rejects it)' }],
      reach: [{ target: target('node-1', '10.0.0.4', 2379), source_address: '10.0.0.5', ok: true, error: '' }, { target: target('node-1', 'fd00::4', 6443), source_address: '', ok: false, error: 'timed out after 1000 ms (a firewall drops the traffic, or the host is down)' }],
      coordinator: { target: target('coordinator', 'coordinator.example.com', 7443), median_ms: 0.3, tries: 5, error: '' },
    },
    labels: { 'topology.kubernetes.io/zone': 'eu-1a', disk: 'ssd', 'example.com/empty': '' },
    agent_version: '0.2.0-rc.1+g1234abc',
    address: '10.0.0.5',
    probe_port: 7444,
  };
}

function apply(): ApplyResultOut {
  return {
    revision: 7,
    ok: true,
    error: '',
    files: [{ path: '/etc/kubernetes/kubelet.conf', changed: true }, { path: '/etc/muster/assignment.yaml', changed: false }],
    duration_ms: 120,
    roles: ['etcd', 'master'],
    drift: [],
    removed: [],
  };
}

function join(): JoinRequestOut {
  return {
    token: 'abcdef.0123456789abcdef',
    node_name: 'node-2',
    csr_pem: '-----BEGIN CERTIFICATE REQUEST-----\nMIIBDjCBtQIBADAR\n-----END CERTIFICATE REQUEST-----\n',
    machine_id: '0123456789abcdef0123456789abcdef',
    agent_version: '0.1.0',
    labels: { 'topology.kubernetes.io/zone': 'eu-1a' },
    address: '10.0.0.5',
  };
}

const R = (fn: (r: ReportRequestOut & { facts: Required<{ [K in keyof FactsOut]: NonNullable<FactsOut[K]> }> }) => void) => () => {
  const r = report();
  fn(r as never);
  validateReport(r, 'node-2');
};
const A = (fn: (r: ApplyResultOut) => void) => () => {
  const r = apply();
  fn(r);
  validateApplyResult(r, 'node-2');
};
const J = (fn: (r: JoinRequestOut) => void) => () => {
  const r = join();
  fn(r);
  validateJoinRequest(r);
};
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const iface = (name: string, addresses: string[]): Iface => ({ name, addresses, mtu: 1500, state: 'up', mac: '' });
const port = (i: number, process = 'p'): Port => ({ protocol: 'tcp', address: '0.0.0.0', port: 1 + (i % 65535), process, pid: 1 });
const longLabels = (n: number) => Object.fromEntries(times(n, (i) => [`k${i}`, 'v']));

interface Row {
  name: string;
  /** The INPUT_LIMITS entry the row exceeds, for the meta-test. */
  limit?: InputLimit;
  run: () => void;
  /** The exact message of the InvalidArgumentError, or null when the input is valid. */
  expect: string | null;
}

const E = 'report from node-2: ';
const ROWS: Row[] = [
  // ---- Report: top-level fields
  { name: 'a real report passes', run: R(() => {}), expect: null },
  { name: 'a report without facts or probes passes', run: R((r) => { (r as ReportRequestOut).facts = null; r.probes = null; r.labels = {}; r.agent_version = ''; r.address = ''; }), expect: null },
  { name: 'address with a terminal escape', run: R((r) => (r.address = 'x\u001b[31m')), expect:
    `${E}address "x\\u001b[31m" is not an IP address; write an IPv4 or IPv6 address without a zone, or leave it empty (keeps the current address)` },
  { name: 'address is a host name', run: R((r) => (r.address = 'evil.example.com')), expect:
    `${E}address "evil.example.com" is not an IP address; write an IPv4 or IPv6 address without a zone, or leave it empty (keeps the current address)` },
  { name: 'address with an IPv6 zone', run: R((r) => (r.address = 'fe80::1%eth0')), expect:
    `${E}address "fe80::1%eth0" is not an IP address; write an IPv4 or IPv6 address without a zone, or leave it empty (keeps the current address)` },
  { name: 'address with a trailing newline', run: R((r) => (r.address = '10.0.0.5\n')), expect:
    `${E}address "10.0.0.5\\n" is not an IP address; write an IPv4 or IPv6 address without a zone, or leave it empty (keeps the current address)` },
  { name: 'IPv6 address passes', run: R((r) => (r.address = 'fd00::5')), expect: null },
  { name: 'agent_version too long', limit: 'agentVersionChars', run: R((r) => (r.agent_version = '1'.repeat(65))), expect:
    `${E}agent_version "${'1'.repeat(64)}…" is 65 characters long; at most 64 are allowed` },
  { name: 'agent_version of 64 characters passes', run: R((r) => (r.agent_version = '1'.repeat(64))), expect: null },
  { name: 'agent_version with a space', run: R((r) => (r.agent_version = '1.0 beta')), expect:
    `${E}agent_version "1.0 beta" has characters that are not allowed; use at most 64 letters, digits and ". + _ -"` },
  { name: 'agent_version with an escape', run: R((r) => (r.agent_version = '1.0\u001b]0;pwned\u0007')), expect:
    `${E}agent_version "1.0\\u001b]0;pwned\\u0007" contains the control character U+001B; only printable text is allowed` },
  { name: '65 labels', limit: 'labels', run: R((r) => (r.labels = longLabels(65))), expect: `${E}labels has 65 entries; at most 64 are allowed` },
  { name: '64 labels pass', run: R((r) => (r.labels = longLabels(64))), expect: null },
  { name: 'label key with a space', run: R((r) => (r.labels = { 'Foo Bar': 'x' })), expect:
    `${E}labels key "Foo Bar" is not a label key: name part "Foo Bar" must be 63 characters or less, start and end with a letter or digit, and contain only letters, digits, "-", "_" and "."` },
  { name: 'label key with an upper-case prefix', run: R((r) => (r.labels = { 'Example.com/zone': 'x' })), expect:
    `${E}labels key "Example.com/zone" is not a label key: prefix "Example.com" must be a lowercase DNS subdomain (e.g. example.com)` },
  { name: 'label key with an escape', run: R((r) => (r.labels = { 'zone\u001b[2J': 'x' })), expect:
    `${E}labels key "zone\\u001b[2J" contains the control character U+001B; only printable text is allowed` },
  { name: 'label value too long', run: R((r) => (r.labels = { zone: 'a'.repeat(64) })), expect:
    `${E}labels["zone"] "${'a'.repeat(64)}" is 64 characters long; at most 63 are allowed` },
  { name: 'label value with a slash', run: R((r) => (r.labels = { zone: 'eu/1' })), expect:
    `${E}labels["zone"] "eu/1" is not a label value: value "eu/1" must be 63 characters or less, start and end with a letter or digit, and contain only letters, digits, "-", "_" and ".", or be empty` },
  { name: 'probe_port above 65535', run: R((r) => (r.probe_port = 70000)), expect: `${E}probe_port 70000 is not a port (1-65535, or 0 for none)` },

  // ---- Report: facts
  { name: 'interface address with an escape (the issue)', run: R((r) => (r.facts.network.interfaces[3]!.addresses = ['x\u001b[31m'])), expect:
    `${E}facts.network.interfaces[3].addresses[0] "x\\u001b[31m" is not an IP address in CIDR form (an address and a prefix length, e.g. 10.0.0.5/24)` },
  { name: 'interface address without a prefix', run: R((r) => (r.facts.network.interfaces[1]!.addresses[0] = '10.0.0.5')), expect:
    `${E}facts.network.interfaces[1].addresses[0] "10.0.0.5" is not an IP address in CIDR form (an address and a prefix length, e.g. 10.0.0.5/24)` },
  { name: 'interface address with a too long prefix', run: R((r) => (r.facts.network.interfaces[1]!.addresses[0] = '10.0.0.5/33')), expect:
    `${E}facts.network.interfaces[1].addresses[0] "10.0.0.5/33" is not an IP address in CIDR form (an address and a prefix length, e.g. 10.0.0.5/24)` },
  { name: 'interface address with a zone', run: R((r) => (r.facts.network.interfaces[1]!.addresses[1] = 'fe80::1%eth0/64')), expect:
    `${E}facts.network.interfaces[1].addresses[1] "fe80::1%eth0/64" is not an IP address in CIDR form (an address and a prefix length, e.g. 10.0.0.5/24)` },
  { name: '257 interfaces', limit: 'interfaces', run: R((r) => (r.facts.network.interfaces = times(257, (i) => iface(`if${i}`, [])))), expect:
    `${E}facts.network.interfaces has 257 entries; at most 256 are allowed` },
  { name: '65 addresses on an interface', limit: 'addressesPerInterface', run: R((r) => (r.facts.network.interfaces[1]!.addresses = times(65, (i) => `10.0.${i}.5/24`))), expect:
    `${E}facts.network.interfaces[1].addresses has 65 entries; at most 64 are allowed` },
  { name: 'network section over 64 KiB within every count', limit: 'factsSectionBytes', run: R((r) => (r.facts.network.interfaces = times(256, (i) => iface(`if${i}`, times(64, (j) => `10.${i}.${j}.1/24`))))), expect:
    `${E}facts.network is 285322 bytes as JSON; at most 65536 are allowed` },
  { name: 'hostname of 254 characters', limit: 'hostnameChars', run: R((r) => (r.facts.network.hostname = 'h'.repeat(254))), expect:
    `${E}facts.network.hostname "${'h'.repeat(64)}…" is 254 characters long; at most 253 are allowed` },
  { name: 'hostname with a newline (a forged log line)', run: R((r) => (r.facts.network.hostname = 'node-2\n2026-01-01T00:00:00.000Z info  coordinator: forged')), expect:
    `${E}facts.network.hostname "node-2\\n2026-01-01T00:00:00.000Z info  coordinator: forged" contains the control character U+000A; only printable text is allowed` },
  { name: 'upper-case hostname passes (preflight reports it)', run: R((r) => (r.facts.network.hostname = 'Node-2')), expect: null },
  { name: 'default_address not an IP', run: R((r) => (r.facts.network.default_address = 'eth0')), expect:
    `${E}facts.network.default_address "eth0" is not an IP address; write an IPv4 or IPv6 address without a zone, or leave it empty (no default route)` },
  { name: 'interface name with a C1 CSI', run: R((r) => (r.facts.network.interfaces[0]!.name = 'lo\u009b2J')), expect:
    `${E}facts.network.interfaces[0].name "lo\\x9b2J" contains the control character U+009B; only printable text is allowed` },
  { name: 'cpu model of 257 characters', limit: 'textChars', run: R((r) => (r.facts.cpu.model = 'm'.repeat(257))), expect:
    `${E}facts.cpu.model "${'m'.repeat(64)}…" is 257 characters long; at most 256 are allowed` },
  { name: 'cpu speed NaN', run: R((r) => (r.facts.cpu.speed_mhz = NaN)), expect: `${E}facts.cpu.speed_mhz NaN is not a finite number` },
  { name: 'pretty_name with DEL', run: R((r) => (r.facts.os.pretty_name = 'Debian\u007f')), expect:
    `${E}facts.os.pretty_name "Debian\\x7f" contains the control character U+007F; only printable text is allowed` },
  { name: 'pretty_name with a right-to-left override', run: R((r) => (r.facts.os.pretty_name = 'Debian \u202etxt.exe')), expect:
    `${E}facts.os.pretty_name "Debian \\u202etxt.exe" contains the control character U+202E; only printable text is allowed` },
  { name: 'machine_id of 65 characters', limit: 'machineIdChars', run: R((r) => (r.facts.os.machine_id = 'a'.repeat(65))), expect:
    `${E}facts.os.machine_id "${'a'.repeat(64)}…" is 65 characters long; at most 64 are allowed` },
  { name: 'machine_id with a slash', run: R((r) => (r.facts.os.machine_id = '../../etc')), expect:
    `${E}facts.os.machine_id "../../etc" has characters that are not allowed; use at most 64 letters, digits and ". _ -"` },
  { name: 'empty machine_id passes (simulated nodes)', run: R((r) => (r.facts.os.machine_id = '')), expect: null },
  { name: '257 filesystems', limit: 'filesystems', run: R((r) => (r.facts.disks.filesystems = times(257, (i) => ({ mount: `/m${i}`, device: 'tmpfs', type: 'tmpfs', size_bytes: 1, free_bytes: 1 })))), expect:
    `${E}facts.disks.filesystems has 257 entries; at most 256 are allowed` },
  { name: 'mount point of 4097 characters', limit: 'pathChars', run: R((r) => (r.facts.disks.filesystems[0]!.mount = `/${'d'.repeat(4096)}`)), expect:
    `${E}facts.disks.filesystems[0].mount "/${'d'.repeat(63)}…" is 4097 characters long; at most 4096 are allowed` },
  { name: '4097 listening ports', limit: 'listeningPorts', run: R((r) => (r.facts.ports.listening = times(4097, (i) => port(i)))), expect:
    `${E}facts.ports.listening has 4097 entries; at most 4096 are allowed` },
  { name: '4096 listening ports pass', run: R((r) => (r.facts.ports.listening = times(4096, (i) => port(i, 'kube-proxy')))), expect: null },
  { name: 'ports section over 512 KiB within every count', limit: 'portsSectionBytes', run: R((r) => (r.facts.ports.listening = times(4096, (i) => port(i, 'p'.repeat(200))))), expect:
    `${E}facts.ports is 1113020 bytes as JSON; at most 524288 are allowed` },
  { name: 'listening protocol sctp', run: R((r) => (r.facts.ports.listening[0]!.protocol = 'sctp')), expect:
    `${E}facts.ports.listening[0].protocol "sctp" is not one of tcp, udp` },
  { name: 'listening address "*"', run: R((r) => (r.facts.ports.listening[0]!.address = '*')), expect:
    `${E}facts.ports.listening[0].address "*" is not an IP address; write an IPv4 or IPv6 address without a zone` },
  { name: 'listening port 65536', run: R((r) => (r.facts.ports.listening[0]!.port = 65536)), expect:
    `${E}facts.ports.listening[0].port 65536 is not a port (0-65535)` },
  { name: 'negative pid', run: R((r) => (r.facts.ports.listening[0]!.pid = -1)), expect:
    `${E}facts.ports.listening[0].pid -1 is not a process id (0 when unknown)` },
  { name: 'process name with an escape', run: R((r) => (r.facts.ports.listening[1]!.process = 'kubelet\u001b[8m')), expect:
    `${E}facts.ports.listening[1].process "kubelet\\u001b[8m" contains the control character U+001B; only printable text is allowed` },
  { name: '257 binaries', limit: 'binaries', run: R((r) => (r.facts.binaries.binaries = times(257, (i) => ({ name: `b${i}`, present: false, path: '', version: '', variant: '' })))), expect:
    `${E}facts.binaries.binaries has 257 entries; at most 256 are allowed` },
  { name: 'binary version with a newline', run: R((r) => (r.facts.binaries.binaries[0]!.version = '1.8.9\nwarning')), expect:
    `${E}facts.binaries.binaries[0].version "1.8.9\\nwarning" contains the control character U+000A; only printable text is allowed` },
  { name: '257 sysctls', limit: 'sysctls', run: R((r) => (r.facts.kernel.sysctls = Object.fromEntries(times(257, (i) => [`net.x${i}`, '1'])))), expect:
    `${E}facts.kernel.sysctls has 257 entries; at most 256 are allowed` },
  { name: 'sysctl value with a newline', run: R((r) => (r.facts.kernel.sysctls['net.ipv4.ip_forward'] = '1\n0')), expect:
    `${E}facts.kernel.sysctls["net.ipv4.ip_forward"] "1\\n0" contains the control character U+000A; only printable text is allowed` },
  { name: 'sysctl key with an escape', run: R((r) => (r.facts.kernel.sysctls = { 'net\u001b': '1' })), expect:
    `${E}facts.kernel.sysctls key "net\\u001b" contains the control character U+001B; only printable text is allowed` },
  { name: '257 modules', limit: 'modules', run: R((r) => (r.facts.kernel.modules_loaded = times(257, (i) => `m${i}`))), expect:
    `${E}facts.kernel.modules_loaded has 257 entries; at most 256 are allowed` },
  { name: 'clock offset infinite', run: R((r) => (r.facts.clock.offset_ms = Infinity)), expect: `${E}facts.clock.offset_ms Infinity is not a finite number` },

  // ---- Report: probe results
  { name: 'negative probe plan id', run: R((r) => (r.probes!.plan_id = -1)), expect: `${E}probes.plan_id -1 is not a probe plan id (0 or more)` },
  { name: '1025 latency results', limit: 'probeResults', run: R((r) => (r.probes!.latency = times(1025, () => r.probes!.latency[0]!))), expect:
    `${E}probes.latency has 1025 entries; at most 1024 are allowed` },
  { name: '1025 reach results', limit: 'probeResults', run: R((r) => (r.probes!.reach = times(1025, () => r.probes!.reach[0]!))), expect:
    `${E}probes.reach has 1025 entries; at most 1024 are allowed` },
  { name: 'latency target address not an IP', run: R((r) => (r.probes!.latency[1]!.target!.address = 'evil.example.com')), expect:
    `${E}probes.latency[1].target.address "evil.example.com" is not an IP address; write an IPv4 or IPv6 address without a zone` },
  { name: 'reach target port 0', run: R((r) => (r.probes!.reach[0]!.target!.port = 0)), expect:
    `${E}probes.reach[0].target.port 0 is not a port (1-65535)` },
  { name: 'reach target missing', run: R((r) => (r.probes!.reach[1]!.target = null)), expect:
    `${E}probes.reach[1].target is missing; every result names the target it measured` },
  { name: 'reach target node name with an escape', run: R((r) => (r.probes!.reach[0]!.target!.node_name = 'node-1\u001b[0m')), expect:
    `${E}probes.reach[0].target.node_name "node-1\\u001b[0m" contains the control character U+001B; only printable text is allowed` },
  { name: 'reach source address not an IP', run: R((r) => (r.probes!.reach[0]!.source_address = 'me')), expect:
    `${E}probes.reach[0].source_address "me" is not an IP address; write an IPv4 or IPv6 address without a zone, or leave it empty (the node's address)` },
  { name: 'probe error of 1025 characters', limit: 'probeErrorChars', run: R((r) => (r.probes!.latency[1]!.error = 'e'.repeat(1025))), expect:
    `${E}probes.latency[1].error "${'e'.repeat(64)}…" is 1025 characters long; at most 1024 are allowed` },
  { name: 'probe error with a newline', run: R((r) => (r.probes!.reach[1]!.error = 'refused\nforged')), expect:
    `${E}probes.reach[1].error "refused\\nforged" contains the control character U+000A; only printable text is allowed` },
  { name: 'latency median NaN', run: R((r) => (r.probes!.latency[0]!.median_ms = NaN)), expect: `${E}probes.latency[0].median_ms NaN is not a finite number` },
  { name: 'coordinator target by IP passes', run: R((r) => (r.probes!.coordinator!.target!.address = '10.0.0.1')), expect: null },
  { name: 'coordinator target neither IP nor host name', run: R((r) => (r.probes!.coordinator!.target!.address = 'bad host')), expect:
    `${E}probes.coordinator.target.address "bad host" is neither an IP address nor a host name (letters, digits, "-" and ".")` },

  // ---- ReportApply
  { name: 'a real apply result passes', run: A(() => {}), expect: null },
  { name: 'apply error with escapes and newlines passes (escaped where shown)', run: A((r) => { r.ok = false; r.error = `cannot write /etc/x: EACCES\n\u001b[31m${'x'.repeat(4000)}`; }), expect: null },
  { name: 'apply error of 4097 characters', limit: 'applyErrorChars', run: A((r) => (r.error = 'e'.repeat(4097))), expect:
    `apply result from node-2: error "${'e'.repeat(64)}…" is 4097 characters long; at most 4096 are allowed` },
  { name: '2001 files', limit: 'files', run: A((r) => (r.files = times(2001, (i) => ({ path: `/etc/f${i}`, changed: false })))), expect:
    'apply result from node-2: files has 2001 entries; at most 2000 are allowed' },
  { name: 'relative file path', run: A((r) => (r.files[1]!.path = 'etc/muster/assignment.yaml')), expect:
    'apply result from node-2: files[1].path "etc/muster/assignment.yaml" is not an absolute path; files are named as on the node, e.g. /etc/kubernetes/kubelet.conf' },
  { name: 'file path of 4097 characters', limit: 'pathChars', run: A((r) => (r.files[0]!.path = `/${'p'.repeat(4096)}`)), expect:
    `apply result from node-2: files[0].path "/${'p'.repeat(63)}…" is 4097 characters long; at most 4096 are allowed` },
  { name: 'file path with a newline', run: A((r) => (r.files[0]!.path = '/etc/x\nforged')), expect:
    'apply result from node-2: files[0].path "/etc/x\\nforged" contains the control character U+000A; only printable text is allowed' },
  { name: '2001 drift paths', limit: 'files', run: A((r) => (r.drift = times(2001, (i) => `/etc/f${i}`))), expect: 'apply result from node-2: drift has 2001 entries; at most 2000 are allowed' },
  { name: 'relative drift path', run: A((r) => (r.drift = ['/etc/ok', 'etc/x'])), expect:
    'apply result from node-2: drift[1] "etc/x" is not an absolute path; files are named as on the node, e.g. /etc/kubernetes/kubelet.conf' },
  { name: 'removed path with a newline', run: A((r) => (r.removed = ['/etc/x\nforged'])), expect:
    'apply result from node-2: removed[0] "/etc/x\\nforged" contains the control character U+000A; only printable text is allowed' },
  { name: 'unknown role', run: A((r) => (r.roles = ['worker', 'admin'])), expect: 'apply result from node-2: roles[1] "admin" is not one of etcd, master, worker' },
  { name: 'negative revision', run: A((r) => (r.revision = -1)), expect: 'apply result from node-2: revision -1 is not an assignment revision (0 or more)' },

  // ---- Join
  { name: 'a real join request passes', run: J(() => {}), expect: null },
  { name: 'join without address, version, labels or machine id passes', run: J((r) => { r.address = ''; r.agent_version = ''; r.labels = {}; r.machine_id = ''; }), expect: null },
  { name: 'node name with upper case', run: J((r) => (r.node_name = 'Node_2')), expect:
    `node name "Node_2" is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters); set --node-name` },
  { name: 'node name with an escape', run: J((r) => (r.node_name = 'n\u001b[31m')), expect:
    `node name "n\\u001b[31m" is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters); set --node-name` },
  { name: 'node name of 254 characters', limit: 'nodeNameChars', run: J((r) => (r.node_name = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`)), expect:
    `node name "${'a'.repeat(63)}.…" is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters); set --node-name` },
  { name: 'empty node name', run: J((r) => (r.node_name = '')), expect:
    `node name "" is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters); set --node-name` },
  { name: 'CSR of 8193 characters', limit: 'csrPemChars', run: J((r) => (r.csr_pem = 'c'.repeat(8193))), expect:
    `join request for node-2: csr_pem "${'c'.repeat(64)}…" is 8193 characters long; at most 8192 are allowed` },
  { name: 'join machine_id with a space', run: J((r) => (r.machine_id = 'a b')), expect:
    'join request for node-2: machine_id "a b" has characters that are not allowed; use at most 64 letters, digits and ". _ -"' },
  { name: 'join agent_version with a newline', run: J((r) => (r.agent_version = '0.1.0\n')), expect:
    'join request for node-2: agent_version "0.1.0\\n" contains the control character U+000A; only printable text is allowed' },
  { name: 'join labels bad key', run: J((r) => (r.labels = { '/zone': 'a' })), expect:
    'join request for node-2: labels key "/zone" is not a label key: prefix before "/" must not be empty' },
  { name: 'join address not an IP', run: J((r) => (r.address = 'node-2.example.com')), expect:
    'join request for node-2: address "node-2.example.com" is not an IP address; write an IPv4 or IPv6 address without a zone, or leave it empty (the node has no address until it reports one)' },
];

function outcome(run: () => void): string | null {
  try {
    run();
    return null;
  } catch (err) {
    assert.instance(err, InvalidArgumentError, `expected InvalidArgumentError, got ${err}`);
    return (err as Error).message;
  }
}

for (const row of ROWS) {
  test(row.name, () => {
    assert.is(outcome(row.run), row.expect);
  });
}

test('every limit in INPUT_LIMITS has a failing row', () => {
  const covered = new Set(ROWS.filter((r) => r.limit && r.expect !== null).map((r) => r.limit));
  covered.add('watchesPerNode'); // below: it is a call count, not a request field
  const missing = Object.keys(INPUT_LIMITS).filter((k) => !covered.has(k as InputLimit));
  assert.equal(missing, []);
});

test('watches per node: a fifth concurrent watch is refused as unavailable (the agent retries)', () => {
  checkWatchSlots('node-2', 0);
  checkWatchSlots('node-2', INPUT_LIMITS.watchesPerNode - 1);
  let err: unknown;
  try {
    checkWatchSlots('node-2', INPUT_LIMITS.watchesPerNode);
  } catch (e) {
    err = e;
  }
  assert.instance(err, MusterError);
  assert.is((err as MusterError).kind, 'unavailable');
  assert.is((err as Error).message, 'node node-2 already holds 4 WatchAssignment calls; at most 4 may be open at once (retry when one ends)');
});

test('validateNodeName is the join check on its own', () => {
  validateNodeName('node-2.example.com');
  assert.throws(() => validateNodeName('-node'), (e: Error) => e instanceof InvalidArgumentError);
});

test("this machine's facts, as the agent collects them, pass", async () => {
  const facts = await collectFacts({ versionCache: new VersionCache() });
  const r = report();
  r.facts = facts as FactsOut;
  validateReport(r, 'this-machine');
});

test.run();
