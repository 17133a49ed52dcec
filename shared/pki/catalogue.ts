// The certificates of a cluster, one declarative row per kind (kubeadm's certlist is the model,
// REFERENCE.md section 6): which CA signs it, its subject, key usages, which SANs it carries,
// where it lives on a node (kubeadm's layout, relative to the node root), which roles may hold
// it, and the kubeconfig built from it. The agent reads it to know what to ask for and where to
// put it; the coordinator's CSR authoriser (coordinator/pki/authorizer.ts) reads it to know what
// it may sign. Nothing here does IO.
import type { Role } from '../constants.ts';

export type ClusterCaKind = 'kubernetes' | 'etcd' | 'front-proxy';

/**
 * Which subject alternative names a kind carries (the coordinator fills them in, never the CSR):
 * none; the API server's (node name and addresses, 127.0.0.1, the first service IP, the
 * kubernetes.default names, the load balancer, the plan's extra SANs); etcd's (node name and
 * addresses, localhost, 127.0.0.1, ::1); a node's own (node name and addresses).
 */
export type SanRule = 'none' | 'apiserver' | 'etcd' | 'node';

export interface CertKind {
  kind: string;
  ca: ClusterCaKind;
  /** Subject CN for the node it is issued to. */
  cn: (nodeName: string) => string;
  orgs: readonly string[];
  usages: readonly ('server' | 'client')[];
  sans: SanRule;
  /** Roles any one of which lets a node hold this kind. */
  roles: readonly Role[];
  /** Paths relative to the node root. The key is made there, on the node, 0600. */
  certPath: string;
  keyPath: string;
  /** The kubeconfig that embeds this certificate, and which API server address it names. */
  kubeconfig?: { path: string; user: string; server: 'endpoint' | 'local' };
  /** Components that must restart when this certificate changes (the apply engine acts on it). */
  usedBy: readonly string[];
}

const K8S_NODE: readonly Role[] = ['master', 'worker'];
const PKI = 'etc/kubernetes/pki';

