// Kernel settings Kubernetes depends on: forwarding and bridge-netfilter sysctls, and whether the
// br_netfilter and overlay modules are available.
import { join } from 'node:path';
import type { CompiledCollectOptions } from './options.ts';
import type { KernelSection } from './types.ts';

/** Sysctls read from /proc/sys; the bridge ones exist only while br_netfilter is loaded. */
export const SYSCTLS = [
  'net.ipv4.ip_forward',
  'net.ipv6.conf.all.forwarding',
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
] as const;

export const MODULES = ['br_netfilter', 'overlay'] as const;

/** Names of loaded modules from /proc/modules (first column). */
export function parseProcModules(text: string): Set<string> {
  return new Set(text.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean));
}

export function collectKernel(o: CompiledCollectOptions): KernelSection {
  const sysctls: Record<string, string> = {};
  for (const name of SYSCTLS) {
    const v = o.io.readText(join(o.procRoot, 'sys', ...name.split('.')));
    if (v !== null) sysctls[name] = v.trim();
  }
  const loaded = parseProcModules(o.io.readText(join(o.procRoot, 'modules')) ?? '');
  const filesystems = o.io.readText(join(o.procRoot, 'filesystems')) ?? '';
  const has = (mod: string): boolean => {
    // Loaded as a module, or built in (built-ins with parameters appear under /sys/module).
    if (loaded.has(mod) || o.io.exists(join(o.sysRoot, 'module', mod))) return true;
    // Built-ins without parameters leave no /sys/module entry; their effect is the evidence:
    // br_netfilter creates the bridge-nf sysctls, overlay registers a filesystem type.
    if (mod === 'br_netfilter') return 'net.bridge.bridge-nf-call-iptables' in sysctls;
    if (mod === 'overlay') return /\toverlay$/m.test(filesystems);
    return false;
  };
  return { sysctls, modules_loaded: MODULES.filter(has) };
}
