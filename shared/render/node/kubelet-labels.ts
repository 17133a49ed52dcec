// Which labels a kubelet may set on its own Node (--node-labels): the kubelet refuses to start
// with any other label in the kubernetes.io / k8s.io namespaces (k8s.io/kubelet
// pkg/apis/well_known_labels.go, IsKubeletLabel), node-role.kubernetes.io/* included -- kubeadm
// sets those through the API after the node registered, and so must muster.
const ALLOWED = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);
const ALLOWED_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

function namespaceOf(key: string): string {
  const i = key.indexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

export function isKubeletLabel(key: string): boolean {
  const ns = namespaceOf(key);
  const restricted = ['kubernetes.io', 'k8s.io'].some((r) => ns === r || ns.endsWith(`.${r}`));
  if (!restricted) return true;
  if (ALLOWED.has(key)) return true;
  return ALLOWED_NAMESPACES.some((a) => ns === a || ns.endsWith(`.${a}`));
}
