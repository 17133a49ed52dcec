// Operating system: distribution (os-release), kernel, cgroup version, init system, machine and
// boot ids.
import { release } from 'node:os';
import { join } from 'node:path';
import type { CompiledCollectOptions } from './options.ts';
import type { OsSection } from './types.ts';

/** Parses os-release(5): KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    let v = m[2];
    const q = v[0];
    if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) {
      v = v.slice(1, -1);
      if (q === '"') v = v.replace(/\\([$"'`\\])/g, '$1');
    }
    out[m[1]] = v;
  }
  return out;
}

export function collectOs(o: CompiledCollectOptions): OsSection {
  // /etc/os-release is usually a link to /usr/lib/os-release; the latter is the documented fallback.
  const osRelease = parseOsRelease(
    o.io.readText(join(o.etcRoot, 'os-release')) ?? o.io.readText(join(o.etcRoot, '..', 'usr/lib/os-release')) ?? '',
  );
  const cgroupDir = join(o.sysRoot, 'fs/cgroup');
  return {
    id: osRelease.ID ?? '',
    version_id: osRelease.VERSION_ID ?? '',
    pretty_name: osRelease.PRETTY_NAME ?? '',
    // The same string `uname -r` prints; read from procfs so fixtures can set it.
    kernel: o.io.readText(join(o.procRoot, 'sys/kernel/osrelease'))?.trim() || release(),
    // The unified hierarchy has cgroup.controllers at its root; v1 and hybrid setups do not.
    cgroup_version: o.io.exists(join(cgroupDir, 'cgroup.controllers')) ? 'v2' : 'v1',
    init_system: o.io.readText(join(o.procRoot, '1/comm'))?.trim() ?? '',
    machine_id: o.io.readText(join(o.etcRoot, 'machine-id'))?.trim() ?? '',
    boot_id: o.io.readText(join(o.procRoot, 'sys/kernel/random/boot_id'))?.trim() ?? '',
  };
}
