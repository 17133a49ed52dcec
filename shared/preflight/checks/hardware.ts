// Hardware minimums per role and profile (REFERENCE section 1, seed 000). A node with several
// roles needs the largest minimum of its roles, not the sum: the seed's table is per machine.
import type { Role } from '../../constants.ts';
import type { PreflightProfile } from '../../plan/types.ts';
import type { Check, Finding, PreflightContext } from '../types.ts';
import { num, notReported } from '../read.ts';
import { GiB, GB, gib, gb } from '../units.ts';

export interface HardwareMinimum {
  /** Logical CPUs (what the kernel schedules on, as kubeadm's NumCPU check counts). */
  cpus: number;
  memoryBytes: number;
  /** Size of the filesystem holding /var/lib (images, etcd data, kubelet). */
  diskBytes: number;
}

export const HARDWARE_MINIMUMS: Record<PreflightProfile, Record<Role, HardwareMinimum>> = {
  production: {
    etcd: { cpus: 1, memoryBytes: 1 * GiB, diskBytes: 50 * GB },
    master: { cpus: 2, memoryBytes: 2 * GiB, diskBytes: 50 * GB },
    worker: { cpus: 1, memoryBytes: 1 * GiB, diskBytes: 200 * GB },
  },
  prototyping: {
    etcd: { cpus: 1, memoryBytes: 1 * GiB, diskBytes: 8 * GB },
    master: { cpus: 1, memoryBytes: 2 * GiB, diskBytes: 8 * GB },
    worker: { cpus: 1, memoryBytes: 1 * GiB, diskBytes: 8 * GB },
  },
};

/** The seed asks for 2 GHz cores; slower ones only warn (many VMs and ARM boards report less or 0). */
export const MIN_CPU_MHZ = 2000;

/**
 * Share of a memory or disk minimum that passes. MemTotal excludes memory the kernel and firmware
 * keep (a 2 GiB VM reports ~1.9 GiB; kubeadm accepts 1700 MB for its 2 GB), and a filesystem is a
 * little smaller than its volume, so the nominal size of a right-sized machine must pass.
 */
export const SIZE_TOLERANCE = 0.9;

interface Need {
  value: number;
  /** The roles that ask for this much, for the message ("production master"). */
  why: string;
}

function largest(ctx: PreflightContext, pick: (m: HardwareMinimum) => number): Need {
  const profile = ctx.plan.cluster.preflight.profile;
  let best = { value: 0, roles: [] as Role[] };
  for (const role of ctx.roles) {
    const v = pick(HARDWARE_MINIMUMS[profile][role]);
    if (v > best.value) best = { value: v, roles: [role] };
    else if (v === best.value) best.roles.push(role);
  }
  return { value: best.value, why: `${profile} ${best.roles.join('/')}` };
}

const profileFix = (ctx: PreflightContext) =>
  ctx.plan.cluster.preflight.profile === 'production' ? ', or set cluster.preflight.profile: prototyping for a test cluster' : '';

export const hardwareCpuCheck: Check = {
  name: 'hardware-cpu',
  roles: 'all',
  description: 'enough logical CPUs for the node\'s roles; cores slower than 2 GHz warn',
  run(ctx) {
    const cpu = ctx.facts.cpu;
    if (!cpu) return [notReported('cpu')];
    const out: Finding[] = [];
    const need = largest(ctx, (m) => m.cpus);
    const have = num(cpu.logical_cores);
    if (have < need.value) {
      out.push({
        severity: 'error',
        found: `${have} logical CPU${have === 1 ? '' : 's'}`,
        required: `at least ${need.value} (${need.why})`,
        fix: `give the machine ${need.value} or more CPUs${profileFix(ctx)}`,
      });
    }
    const mhz = num(cpu.speed_mhz);
    if (mhz > 0 && mhz < MIN_CPU_MHZ) {
      out.push({
        severity: 'warning',
        found: `CPU speed ${mhz} MHz (${cpu.model || 'unknown model'})`,
        required: `${MIN_CPU_MHZ} MHz or faster`,
        fix: 'use faster cores; avoid burstable or oversubscribed VMs for cluster nodes',
      });
    }
    return out;
  },
};

export const hardwareMemoryCheck: Check = {
  name: 'hardware-memory',
  roles: 'all',
  description: 'enough RAM for the node\'s roles',
  run(ctx) {
    const mem = ctx.facts.memory;
    if (!mem) return [notReported('memory')];
    const need = largest(ctx, (m) => m.memoryBytes);
    const have = num(mem.total_bytes);
    if (have >= need.value * SIZE_TOLERANCE) return [];
    return [{
      severity: 'error',
      found: `${gib(have)} of RAM`,
      required: `at least ${gib(need.value)} (${need.why})`,
      fix: `give the machine ${gib(need.value)} of RAM or more${profileFix(ctx)}`,
    }];
  },
};

export const hardwareDiskCheck: Check = {
  name: 'hardware-disk',
  roles: 'all',
  description: 'the filesystem holding /var/lib is large enough for the node\'s roles',
  run(ctx) {
    const disks = ctx.facts.disks;
    if (!disks) return [notReported('disk')];
    const fs = varLibFilesystem(disks.filesystems ?? [], disks.var_lib_mount ?? '');
    const need = largest(ctx, (m) => m.diskBytes);
    if (!fs) {
      return [{
        severity: 'error',
        found: 'no filesystem reported for /var/lib',
        required: `a filesystem of at least ${gb(need.value)} holding /var/lib`,
        fix: 'check the agent\'s disk facts (df /var/lib on the node)',
      }];
    }
    const have = num(fs.size_bytes);
    if (have >= need.value * SIZE_TOLERANCE) return [];
    return [{
      severity: 'error',
      found: `${gb(have)} on ${fs.mount} (the filesystem holding /var/lib)`,
      required: `at least ${gb(need.value)} (${need.why})`,
      fix: `grow ${fs.mount} or mount a larger volume on /var/lib${profileFix(ctx)}`,
    }];
  },
};

interface FsLike {
  mount?: string;
  size_bytes?: number | string | { toNumber(): number };
}

/** The filesystem the agent named for /var/lib, else the one with the longest mount prefix of it. */
function varLibFilesystem<T extends FsLike>(filesystems: readonly T[], varLibMount: string): T | undefined {
  if (varLibMount) {
    const named = filesystems.find((f) => f.mount === varLibMount);
    if (named) return named;
  }
  let best: T | undefined;
  for (const f of filesystems) {
    const m = f.mount ?? '';
    const holds = m === '/' || '/var/lib' === m || '/var/lib'.startsWith(`${m}/`);
    if (holds && (!best || m.length > (best.mount ?? '').length)) best = f;
  }
  return best;
}
