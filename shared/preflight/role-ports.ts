// The ports each role listens on and who must reach them (REFERENCE section 3). One table feeds
// the ports-free check, the temporary listeners opened before install and the reach probes.
import { PORTS, type Role } from '../constants.ts';
import type { NetworkType } from '../plan/types.ts';

export interface RolePort {
  port: number;
  /** Every role port is TCP; the overlay's UDP 4789 is owned by the kernel and not checked. */
  protocol: 'tcp';
  component: string;
  /** Process names that may already hold the port (a re-run on an installed node). */
  processes: readonly string[];
  /** Roles whose nodes listen on the port. */
  roles: readonly Role[];
  /** Only with this pod networking type. */
  networking?: NetworkType;
  /** Roles of the nodes that must reach the port; empty when only localhost talks to it. */
  reachedBy: readonly Role[];
}

const ALL: readonly Role[] = ['etcd', 'master', 'worker'];
const K8S: readonly Role[] = ['master', 'worker'];

export const ROLE_PORTS: readonly RolePort[] = [
  { port: PORTS.apiserver, protocol: 'tcp', component: 'kube-apiserver', processes: ['kube-apiserver'], roles: ['master'], reachedBy: ALL },
  { port: PORTS.etcdClient, protocol: 'tcp', component: 'etcd client', processes: ['etcd'], roles: ['etcd'], reachedBy: ['master', 'etcd'] },
  { port: PORTS.etcdPeer, protocol: 'tcp', component: 'etcd peer', processes: ['etcd'], roles: ['etcd'], reachedBy: ['etcd'] },
  { port: PORTS.kubeletApi, protocol: 'tcp', component: 'kubelet API', processes: ['kubelet'], roles: K8S, reachedBy: ['master'] },
  // Every node's kubelet (an etcd-only member's standalone one too: healthz is all it serves).
  { port: PORTS.kubeletHealthz, protocol: 'tcp', component: 'kubelet healthz', processes: ['kubelet'], roles: ALL, reachedBy: [] },
  { port: PORTS.kubeProxyHealth, protocol: 'tcp', component: 'kube-proxy health', processes: ['kube-proxy'], roles: K8S, reachedBy: [] },
  { port: PORTS.kubeProxyMetrics, protocol: 'tcp', component: 'kube-proxy metrics', processes: ['kube-proxy'], roles: K8S, reachedBy: [] },
  { port: PORTS.controllerManager, protocol: 'tcp', component: 'kube-controller-manager', processes: ['kube-controller-manager'], roles: ['master'], reachedBy: [] },
  { port: PORTS.scheduler, protocol: 'tcp', component: 'kube-scheduler', processes: ['kube-scheduler'], roles: ['master'], reachedBy: [] },
  { port: PORTS.bgp, protocol: 'tcp', component: 'BGP (routed Calico)', processes: ['bird', 'bird6', 'calico-node'], roles: K8S, networking: 'routed', reachedBy: K8S },
];

/** The role ports of a node with these roles, each port once, in table order. */
export function portsForRoles(roles: readonly Role[], networking: NetworkType): RolePort[] {
  return ROLE_PORTS.filter((p) => (!p.networking || p.networking === networking) && p.roles.some((r) => roles.includes(r)));
}

/**
 * Whether a process name reported for a listening socket is the expected one. Linux truncates
 * a process's comm to 15 characters ("kube-controller"), so a 15-character prefix matches too.
 */
export function processMatches(actual: string, expected: string): boolean {
  return actual === expected || (actual.length === 15 && expected.startsWith(actual));
}
