// CPU: model, physical and logical cores, speed, architecture -- from /proc/cpuinfo and
// /sys/devices/system/cpu.
import { machine } from 'node:os';
import { join } from 'node:path';
import type { CompiledCollectOptions } from './options.ts';
import type { CpuSection } from './types.ts';

export interface CpuInfo {
  model: string;
  /** "processor" entries. */
  processors: number;
  /** Distinct (physical id, core id) pairs; 0 when cpuinfo does not say (most ARM kernels). */
  physicalCores: number;
  /** "cpu MHz" of the first processor; 0 when absent. */
  mhz: number;
}

/** Parses /proc/cpuinfo (x86 and ARM layouts). */
export function parseCpuinfo(text: string): CpuInfo {
  let model = '';
  let processors = 0;
  let mhz = 0;
  const cores = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    // Keys are case-sensitive: old ARM kernels have both "Processor" (the model) and "processor".
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) fields.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    if (/^\d+$/.test(fields.get('processor') ?? '')) processors++;
    // x86: "model name"; old 32-bit ARM: "Processor"; MIPS and others: "cpu model".
    model ||= fields.get('model name') ?? fields.get('Processor') ?? fields.get('cpu model') ?? '';
    if (!mhz && fields.has('cpu MHz')) mhz = Number(fields.get('cpu MHz')) || 0;
    const pkg = fields.get('physical id');
    const core = fields.get('core id');
    if (pkg !== undefined && core !== undefined) cores.add(`${pkg}/${core}`);
  }
  return { model: model.replace(/\s+/g, ' '), processors, physicalCores: cores.size, mhz };
}

/** Counts the CPUs of a kernel cpu list such as "0-3,8-11" (sysfs `online`). */
export function countCpuList(list: string): number {
  let n = 0;
  for (const part of list.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    n += b === undefined || Number.isNaN(b) ? 1 : b - a + 1;
  }
  return n;
}

/** Kubernetes' GOARCH spelling of `uname -m`. */
export function kubernetesArch(unameMachine: string): string {
  const map: Record<string, string> = {
    x86_64: 'amd64',
    amd64: 'amd64',
    aarch64: 'arm64',
    arm64: 'arm64',
    armv7l: 'arm',
    armv6l: 'arm',
    i386: '386',
    i686: '386',
    ppc64le: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
    loongarch64: 'loong64',
  };
  return map[unameMachine] ?? unameMachine;
}

export async function collectCpu(o: CompiledCollectOptions): Promise<CpuSection> {
  const cpuDir = join(o.sysRoot, 'devices/system/cpu');
  const info = parseCpuinfo(o.io.readText(join(o.procRoot, 'cpuinfo')) ?? '');
  // Online CPUs: what kubelet counts as capacity, and `nproc` without an affinity mask.
  const online = o.io.readText(join(cpuDir, 'online'));
  const logical = (online && countCpuList(online)) || info.processors || 1;
  const physical = info.physicalCores || sysfsPhysicalCores(o, cpuDir) || logical;
  // The nominal maximum is stable, unlike the current frequency that moves with load; the
  // current "cpu MHz" is the fallback on VMs without a cpufreq driver (where it is constant).
  const maxKhz = Number(o.io.readText(join(cpuDir, 'cpu0/cpufreq/cpuinfo_max_freq'))?.trim());
  const fromModel = /@\s*([\d.]+)\s*GHz/i.exec(info.model);
  const speed = maxKhz > 0 ? maxKhz / 1000 : info.mhz || (fromModel ? Number(fromModel[1]) * 1000 : 0);
  const architecture = kubernetesArch(machine());
  const model = info.model || (architecture.startsWith('arm') ? await armModelName() : '');
  return { model, physical_cores: physical, logical_cores: logical, speed_mhz: Math.round(speed), architecture };
}

/** Distinct (package, core) pairs from sysfs topology: the only source on ARM. */
function sysfsPhysicalCores(o: CompiledCollectOptions, cpuDir: string): number {
  const cores = new Set<string>();
  for (const name of o.io.list(cpuDir)) {
    if (!/^cpu\d+$/.test(name)) continue;
    const pkg = o.io.readText(join(cpuDir, name, 'topology/physical_package_id'))?.trim();
    const core = o.io.readText(join(cpuDir, name, 'topology/core_id'))?.trim();
    if (pkg !== undefined && core !== undefined) cores.add(`${pkg}/${core}`);
  }
  return cores.size;
}

/**
 * ARM kernels put no model name in /proc/cpuinfo, only implementer/part ids. systeminformation
 * is genuinely better here: it goes through lscpu, which carries the table that maps those ids
 * to names ("Neoverse-N1"). It is loaded only on this path, so x86 nodes never pay for it.
 */
async function armModelName(): Promise<string> {
  try {
    const mod = (await import('systeminformation')) as unknown as { default?: typeof import('systeminformation') };
    const si = mod.default ?? (mod as unknown as typeof import('systeminformation'));
    const c = await si.cpu();
    return [c.manufacturer, c.brand].filter(Boolean).join(' ').trim();
  } catch {
    return '';
  }
}
