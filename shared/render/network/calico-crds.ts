// Calico's CustomResourceDefinitions (crd.projectcalico.org/v1), as a separate addon file applied
// before calico.yaml (kubectl applies a directory in name order: calico-crds.yaml comes first).
//
// Decided: definitions without validation schemas. Upstream's CRDs of one release are ~350 kB of
// generated OpenAPI; muster renders each kind with `x-kubernetes-preserve-unknown-fields`, which
// the API server accepts as a structural schema. calico-node and kube-controllers read and write
// these kinds the same way; what is lost is the API server's validation of resources an operator
// writes by hand. An operator who wants that applies upstream's CRDs of CALICO_VERSION over these
// (same names, `kubectl replace`); muster's drift repair does not touch cluster objects.
import { stringify } from 'yaml';

interface CalicoKind { kind: string; plural: string; namespaced?: boolean; status?: boolean }

/** Every kind calico-node, the CNI plugin and kube-controllers use (their ClusterRoles in calico.ts). */
export const CALICO_KINDS: readonly CalicoKind[] = [
  { kind: 'BGPConfiguration', plural: 'bgpconfigurations' },
  { kind: 'BGPFilter', plural: 'bgpfilters' },
  { kind: 'BGPPeer', plural: 'bgppeers' },
  { kind: 'BlockAffinity', plural: 'blockaffinities' },
  { kind: 'CalicoNodeStatus', plural: 'caliconodestatuses', status: true },
  { kind: 'ClusterInformation', plural: 'clusterinformations' },
  { kind: 'FelixConfiguration', plural: 'felixconfigurations' },
  { kind: 'GlobalNetworkPolicy', plural: 'globalnetworkpolicies' },
  { kind: 'GlobalNetworkSet', plural: 'globalnetworksets' },
  { kind: 'HostEndpoint', plural: 'hostendpoints' },
  { kind: 'IPAMBlock', plural: 'ipamblocks' },
  { kind: 'IPAMConfig', plural: 'ipamconfigs' },
  { kind: 'IPAMHandle', plural: 'ipamhandles' },
  { kind: 'IPPool', plural: 'ippools' },
  { kind: 'IPReservation', plural: 'ipreservations' },
  { kind: 'KubeControllersConfiguration', plural: 'kubecontrollersconfigurations', status: true },
  { kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true },
  { kind: 'NetworkSet', plural: 'networksets', namespaced: true },
  { kind: 'StagedGlobalNetworkPolicy', plural: 'stagedglobalnetworkpolicies' },
  { kind: 'StagedKubernetesNetworkPolicy', plural: 'stagedkubernetesnetworkpolicies', namespaced: true },
  { kind: 'StagedNetworkPolicy', plural: 'stagednetworkpolicies', namespaced: true },
  { kind: 'Tier', plural: 'tiers' },
];

export const CALICO_GROUP = 'crd.projectcalico.org';

export function calicoCrd(k: CalicoKind): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${k.plural}.${CALICO_GROUP}` },
    spec: {
      group: CALICO_GROUP,
      names: { kind: k.kind, listKind: `${k.kind}List`, plural: k.plural, singular: k.kind.toLowerCase() },
      scope: k.namespaced ? 'Namespaced' : 'Cluster',
      versions: [{
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        ...(k.status ? { subresources: { status: {} } } : {}),
      }],
    },
  };
}

export function renderCalicoCrdsYaml(header: string): string {
  return header + CALICO_KINDS.map((k) => `---\n${stringify(calicoCrd(k), { lineWidth: 0 })}`).join('');
}
