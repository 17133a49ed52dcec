// Agent.Report, checked before anything of it is stored. The address ends up in other nodes'
// /etc/hosts and probe plans, facts in preflight findings, logs and `muster status`; so the
// address must be an IP, every list and section is bounded (INPUT_LIMITS), and every string that
// is shown or used is bounded and printable. A report that fails is refused as a whole: the
// coordinator keeps the node's last good facts.
import type { FactsOut, ProbeResultsOut, ReportRequestOut } from '../../../shared/wire/types.ts';
import { FieldChecker, quote } from './fields.ts';
import { AGENT_VERSION_ALLOWED, AGENT_VERSION_RE, INPUT_LIMITS as L, MACHINE_ID_ALLOWED, MACHINE_ID_RE } from './limits.ts';

type Section<K extends keyof FactsOut> = NonNullable<FactsOut[K]>;
type LatencyOut = ProbeResultsOut['latency'][number];
type TargetOut = NonNullable<LatencyOut['target']>;

const TEXT = { max: L.textChars };
const PATH = { max: L.pathChars };
const HOSTNAME = { max: L.hostnameChars };
const PROBE_ERROR = { max: L.probeErrorChars };
const MAX_INT64_AS_NUMBER = Number.MAX_SAFE_INTEGER;

/** Throws InvalidArgumentError naming `node` and the first bad field; returns when all is well. */
export function validateReport(req: ReportRequestOut, node: string): void {
  const f = new FieldChecker(`report from ${node}`);
  f.nodeIp('address', req.address, 'keeps the current address');
  if (req.agent_version) f.matches('agent_version', req.agent_version, L.agentVersionChars, AGENT_VERSION_RE, AGENT_VERSION_ALLOWED);
  f.labels('labels', req.labels ?? {});
  f.int('probe_port', req.probe_port, 0, 65535, 'a port (1-65535, or 0 for none)');
  if (req.facts) validateFacts(f, req.facts);
  if (req.probes) validateProbes(f, req.probes);
}

function validateFacts(f: FieldChecker, facts: FactsOut): void {
  if (facts.cpu) cpu(f, facts.cpu);
  if (facts.disks) disks(f, facts.disks);
  if (facts.os) os(f, facts.os);
  if (facts.network) network(f, facts.network);
  if (facts.ports) ports(f, facts.ports);
  if (facts.binaries) binaries(f, facts.binaries);
  if (facts.kernel) kernel(f, facts.kernel);
  if (facts.clock) {
    f.finite('facts.clock.offset_ms', facts.clock.offset_ms);
    f.finite('facts.clock.round_trip_ms', facts.clock.round_trip_ms);
  }
  // Last: the field checks say more precisely what is wrong when a list is too long.
  for (const [name, section] of Object.entries(facts)) {
    if (section) f.jsonBytes(`facts.${name}`, section, name === 'ports' ? L.portsSectionBytes : L.factsSectionBytes);
  }
}

function cpu(f: FieldChecker, s: Section<'cpu'>): void {
  f.text('facts.cpu.model', s.model, TEXT);
  f.text('facts.cpu.architecture', s.architecture, TEXT);
  f.finite('facts.cpu.speed_mhz', s.speed_mhz);
}

function disks(f: FieldChecker, s: Section<'disks'>): void {
  f.count('facts.disks.filesystems', s.filesystems.length, L.filesystems);
  s.filesystems.forEach((fs, i) => {
    const p = `facts.disks.filesystems[${i}]`;
    f.text(`${p}.mount`, fs.mount, PATH);
    f.text(`${p}.device`, fs.device, PATH);
    f.text(`${p}.type`, fs.type, TEXT);
  });
  f.text('facts.disks.var_lib_mount', s.var_lib_mount, PATH);
}

function os(f: FieldChecker, s: Section<'os'>): void {
  for (const k of ['id', 'version_id', 'pretty_name', 'kernel', 'cgroup_version', 'init_system'] as const) f.text(`facts.os.${k}`, s[k], TEXT);
  f.matches('facts.os.machine_id', s.machine_id, L.machineIdChars, MACHINE_ID_RE, MACHINE_ID_ALLOWED);
  f.matches('facts.os.boot_id', s.boot_id, L.machineIdChars, MACHINE_ID_RE, MACHINE_ID_ALLOWED);
}

