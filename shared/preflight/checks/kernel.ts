// Kernel settings kubelet and kube-proxy need (REFERENCE sections 2 and 4): swap off, IPv4
// forwarding, bridged traffic seen by iptables. The sysctl and module problems are ones the
// agent can fix itself (fixableByAgent); turning swap off is left to the operator because it
// also means editing /etc/fstab.
import type { Check } from '../types.ts';
import { num, notReported } from '../read.ts';
import { gib } from '../units.ts';

export const swapCheck: Check = {
  name: 'swap',
  // Every node runs a kubelet, an etcd-only member a standalone one.
  roles: ['etcd', 'master', 'worker'],
  description: 'swap is off (kubelet refuses to start with swap by default)',
  run(ctx) {
    const mem = ctx.facts.memory;
    if (!mem) return [notReported('memory')];
    const total = num(mem.swap_total_bytes);
    if (total === 0) return [];
    return [{
      severity: 'error',
      found: `swap on (${gib(total)}, ${gib(num(mem.swap_used_bytes))} used)`,
      required: 'swap off',
      fix: 'run "swapoff -a" and remove the swap entries from /etc/fstab (and any systemd swap units)',
    }];
  },
};

export const ipForwardCheck: Check = {
  name: 'ip-forward',
  roles: ['master', 'worker'],
  description: 'net.ipv4.ip_forward = 1 (nodes route pod traffic)',
  run(ctx) {
    const kernel = ctx.facts.kernel;
    if (!kernel) return [notReported('kernel')];
    const v = kernel.sysctls?.['net.ipv4.ip_forward'];
    if (v === '1') return [];
    return [{
      severity: 'error',
      found: v === undefined ? 'net.ipv4.ip_forward not reported' : `net.ipv4.ip_forward = ${v}`,
      required: 'net.ipv4.ip_forward = 1',
      fix: 'run "sysctl -w net.ipv4.ip_forward=1" and persist it in /etc/sysctl.d/99-kubernetes.conf',
      fixableByAgent: true,
    }];
  },
};

const BRIDGE_SYSCTL = 'net.bridge.bridge-nf-call-iptables';

export const brNetfilterCheck: Check = {
  name: 'br-netfilter',
  roles: ['master', 'worker'],
  description: 'br_netfilter loaded and net.bridge.bridge-nf-call-iptables = 1 (bridged pod traffic passes iptables)',
  run(ctx) {
    const kernel = ctx.facts.kernel;
    if (!kernel) return [notReported('kernel')];
    const v = kernel.sysctls?.[BRIDGE_SYSCTL];
    // The sysctl exists only while br_netfilter is loaded (or built in), so its presence is the
    // test; modules_loaded is for the message.
    if (v === undefined) {
      const loaded = (kernel.modules_loaded ?? []).includes('br_netfilter');
      return [{
        severity: 'error',
        found: loaded ? `br_netfilter loaded but ${BRIDGE_SYSCTL} not reported` : 'kernel module br_netfilter not loaded',
        required: `br_netfilter loaded and ${BRIDGE_SYSCTL} = 1`,
        fix: `run "modprobe br_netfilter", add br_netfilter to /etc/modules-load.d/k8s.conf, then "sysctl -w ${BRIDGE_SYSCTL}=1"`,
        fixableByAgent: true,
      }];
    }
    if (v === '1') return [];
    return [{
      severity: 'error',
      found: `${BRIDGE_SYSCTL} = ${v}`,
      required: `${BRIDGE_SYSCTL} = 1`,
      fix: `run "sysctl -w ${BRIDGE_SYSCTL}=1" and persist it in /etc/sysctl.d/99-kubernetes.conf`,
      fixableByAgent: true,
    }];
  },
};
