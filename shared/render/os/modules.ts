// Kernel modules loaded at boot (modules-load.d(5)): br_netfilter, without which bridged pod
// traffic bypasses iptables and the bridge sysctls do not exist; overlay, the filesystem of the
// runtimes' overlay2 / overlayfs image storage.
import type { FileSpec } from '../types.ts';
import { hashHeader } from '../header.ts';

export const MODULES_FILE = '/etc/modules-load.d/muster-kubernetes.conf';
export const KUBERNETES_MODULES = ['br_netfilter', 'overlay'] as const;

export function renderModules(): FileSpec {
  return { path: MODULES_FILE, mode: 0o644, content: hashHeader() + KUBERNETES_MODULES.map((m) => `${m}\n`).join(''), triggers: [{ kind: 'modules' }] };
}
