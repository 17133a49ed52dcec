// Disks: every mounted real filesystem with its size and free space (statfs, like `df`), and the
// mount that holds /var/lib (where kubelet, etcd and the container runtime keep their data).
import { join } from 'node:path';
import type { CompiledCollectOptions } from './options.ts';
import type { DiskSection, FilesystemFact } from './types.ts';

export interface MountEntry {
  device: string;
  mount: string;
  type: string;
}

/**
 * Kernel and memory filesystems that hold no node data. overlay, ext4, xfs, btrfs, zfs, nfs and
 * fuse filesystems backed by real storage are kept. squashfs is left out too: snap and live images
 * are read-only and always 100% used, so they only add noise.
 */
const PSEUDO_TYPES = new Set([
  'proc', 'sysfs', 'cgroup', 'cgroup2', 'tmpfs', 'devtmpfs', 'devpts', 'mqueue', 'debugfs', 'tracefs',
  'securityfs', 'pstore', 'bpf', 'configfs', 'fusectl', 'hugetlbfs', 'autofs', 'binfmt_misc',
  'rpc_pipefs', 'nsfs', 'efivarfs', 'selinuxfs', 'ramfs', 'rootfs', 'squashfs', 'nfsd', 'cpuset',
  'fuse.lxcfs', 'fuse.gvfsd-fuse', 'fuse.portal', 'fuse.snapfuse',
]);

/** Undoes the octal escapes /proc/mounts uses for space, tab, newline and backslash. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses /proc/mounts (fstab format). */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [device, mount, type] = line.trim().split(/\s+/);
    if (!device || !mount || !type) continue;
    out.push({ device: unescapeMountField(device), mount: unescapeMountField(mount), type });
  }
  return out;
}

/** Real filesystems, one per mount point (a later mount on the same point hides the earlier). */
export function realFilesystems(mounts: MountEntry[]): MountEntry[] {
  const byMount = new Map<string, MountEntry>();
  for (const m of mounts) {
    byMount.delete(m.mount);
    if (!PSEUDO_TYPES.has(m.type)) byMount.set(m.mount, m);
  }
  return [...byMount.values()].sort((a, b) => (a.mount < b.mount ? -1 : a.mount > b.mount ? 1 : 0));
}

/** The mount point among `mounts` that contains `path` (longest prefix on path components). */
export function mountContaining(path: string, mounts: string[]): string {
  let best = '';
  for (const m of mounts) {
    const inside = m === '/' || path === m || path.startsWith(`${m}/`);
    if (inside && m.length > best.length) best = m;
  }
  return best;
}

export async function collectDisks(o: CompiledCollectOptions): Promise<DiskSection> {
  const mounts = realFilesystems(parseMounts(o.io.readText(join(o.procRoot, 'mounts')) ?? ''));
  const measured = await Promise.all(
    mounts.map(async (m): Promise<FilesystemFact | null> => {
      const usage = await withTimeout(o.io.statfs(m.mount), o.statfsTimeoutMs).catch(() => null);
      if (!usage) return null; // unreadable or hung (dead NFS server): leave it out, do not stall
      return { mount: m.mount, device: m.device, type: m.type, size_bytes: usage.sizeBytes, free_bytes: usage.freeBytes };
    }),
  );
  const filesystems = measured.filter((f): f is FilesystemFact => f !== null);
  const varLib = o.io.realpath(o.varLibPath);
  return { filesystems, var_lib_mount: mountContaining(varLib, filesystems.map((f) => f.mount)) };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
