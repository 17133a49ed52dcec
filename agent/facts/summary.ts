// A human-readable summary of a node's facts (`muster-agent facts` without --json). Pure: takes
// facts, returns text.
import type { NodeFacts } from './types.ts';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function formatFactsSummary(f: NodeFacts): string {
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`${label.padEnd(9)} ${text}`);
  const { cpu, memory, disks, os, network, ports, binaries, kernel, clock } = f;

  row('host', network.fqdn && network.fqdn !== network.hostname ? `${network.hostname} (${network.fqdn})` : network.hostname);
  row('os', `${os.pretty_name || `${os.id} ${os.version_id}`}, kernel ${os.kernel}, cgroup ${os.cgroup_version}, init ${os.init_system || '?'}`);
  row('cpu', `${cpu.model || 'unknown model'}; ${cpu.logical_cores} logical / ${cpu.physical_cores} physical cores, ${cpu.speed_mhz} MHz, ${cpu.architecture}`);
  row(
    'memory',
    `${formatBytes(memory.total_bytes)} total, ${formatBytes(memory.available_bytes)} available; ` +
      (memory.swap_total_bytes ? `swap ${formatBytes(memory.swap_total_bytes)} (${formatBytes(memory.swap_used_bytes)} used)` : 'no swap'),
  );
  row('disks', disks.filesystems.length ? '' : 'none found');
  for (const fs of disks.filesystems) {
    const varLib = fs.mount === disks.var_lib_mount ? '  <- holds /var/lib' : '';
    lines.push(`  ${fs.mount.padEnd(16)} ${fs.type.padEnd(8)} ${formatBytes(fs.size_bytes)}, ${formatBytes(fs.free_bytes)} free  (${fs.device})${varLib}`);
  }
  row('network', network.default_interface ? `default route via ${network.default_interface} ${network.default_address}` : 'no default route');
  for (const i of network.interfaces) {
    lines.push(`  ${i.name.padEnd(16)} ${i.state.padEnd(8)} mtu ${i.mtu}  ${i.mac}  ${i.addresses.join(' ')}`.trimEnd());
  }
  row('ports', ports.listening.length ? '' : 'nothing listening');
  for (const p of ports.listening) {
    const host = p.address.includes(':') ? `[${p.address}]` : p.address;
    const owner = p.pid ? `  ${p.process} (pid ${p.pid})` : '';
    lines.push(`  ${p.protocol} ${`${host}:${p.port}`.padEnd(28)}${owner}`.trimEnd());
  }
  const present = binaries.binaries.filter((b) => b.present);
  const missing = binaries.binaries.filter((b) => !b.present).map((b) => b.name);
  row('binaries', missing.length ? `missing: ${missing.join(', ')}` : 'all present');
  for (const b of present) {
    lines.push(`  ${b.name.padEnd(16)} ${(b.version || '?') + (b.variant ? ` (${b.variant})` : '')}  ${b.path}`);
  }
  const sysctls = Object.entries(kernel.sysctls).map(([k, v]) => `${k}=${v}`);
  row('kernel', `${sysctls.join(' ') || 'no sysctls read'}; modules: ${kernel.modules_loaded.join(', ') || 'none of br_netfilter, overlay'}`);
  row('clock', clock.round_trip_ms ? `offset ${clock.offset_ms.toFixed(1)} ms (round trip ${clock.round_trip_ms.toFixed(1)} ms)` : 'offset not measured (no coordinator)');
  return `${lines.map((l) => l.trimEnd()).join('\n')}\n`;
}