export const CERT_KINDS: readonly CertKind[] = [
  { kind: 'apiserver', ca: 'kubernetes', cn: () => 'kube-apiserver', orgs: [], usages: ['server'], sans: 'apiserver', roles: ['master'], certPath: `${PKI}/apiserver.crt`, keyPath: `${PKI}/apiserver.key`, usedBy: ['kube-apiserver'] },
  {
    kind: 'apiserver-kubelet-client',
    ca: 'kubernetes',
    cn: () => 'kube-apiserver-kubelet-client',
    orgs: ['kubeadm:cluster-admins'],
    usages: ['client'],
    sans: 'none',
    roles: ['master'],
    certPath: `${PKI}/apiserver-kubelet-client.crt`,
    keyPath: `${PKI}/apiserver-kubelet-client.key`,
    usedBy: ['kube-apiserver'],
  },
  { kind: 'apiserver-etcd-client', ca: 'etcd', cn: () => 'kube-apiserver-etcd-client', orgs: [], usages: ['client'], sans: 'none', roles: ['master'], certPath: `${PKI}/apiserver-etcd-client.crt`, keyPath: `${PKI}/apiserver-etcd-client.key`, usedBy: ['kube-apiserver'] },
  { kind: 'front-proxy-client', ca: 'front-proxy', cn: () => 'front-proxy-client', orgs: [], usages: ['client'], sans: 'none', roles: ['master'], certPath: `${PKI}/front-proxy-client.crt`, keyPath: `${PKI}/front-proxy-client.key`, usedBy: ['kube-apiserver'] },
  // kubeadm's etcd server and peer certificates carry client auth too: members dial each other.
  { kind: 'etcd-server', ca: 'etcd', cn: (n) => n, orgs: [], usages: ['server', 'client'], sans: 'etcd', roles: ['etcd'], certPath: `${PKI}/etcd/server.crt`, keyPath: `${PKI}/etcd/server.key`, usedBy: ['etcd'] },
  { kind: 'etcd-peer', ca: 'etcd', cn: (n) => n, orgs: [], usages: ['server', 'client'], sans: 'etcd', roles: ['etcd'], certPath: `${PKI}/etcd/peer.crt`, keyPath: `${PKI}/etcd/peer.key`, usedBy: ['etcd'] },
  { kind: 'etcd-healthcheck-client', ca: 'etcd', cn: () => 'kube-etcd-healthcheck-client', orgs: [], usages: ['client'], sans: 'none', roles: ['etcd'], certPath: `${PKI}/etcd/healthcheck-client.crt`, keyPath: `${PKI}/etcd/healthcheck-client.key`, usedBy: ['etcd'] },
  {
    kind: 'kubelet-client',
    ca: 'kubernetes',
    cn: (n) => `system:node:${n}`,
    orgs: ['system:nodes'],
    usages: ['client'],
    sans: 'none',
    roles: K8S_NODE,
    certPath: 'var/lib/kubelet/pki/kubelet-client.crt',
    keyPath: 'var/lib/kubelet/pki/kubelet-client.key',
    kubeconfig: { path: 'etc/kubernetes/kubelet.conf', user: 'system:node', server: 'endpoint' },
    usedBy: ['kubelet'],
  },
  { kind: 'kubelet-serving', ca: 'kubernetes', cn: (n) => n, orgs: [], usages: ['server'], sans: 'node', roles: K8S_NODE, certPath: 'var/lib/kubelet/pki/kubelet.crt', keyPath: 'var/lib/kubelet/pki/kubelet.key', usedBy: ['kubelet'] },
  {
    kind: 'kube-proxy',
    ca: 'kubernetes',
    cn: () => 'system:kube-proxy',
    orgs: [],
    usages: ['client'],
    sans: 'none',
    roles: K8S_NODE,
    certPath: 'var/lib/kube-proxy/client.crt',
    keyPath: 'var/lib/kube-proxy/client.key',
    kubeconfig: { path: 'var/lib/kube-proxy/kubeconfig.conf', user: 'system:kube-proxy', server: 'endpoint' },
    usedBy: ['kube-proxy'],
  },
  {
    kind: 'controller-manager',
    ca: 'kubernetes',
    cn: () => 'system:kube-controller-manager',
    orgs: [],
    usages: ['client'],
    sans: 'none',
    roles: ['master'],
    certPath: `${PKI}/controller-manager.crt`,
    keyPath: `${PKI}/controller-manager.key`,
    kubeconfig: { path: 'etc/kubernetes/controller-manager.conf', user: 'system:kube-controller-manager', server: 'local' },
    usedBy: ['kube-controller-manager'],
  },
  {
    kind: 'scheduler',
    ca: 'kubernetes',
    cn: () => 'system:kube-scheduler',
    orgs: [],
    usages: ['client'],
    sans: 'none',
    roles: ['master'],
    certPath: `${PKI}/scheduler.crt`,
    keyPath: `${PKI}/scheduler.key`,
    kubeconfig: { path: 'etc/kubernetes/scheduler.conf', user: 'system:kube-scheduler', server: 'local' },
    usedBy: ['kube-scheduler'],
  },
  {
    kind: 'admin',
    ca: 'kubernetes',
    cn: () => 'kubernetes-admin',
    orgs: ['kubeadm:cluster-admins'],
    usages: ['client'],
    sans: 'none',
    roles: ['master'],
    certPath: `${PKI}/admin.crt`,
    keyPath: `${PKI}/admin.key`,
    kubeconfig: { path: 'etc/kubernetes/admin.conf', user: 'kubernetes-admin', server: 'endpoint' },
    usedBy: [],
  },
  // kubeadm's super-admin.conf: system:masters, which no RBAC binding can take away. It exists for
  // one job: a master's agent creates the ClusterRoleBinding that gives kubeadm:cluster-admins (the
  // admin above) cluster-admin (agent/kube/cluster-objects.ts). It names the node's own API server.
  {
    kind: 'super-admin',
    ca: 'kubernetes',
    cn: () => 'kubernetes-super-admin',
    orgs: ['system:masters'],
    usages: ['client'],
    sans: 'none',
    roles: ['master'],
    certPath: `${PKI}/super-admin.crt`,
    keyPath: `${PKI}/super-admin.key`,
    kubeconfig: { path: 'etc/kubernetes/super-admin.conf', user: 'kubernetes-super-admin', server: 'local' },
    usedBy: [],
  },
];

/** Where a node keeps the cluster CAs' certificates (their keys stay on the coordinator). */
export const CLUSTER_CA_PATHS: Readonly<Record<ClusterCaKind, string>> = {
  kubernetes: `${PKI}/ca.crt`,
  etcd: `${PKI}/etcd/ca.crt`,
  'front-proxy': `${PKI}/front-proxy-ca.crt`,
};

/** The service-account key pair on masters. */
export const SERVICE_ACCOUNT_PATHS = { privateKey: `${PKI}/sa.key`, publicKey: `${PKI}/sa.pub` } as const;

const BY_KIND = new Map(CERT_KINDS.map((k) => [k.kind, k]));

export function certKind(kind: string): CertKind | undefined {
  return BY_KIND.get(kind);
}

/** The kinds a node with these roles holds, in catalogue order. */
export function kindsForRoles(roles: readonly string[]): CertKind[] {
  return CERT_KINDS.filter((k) => k.roles.some((r) => roles.includes(r)));
}
