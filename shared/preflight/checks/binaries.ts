// Binaries a node needs (REFERENCE section 4: kubeadm's preflight plus the seed's list). Missing
// required tools are errors; kubeadm's "nice to have" tools are warnings. The container runtime
// is its own check so that a cluster whose runtime is installed later can ignore just that one.
import type { Role } from '../../constants.ts';
import type { Check, Finding, PreflightContext } from '../types.ts';
import { notReported } from '../read.ts';

/** Required per role; a node needs the union over its roles. */
export const REQUIRED_BINARIES: Readonly<Record<Role, readonly string[]>> = {
  etcd: ['ip', 'mount', 'umount'],
  master: ['ip', 'iptables', 'iptables-save', 'iptables-restore', 'mount', 'umount', 'nsenter'],
  worker: ['ip', 'iptables', 'iptables-save', 'iptables-restore', 'mount', 'umount', 'nsenter'],
};

/** Warnings when missing (kubelet and kube-proxy use them for some features). */
export const OPTIONAL_BINARIES: readonly string[] = ['ebtables', 'ethtool', 'socat', 'tc', 'conntrack'];

/** Debian/RHEL package that provides each binary, for the fix text. */
export const BINARY_PACKAGES: Readonly<Record<string, string>> = {
  ip: 'iproute2 (RHEL: iproute)',
  tc: 'iproute2 (RHEL: iproute-tc)',
  iptables: 'iptables',
  'iptables-save': 'iptables',
  'iptables-restore': 'iptables',
  mount: 'mount (RHEL: util-linux)',
  umount: 'mount (RHEL: util-linux)',
  nsenter: 'util-linux',
  ebtables: 'ebtables',
  ethtool: 'ethtool',
  socat: 'socat',
  conntrack: 'conntrack (RHEL: conntrack-tools)',
  dockerd: 'docker-ce or docker.io',
  'cri-dockerd': 'cri-dockerd (github.com/Mirantis/cri-dockerd)',
  containerd: 'containerd.io or containerd',
};

/**
 * The runtime's daemon binaries. Kubernetes talks to docker only through cri-dockerd from 1.24 on
 * (dockershim removed); the daemon, not the docker CLI, is what must be installed.
 */
export function runtimeBinaries(ctx: PreflightContext): string[] {
  if (ctx.plan.container_runtime.type === 'containerd') return ['containerd'];
  const m = /^v?(\d+)\.(\d+)/.exec(ctx.plan.cluster.version);
  const minor = m ? Number(m[1]) * 1000 + Number(m[2]) : Infinity;
  return minor >= 1024 ? ['dockerd', 'cri-dockerd'] : ['dockerd'];
}

/** Every binary preflight may ask about: the list the agent's fact collector should look up. */
export const PREFLIGHT_BINARIES: readonly string[] = [
  ...new Set([...Object.values(REQUIRED_BINARIES).flat(), ...OPTIONAL_BINARIES, 'dockerd', 'cri-dockerd', 'containerd']),
];

function presence(ctx: PreflightContext): Map<string, boolean> | null {
  const list = ctx.facts.binaries?.binaries;
  if (!ctx.facts.binaries) return null;
  return new Map((list ?? []).map((b) => [b.name ?? '', Boolean(b.present)]));
}

function missing(name: string, present: Map<string, boolean>, severity: 'error' | 'warning', why: string): Finding | null {
  const state = present.get(name);
  if (state === true) return null;
  return {
    severity,
    found: state === false ? `no ${name} on PATH` : `no report of ${name} from the agent`,
    required: `${name} (${why})`,
    fix: `install ${BINARY_PACKAGES[name] ?? name}`,
  };
}

export const binariesRequiredCheck: Check = {
  name: 'binaries-required',
  roles: 'all',
  description: 'ip, iptables(-save/-restore), mount, umount, nsenter present for the node\'s roles',
  run(ctx) {
    const present = presence(ctx);
    if (!present) return [notReported('binaries')];
    const names = [...new Set(ctx.roles.flatMap((r) => REQUIRED_BINARIES[r]))];
    return names.flatMap((n) => missing(n, present, 'error', `required by ${ctx.roles.filter((r) => REQUIRED_BINARIES[r].includes(n)).join('/')}`) ?? []);
  },
};

export const binariesOptionalCheck: Check = {
  name: 'binaries-optional',
  roles: ['master', 'worker'],
  description: 'ebtables, ethtool, socat, tc, conntrack present (warnings)',
  run(ctx) {
    const present = presence(ctx);
    if (!present) return [notReported('binaries')];
    return OPTIONAL_BINARIES.flatMap((n) => missing(n, present, 'warning', 'used by kubelet and kube-proxy for some features') ?? []);
  },
};

export const containerRuntimeCheck: Check = {
  name: 'container-runtime',
  // Every node: an etcd-only member's kubelet runs etcd in it too (shared/render/node/kubelet.ts).
  roles: ['etcd', 'master', 'worker'],
  description: 'the plan\'s container runtime is installed (dockerd + cri-dockerd on 1.24+, or containerd)',
  run(ctx) {
    const present = presence(ctx);
    if (!present) return [notReported('binaries')];
    const why = `container runtime ${ctx.plan.container_runtime.type} for Kubernetes ${ctx.plan.cluster.version}`;
    return runtimeBinaries(ctx).flatMap((n) => missing(n, present, 'error', why) ?? []);
  },
};
