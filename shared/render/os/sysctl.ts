// Kernel settings a Kubernetes node needs (kubeadm's preflight checks the first two): routing
// between pods and the world, and bridged pod traffic passing through iptables so kube-proxy's
// service rules see it. The bridge keys exist only once br_netfilter is loaded (modules.ts); at
// boot systemd-modules-load runs before systemd-sysctl.
import type { FileSpec } from '../types.ts';
import { hashHeader } from '../header.ts';

export const SYSCTL_FILE = '/etc/sysctl.d/99-muster-kubernetes.conf';

export const KUBERNETES_SYSCTLS: Readonly<Record<string, string>> = {
  'net.bridge.bridge-nf-call-ip6tables': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.ipv4.ip_forward': '1',
};

export function renderSysctl(): FileSpec {
  const lines = Object.entries(KUBERNETES_SYSCTLS).map(([k, v]) => `${k} = ${v}\n`);
  return { path: SYSCTL_FILE, mode: 0o644, content: hashHeader() + lines.join(''), triggers: [{ kind: 'sysctl' }] };
}
