// Binaries Kubernetes needs on a node (REFERENCE.md section 4): present or not, where, which
// version. Probing a version spawns a process, so probes run in parallel with a short timeout and
// the answers are cached by path + mtime: after the first collection nothing is spawned until a
// binary is installed, upgraded or removed.
import { join } from 'node:path';
import type { CompiledCollectOptions } from './options.ts';
import type { BinaryFact, BinarySection } from './types.ts';

export interface BinarySpec {
  name: string;
  /** Arguments that make it print its version and exit. */
  args: string[];
}

/** kubeadm's preflight list plus the seed list and the container runtimes, in report order. */
export const BINARY_SPECS: readonly BinarySpec[] = [
  { name: 'iptables', args: ['--version'] },
  { name: 'iptables-save', args: ['--version'] },
  { name: 'iptables-restore', args: ['--version'] },
  { name: 'ip', args: ['-V'] },
  { name: 'nsenter', args: ['--version'] },
  { name: 'mount', args: ['--version'] },
  { name: 'umount', args: ['--version'] },
  { name: 'conntrack', args: ['--version'] },
  { name: 'socat', args: ['-V'] },
  { name: 'ebtables', args: ['--version'] },
  { name: 'ethtool', args: ['--version'] },
  { name: 'tc', args: ['-V'] },
  { name: 'docker', args: ['--version'] },
  { name: 'dockerd', args: ['--version'] },
  { name: 'containerd', args: ['--version'] },
  { name: 'runc', args: ['--version'] },
  // Kubernetes 1.24+ reaches docker only through cri-dockerd; preflight's container-runtime check needs it.
  { name: 'cri-dockerd', args: ['--version'] },
];

export interface ParsedVersion {
  version: string;
  variant: string;
}

/**
 * The first dotted version number in a tool's version output, without a leading "v":
 * "iptables v1.8.9 (nf_tables)" -> 1.8.9, "ip utility, iproute2-6.1.0" -> 6.1.0,
 * "runc version 1.1.5+ds1" -> 1.1.5+ds1. Variant is the iptables/ebtables backend in parentheses.
 */
export function parseVersionOutput(output: string): ParsedVersion {
  const m = /(?:^|[^\w.])v?(\d+\.\d+(?:\.\d+)*(?:[-+~][0-9A-Za-z][0-9A-Za-z.+~-]*)?)/m.exec(output);
  const variant = /\((nf_tables|legacy)\)/.exec(output)?.[1] ?? '';
  return { version: m?.[1] ?? '', variant };
}

interface CachedVersion extends ParsedVersion {
  key: string;
}

/** Versions by binary path, valid while the file keeps its mtime, size and inode. */
export class VersionCache {
  readonly #entries = new Map<string, CachedVersion>();
  /** How many probes were spawned; lets tests and the bench show that a warm cache spawns none. */
  spawned = 0;

  get(path: string, key: string): ParsedVersion | null {
    const e = this.#entries.get(path);
    return e && e.key === key ? { version: e.version, variant: e.variant } : null;
  }

  set(path: string, key: string, v: ParsedVersion): void {
    this.#entries.set(path, { key, ...v });
  }
}

/** First executable regular file called `name` in the search path, like `command -v`. */
export function findBinary(o: CompiledCollectOptions, name: string): { path: string; key: string } | null {
  for (const dir of o.searchPath) {
    const path = join(dir, name);
    const st = o.io.stat(path);
    if (st?.isFile && st.executable) return { path, key: `${st.mtimeMs}:${st.size}:${st.ino}` };
  }
  return null;
}

export async function collectBinaries(o: CompiledCollectOptions, specs: readonly BinarySpec[] = BINARY_SPECS): Promise<BinarySection> {
  const binaries = await Promise.all(
    specs.map(async (spec): Promise<BinaryFact> => {
      const found = findBinary(o, spec.name);
      if (!found) return { name: spec.name, present: false, path: '', version: '', variant: '' };
      let v = o.versionCache.get(found.path, found.key);
      if (!v) {
        o.versionCache.spawned++;
        const r = await o.io.exec(found.path, spec.args, o.execTimeoutMs);
        v = parseVersionOutput(`${r.stdout}\n${r.stderr}`);
        // A timeout may be passing load; try again next time. Anything else is the binary's answer.
        if (!r.timedOut) o.versionCache.set(found.path, found.key, v);
      }
      return { name: spec.name, present: true, path: found.path, version: v.version, variant: v.variant };
    }),
  );
  return { binaries };
}