function network(f: FieldChecker, s: Section<'network'>): void {
  // Not held to DNS syntax: an upper-case or odd host name is a preflight finding, not bad input.
  f.text('facts.network.hostname', s.hostname, HOSTNAME);
  f.text('facts.network.fqdn', s.fqdn, HOSTNAME);
  f.count('facts.network.interfaces', s.interfaces.length, L.interfaces);
  s.interfaces.forEach((iface, i) => {
    const p = `facts.network.interfaces[${i}]`;
    f.text(`${p}.name`, iface.name, TEXT);
    f.count(`${p}.addresses`, iface.addresses.length, L.addressesPerInterface);
    iface.addresses.forEach((a, j) => f.cidr(`${p}.addresses[${j}]`, a));
    f.text(`${p}.state`, iface.state, TEXT);
    f.text(`${p}.mac`, iface.mac, TEXT);
  });
  f.text('facts.network.default_interface', s.default_interface, TEXT);
  f.ip('facts.network.default_address', s.default_address, 'no default route');
}

function ports(f: FieldChecker, s: Section<'ports'>): void {
  f.count('facts.ports.listening', s.listening.length, L.listeningPorts);
  s.listening.forEach((l, i) => {
    const p = `facts.ports.listening[${i}]`;
    f.oneOf(`${p}.protocol`, l.protocol, ['tcp', 'udp']);
    f.ip(`${p}.address`, l.address);
    f.int(`${p}.port`, l.port, 0, 65535, 'a port (0-65535)');
    f.text(`${p}.process`, l.process, TEXT);
    f.int(`${p}.pid`, l.pid, 0, 2 ** 31 - 1, 'a process id (0 when unknown)');
  });
}

function binaries(f: FieldChecker, s: Section<'binaries'>): void {
  f.count('facts.binaries.binaries', s.binaries.length, L.binaries);
  s.binaries.forEach((b, i) => {
    const p = `facts.binaries.binaries[${i}]`;
    f.text(`${p}.name`, b.name, TEXT);
    f.text(`${p}.path`, b.path, PATH);
    f.text(`${p}.version`, b.version, TEXT);
    f.text(`${p}.variant`, b.variant, TEXT);
  });
}

function kernel(f: FieldChecker, s: Section<'kernel'>): void {
  const sysctls = Object.entries(s.sysctls ?? {});
  f.count('facts.kernel.sysctls', sysctls.length, L.sysctls);
  for (const [k, v] of sysctls) {
    f.text('facts.kernel.sysctls key', k, TEXT);
    f.text(`facts.kernel.sysctls[${quote(k)}]`, v, { ...TEXT, tab: true });
  }
  f.count('facts.kernel.modules_loaded', s.modules_loaded.length, L.modules);
  s.modules_loaded.forEach((m, i) => f.text(`facts.kernel.modules_loaded[${i}]`, m, TEXT));
}

function validateProbes(f: FieldChecker, r: ProbeResultsOut): void {
  f.int('probes.plan_id', r.plan_id, 0, MAX_INT64_AS_NUMBER, 'a probe plan id (0 or more)');
  f.count('probes.latency', r.latency.length, L.probeResults);
  f.count('probes.reach', r.reach.length, L.probeResults);
  r.latency.forEach((l, i) => latency(f, `probes.latency[${i}]`, l, false));
  r.reach.forEach((x, i) => {
    const p = `probes.reach[${i}]`;
    target(f, `${p}.target`, x.target, false);
    f.ip(`${p}.source_address`, x.source_address, "the node's address");
    f.text(`${p}.error`, x.error, PROBE_ERROR);
  });
  if (r.coordinator) latency(f, 'probes.coordinator', r.coordinator, true);
}

function latency(f: FieldChecker, p: string, l: LatencyOut, coordinator: boolean): void {
  target(f, `${p}.target`, l.target, coordinator);
  f.finite(`${p}.median_ms`, l.median_ms);
  f.text(`${p}.error`, l.error, PROBE_ERROR);
}

/**
 * A target the coordinator sent, echoed back. The coordinator's own entry is the agent's
 * --coordinator HOST:PORT, whose host may be a DNS name.
 */
function target(f: FieldChecker, p: string, t: TargetOut | null, coordinator: boolean): void {
  if (!t) f.fail(p, 'is missing; every result names the target it measured');
  f.hostname(`${p}.node_name`, t.node_name);
  if (coordinator) f.host(`${p}.address`, t.address);
  else f.ip(`${p}.address`, t.address);
  f.int(`${p}.port`, t.port, 1, 65535, 'a port (1-65535)');
}
