// Hand-made facts and plans for the preflight tests: a node that passes every check for every
// role in the production profile, which each table row then breaks in one way.
import type { Facts, Facts__Output } from '../../proto/gen/types/muster/v1/Facts.ts';
import type { Role } from '../../shared/constants.ts';
import type { PreflightContext, PreflightPlan } from '../../shared/preflight/index.ts';

export const GiB = 1024 ** 3;
export const GB = 1000 ** 3;

const BINARIES = ['ip', 'iptables', 'iptables-save', 'iptables-restore', 'mount', 'umount', 'nsenter', 'ebtables', 'ethtool', 'socat', 'tc', 'conntrack', 'dockerd', 'cri-dockerd', 'containerd'];

/**
 * Typed as the input shape and returned as the decoded one: fields appended to the proto later
 * (decoded ones always present) do not break the fixture, and tests can edit with `!`.
 */
export function goodFacts(): Facts__Output {
  const f: Facts = {
    cpu: { model: 'Intel Xeon', physical_cores: 2, logical_cores: 4, speed_mhz: 2400, architecture: 'amd64' },
    memory: { total_bytes: 8 * GiB, available_bytes: 6 * GiB, swap_total_bytes: 0, swap_used_bytes: 0 },
    disks: {
      filesystems: [
        { mount: '/', device: '/dev/sda1', type: 'ext4', size_bytes: 30 * GB, free_bytes: 20 * GB },
        { mount: '/var/lib', device: '/dev/sdb1', type: 'xfs', size_bytes: 250 * GB, free_bytes: 240 * GB },
      ],
      var_lib_mount: '/var/lib',
    },
    os: { id: 'ubuntu', version_id: '24.04', pretty_name: 'Ubuntu 24.04.1 LTS', kernel: '6.8.0-45-generic', cgroup_version: 'v2', init_system: 'systemd', machine_id: 'abc', boot_id: 'def' },
    network: {
      hostname: 'node-a',
      fqdn: 'node-a.example.com',
      interfaces: [
        { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'], mtu: 65536, state: 'unknown', mac: '' },
        { name: 'eth0', addresses: ['10.0.0.5/24', 'fe80::1/64'], mtu: 1500, state: 'up', mac: '52:54:00:00:00:05' },
      ],
      default_interface: 'eth0',
      default_address: '10.0.0.5',
    },
    ports: { listening: [{ protocol: 'tcp', address: '0.0.0.0', port: 22, process: 'sshd', pid: 700 }] },
    binaries: { binaries: BINARIES.map((name) => ({ name, present: true, path: `/usr/bin/${name}`, version: '' })) },
    kernel: { sysctls: { 'net.ipv4.ip_forward': '1', 'net.bridge.bridge-nf-call-iptables': '1' }, modules_loaded: ['br_netfilter', 'overlay'] },
    clock: { offset_ms: 3, round_trip_ms: 1 },
  };
  return f as Facts__Output;
}

export function plan(): PreflightPlan {
  return {
    cluster: {
      version: 'v1.36.3',
      networking: {
        type: 'overlay', pod_cidr_block: '172.16.0.0/16', service_cidr_block: '172.17.0.0/16', pod_block_size: 64,
        bgp_as_number: 64511, network_policy: false, update_hosts_files: false, cluster_domain: 'cluster.local',
        dns_service_ip: '172.17.0.10', http_proxy: '', https_proxy: '', no_proxy: '', proxy_mode: 'iptables', overlay_mode: 'ipip',
      },
      preflight: { profile: 'production', ignore: [], max_peer_latency_ms: 10, probe_timeout_ms: 1000, supported_os: [] },
    },
    container_runtime: { type: 'docker' },
  };
}

/** A context for node-a with the given roles; `edit` changes the facts and plan in place. */
export function ctx(roles: Role[], edit?: (f: Facts__Output, p: PreflightPlan, c: PreflightContext) => void): PreflightContext {
  const c: PreflightContext = { node: 'node-a', roles, facts: goodFacts(), plan: plan() };
  edit?.(c.facts as Facts__Output, c.plan, c);
  return c;
}

export function setBinary(f: Facts__Output, name: string, present: boolean | null): void {
  const list = f.binaries!.binaries;
  const i = list.findIndex((b) => b.name === name);
  if (present === null) list.splice(i, 1);
  else list[i]!.present = present;
}
