// The Calico manifests on masters (/etc/kubernetes/addons/): a subset of upstream's calico.yaml
// for the Kubernetes datastore -- ServiceAccounts, ClusterRoles and bindings, the calico-config
// ConfigMap, the calico-node DaemonSet (with install-cni), the calico-kube-controllers Deployment
// -- plus the IP pool and, for routed networking, the BGP configuration the plan describes. Left
// out of upstream's file: Typha (for clusters past ~100 nodes), the eBPF bootstrap, the host-local
// IPAM upgrade, the PodDisruptionBudget; the CRDs are their own file (calico-crds.ts).
//
// The CNI configuration of every kubelet node is NOT rendered by muster, on purpose: calico-node's
// install-cni init container writes /etc/cni/net.d/10-calico.conflist (calico + portmap, ipam
// calico-ipam) and the calico-kubeconfig it points at, from the cni_network_config below, on every
// node the DaemonSet runs on, and rewrites them whenever the CNI token is renewed. A muster copy
// would be overwritten and then "repaired" by drift detection, forever; and before the API server
// is up a conflist buys nothing, since calico-ipam allocates from blocks stored in the API. (The
// seeds do the same: seed 004's flannel DaemonSet writes its own CNI config.)
import { stringify } from 'yaml';
import type { RenderContext } from '../context.ts';
import type { FileSpec } from '../types.ts';
import { hashHeader } from '../header.ts';
import { networkMode } from './mode.ts';
import { renderCalicoCrdsYaml } from './calico-crds.ts';

/** One Calico release for node, cni and kube-controllers, so they always match. */
export const CALICO_VERSION = 'v3.33.1';
export const ADDONS_DIR = '/etc/kubernetes/addons';
export const CALICO_FILES = { manifests: `${ADDONS_DIR}/calico.yaml`, crds: `${ADDONS_DIR}/calico-crds.yaml` } as const;
const NS = 'kube-system';

export interface CalicoPool {
  cidr: string;
  blockSize: number;
  ipipMode: 'Always' | 'Never';
  vxlanMode: 'Always' | 'Never';
  natOutgoing: boolean;
  backend: 'bird' | 'vxlan';
}

/** Calico's block size (a prefix length) for the plan's addresses per node: 64 -> 26. */
export function blockSizeFor(podBlockSize: number): number {
  const bits = Math.log2(podBlockSize);
  // Calico accepts IPv4 blocks from /20 to /32; plan validation only asks for a power of two.
  if (!Number.isInteger(bits) || bits > 12) throw new Error(`pod_block_size ${podBlockSize} is not a power of two between 1 and 4096, which Calico's IPv4 blocks need`);
  return 32 - bits;
}

export function calicoPool(ctx: RenderContext): CalicoPool {
  const n = ctx.a.networking;
  const cidr = n?.pod_cidr_block ?? '';
  const blockSize = blockSizeFor(n?.pod_block_size || 64);
  if (networkMode(ctx) === 'routed') {
    // Routed: pod addresses travel unencapsulated and unchanged; the routers learn the pod blocks
    // over BGP, so no outgoing NAT either (the seed: "a request to a pod IP is treated the same as
    // any other request on the network").
    return { cidr, blockSize, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, backend: 'bird' };
  }
  // Overlay: pod addresses exist only inside the cluster, so traffic leaving it is NATed. IP-in-IP
  // routes are spread by BGP between the nodes (bird); VXLAN needs no BGP at all.
  return ctx.overlayMode === 'vxlan'
    ? { cidr, blockSize, ipipMode: 'Never', vxlanMode: 'Always', natOutgoing: true, backend: 'vxlan' }
    : { cidr, blockSize, ipipMode: 'Always', vxlanMode: 'Never', natOutgoing: true, backend: 'bird' };
}

const image = (ctx: RenderContext, name: string) => `${ctx.images.calicoRepository}/${name}:${CALICO_VERSION}`;
const fromConfig = (key: string) => ({ valueFrom: { configMapKeyRef: { name: 'calico-config', key } } });
const CRD_API = 'crd.projectcalico.org/v1';

/** The CNI network config install-cni writes to each node; the __X__ values are its placeholders. */
export const CNI_NETWORK_CONFIG = JSON.stringify({
  name: 'k8s-pod-network',
  cniVersion: '0.3.1',
  plugins: [
    {
      type: 'calico',
      log_level: 'info',
      log_file_path: '/var/log/calico/cni/cni.log',
      datastore_type: 'kubernetes',
      nodename: '__KUBERNETES_NODE_NAME__',
      mtu: '__CNI_MTU__',
      ipam: { type: 'calico-ipam' },
      policy: { type: 'k8s' },
      kubernetes: { kubeconfig: '__KUBECONFIG_FILEPATH__' },
    },
    { type: 'portmap', snat: true, capabilities: { portMappings: true } },
  ],
}, null, 2).replace('"__CNI_MTU__"', '__CNI_MTU__'); // a number once install-cni fills it in

function rbac(): Record<string, unknown>[] {
  const crd = 'crd.projectcalico.org';
  const role = (name: string, rules: unknown[]) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules });
  const bind = (name: string) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: NS }],
  });
  const sa = (name: string) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: NS } });
  const rw = ['get', 'list', 'create', 'update', 'delete'];
  return [
    sa('calico-node'), sa('calico-cni-plugin'), sa('calico-kube-controllers'),
    role('calico-node', [
      { apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: ['calico-cni-plugin'], verbs: ['create'] },
      { apiGroups: [''], resources: ['pods', 'nodes', 'namespaces'], verbs: ['get'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['watch', 'list'] },
      { apiGroups: [''], resources: ['endpoints', 'services'], verbs: ['watch', 'list', 'get'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
      { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch', 'update'] },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['watch', 'list'] },
      { apiGroups: [''], resources: ['pods', 'namespaces', 'serviceaccounts'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['pods/status'], verbs: ['patch'] },
      {
        apiGroups: [crd],
        resources: ['globalfelixconfigs', 'felixconfigurations', 'bgppeers', 'bgpfilters', 'globalbgpconfigs', 'bgpconfigurations', 'ippools', 'ipreservations', 'ipamblocks', 'globalnetworkpolicies', 'stagedglobalnetworkpolicies', 'networkpolicies', 'stagednetworkpolicies', 'stagedkubernetesnetworkpolicies', 'globalnetworksets', 'networksets', 'clusterinformations', 'hostendpoints', 'blockaffinities', 'caliconodestatuses', 'tiers'],
        verbs: ['get', 'list', 'watch'],
      },
      { apiGroups: [crd], resources: ['tiers'], verbs: ['create'] },
      { apiGroups: [crd], resources: ['ippools', 'felixconfigurations', 'bgpconfigurations', 'clusterinformations'], verbs: ['create', 'update'] },
      { apiGroups: [crd], resources: ['caliconodestatuses'], verbs: ['update'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [crd], resources: ['blockaffinities', 'ipamblocks', 'ipamhandles'], verbs: rw },
      { apiGroups: [crd], resources: ['ipamconfigs'], verbs: ['get', 'create'] },
      { apiGroups: [crd], resources: ['blockaffinities'], verbs: ['watch'] },
    ]),
    role('calico-cni-plugin', [
      { apiGroups: [''], resources: ['pods', 'nodes', 'namespaces'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods/status'], verbs: ['patch'] },
      { apiGroups: [crd], resources: ['blockaffinities', 'ipamblocks', 'ipamhandles', 'clusterinformations', 'ippools', 'ipreservations', 'ipamconfigs'], verbs: rw },
    ]),
    role('calico-kube-controllers', [
      { apiGroups: [''], resources: ['nodes'], verbs: ['watch', 'list', 'get'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [crd], resources: ['ipreservations'], verbs: ['list'] },
      { apiGroups: [crd], resources: ['blockaffinities', 'ipamblocks', 'ipamhandles', 'ipamconfigs', 'tiers'], verbs: [...rw, 'watch'] },
      { apiGroups: [crd], resources: ['ippools'], verbs: ['list', 'watch'] },
      { apiGroups: [crd], resources: ['hostendpoints'], verbs: [...rw, 'watch'] },
      { apiGroups: [crd], resources: ['clusterinformations'], verbs: ['get', 'list', 'create', 'update', 'watch'] },
      { apiGroups: [crd], resources: ['kubecontrollersconfigurations'], verbs: ['get', 'list', 'create', 'update', 'watch'] },
      { apiGroups: [crd], resources: ['kubecontrollersconfigurations/status'], verbs: ['get', 'update'] },
    ]),
    bind('calico-node'), bind('calico-cni-plugin'), bind('calico-kube-controllers'),
  ];
}

function calicoNode(ctx: RenderContext, pool: CalicoPool): Record<string, unknown> {
  const bird = pool.backend === 'bird';
  const hostPath = (name: string, path: string, type?: string) => ({ name, hostPath: { path, ...(type ? { type } : {}) } });
  const env = [
    { name: 'DATASTORE_TYPE', value: 'kubernetes' },
    { name: 'WAIT_FOR_DATASTORE', value: 'true' },
    { name: 'NODENAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    { name: 'CALICO_NETWORKING_BACKEND', ...fromConfig('calico_backend') },
    { name: 'CLUSTER_TYPE', value: 'k8s,bgp' },
    { name: 'IP', value: 'autodetect' },
    // The node's InternalIP is what the kubelet registered (--node-ip, muster's node address);
    // "first-found" would pick any interface on a node with several.
    { name: 'IP_AUTODETECTION_METHOD', value: 'kubernetes-internal-ip' },
    // The pool calico-node creates when none exists yet: the same as the IPPool in this file.
    { name: 'CALICO_IPV4POOL_CIDR', value: pool.cidr },
    { name: 'CALICO_IPV4POOL_BLOCK_SIZE', value: String(pool.blockSize) },
    { name: 'CALICO_IPV4POOL_IPIP', value: pool.ipipMode },
    { name: 'CALICO_IPV4POOL_VXLAN', value: pool.vxlanMode },
    { name: 'CALICO_IPV4POOL_NAT_OUTGOING', value: String(pool.natOutgoing) },
    { name: 'FELIX_IPINIPMTU', ...fromConfig('veth_mtu') },
    { name: 'FELIX_VXLANMTU', ...fromConfig('veth_mtu') },
    { name: 'CALICO_DISABLE_FILE_LOGGING', value: 'true' },
    { name: 'FELIX_DEFAULTENDPOINTTOHOSTACTION', value: 'ACCEPT' },
    { name: 'FELIX_IPV6SUPPORT', value: 'false' },
    { name: 'FELIX_HEALTHENABLED', value: 'true' },
  ];
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'calico-node', namespace: NS, labels: { 'k8s-app': 'calico-node' } },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'calico-node' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels: { 'k8s-app': 'calico-node' } },
        spec: {
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          hostNetwork: true,
          // Every node, masters included: each kubelet node needs its CNI config from install-cni.
          tolerations: [{ effect: 'NoSchedule', operator: 'Exists' }, { key: 'CriticalAddonsOnly', operator: 'Exists' }, { effect: 'NoExecute', operator: 'Exists' }],
          serviceAccountName: 'calico-node',
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          terminationGracePeriodSeconds: 0,
          priorityClassName: 'system-node-critical',
          initContainers: [{
            name: 'install-cni',
            image: image(ctx, 'cni'),
            imagePullPolicy: 'IfNotPresent',
            command: ['/opt/cni/bin/install'],
            env: [
              { name: 'CNI_CONF_NAME', value: '10-calico.conflist' },
              { name: 'CNI_NETWORK_CONFIG', ...fromConfig('cni_network_config') },
              { name: 'KUBERNETES_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { name: 'CNI_MTU', ...fromConfig('veth_mtu') },
              { name: 'SLEEP', value: 'false' },
            ],
            volumeMounts: [{ mountPath: '/host/opt/cni/bin', name: 'cni-bin-dir' }, { mountPath: '/host/etc/cni/net.d', name: 'cni-net-dir' }],
            securityContext: { privileged: true },
          }],
          containers: [{
            name: 'calico-node',
            image: image(ctx, 'node'),
            imagePullPolicy: 'IfNotPresent',
            env,
            securityContext: { privileged: true },
            resources: { requests: { cpu: '250m' } },
            lifecycle: { preStop: { exec: { command: ['/bin/calico-node', '-shutdown'] } } },
            livenessProbe: { exec: { command: ['/bin/calico-node', '-felix-live', ...(bird ? ['-bird-live'] : [])] }, periodSeconds: 10, initialDelaySeconds: 10, failureThreshold: 6, timeoutSeconds: 10 },
            readinessProbe: { exec: { command: ['/bin/calico-node', '-felix-ready', ...(bird ? ['-bird-ready'] : [])] }, periodSeconds: 10, timeoutSeconds: 10 },
            volumeMounts: [
              { mountPath: '/host/etc/cni/net.d', name: 'cni-net-dir', readOnly: false },
              { mountPath: '/lib/modules', name: 'lib-modules', readOnly: true },
              { mountPath: '/run/xtables.lock', name: 'xtables-lock', readOnly: false },
              { mountPath: '/var/run/calico', name: 'var-run-calico', readOnly: false },
              { mountPath: '/var/lib/calico', name: 'var-lib-calico', readOnly: false },
              { mountPath: '/var/run/nodeagent', name: 'policysync' },
              { mountPath: '/var/log/calico/cni', name: 'cni-log-dir', readOnly: true },
            ],
          }],
          volumes: [
            hostPath('lib-modules', '/lib/modules'),
            hostPath('var-run-calico', '/var/run/calico', 'DirectoryOrCreate'),
            hostPath('var-lib-calico', '/var/lib/calico', 'DirectoryOrCreate'),
            hostPath('xtables-lock', '/run/xtables.lock', 'FileOrCreate'),
            hostPath('cni-bin-dir', '/opt/cni/bin', 'DirectoryOrCreate'),
            hostPath('cni-net-dir', '/etc/cni/net.d'),
            hostPath('cni-log-dir', '/var/log/calico/cni'),
            hostPath('policysync', '/var/run/nodeagent', 'DirectoryOrCreate'),
          ],
        },
      },
    },
  };
}

function kubeControllers(ctx: RenderContext): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'calico-kube-controllers', namespace: NS, labels: { 'k8s-app': 'calico-kube-controllers' } },
    spec: {
      // The controllers can only have one active instance.
      replicas: 1,
      selector: { matchLabels: { 'k8s-app': 'calico-kube-controllers' } },
      strategy: { type: 'Recreate' },
      template: {
        metadata: { name: 'calico-kube-controllers', namespace: NS, labels: { 'k8s-app': 'calico-kube-controllers' } },
        spec: {
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [
            { key: 'CriticalAddonsOnly', operator: 'Exists' },
            { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
          ],
          serviceAccountName: 'calico-kube-controllers',
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          priorityClassName: 'system-cluster-critical',
          containers: [{
            name: 'calico-kube-controllers',
            image: image(ctx, 'kube-controllers'),
            imagePullPolicy: 'IfNotPresent',
            // The node controller frees the IPAM blocks of deleted nodes.
            env: [{ name: 'ENABLED_CONTROLLERS', value: 'node' }, { name: 'DATASTORE_TYPE', value: 'kubernetes' }],
            livenessProbe: { exec: { command: ['/usr/bin/check-status', '-l'] }, periodSeconds: 10, initialDelaySeconds: 10, failureThreshold: 6, timeoutSeconds: 10 },
            readinessProbe: { exec: { command: ['/usr/bin/check-status', '-r'] }, periodSeconds: 10 },
            securityContext: { runAsNonRoot: true },
          }],
        },
      },
    },
  };
}

/** The Calico resources muster's plan decides: the pool, BGP, the cluster-wide default policy. */
function networkResources(ctx: RenderContext, pool: CalicoPool): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [{
    apiVersion: CRD_API,
    kind: 'IPPool',
    metadata: { name: 'default-ipv4-ippool' },
    spec: { cidr: pool.cidr, blockSize: pool.blockSize, ipipMode: pool.ipipMode, vxlanMode: pool.vxlanMode, natOutgoing: pool.natOutgoing, nodeSelector: 'all()' },
  }];
  if (networkMode(ctx) === 'routed') {
    out.push({
      apiVersion: CRD_API,
      kind: 'BGPConfiguration',
      metadata: { name: 'default' },
      // The cluster's AS for every node; peerings with the site's routers are BGPPeer resources
      // the network team adds (muster does not know the routers).
      spec: { asNumber: ctx.a.networking?.bgp_as_number ?? 0, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info' },
    });
  }
  if (ctx.a.networking?.network_policy) {
    out.push({
      apiVersion: CRD_API,
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'muster-default-deny-ingress' },
      // Evaluated after the Kubernetes NetworkPolicies (order 1000) of the default tier: a pod
      // outside kube-system receives only what some policy allows. kube-system is left open so
      // cluster DNS keeps answering; egress is not restricted.
      spec: { order: 2000, namespaceSelector: "kubernetes.io/metadata.name != 'kube-system'", selector: 'all()', types: ['Ingress'] },
    });
  }
  return out;
}

export function calicoManifests(ctx: RenderContext): Record<string, unknown>[] {
  const pool = calicoPool(ctx);
  const config = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'calico-config', namespace: NS },
    data: {
      typha_service_name: 'none',
      calico_backend: pool.backend,
      // 0: calico-node detects the MTU from the node's interfaces and the encapsulation.
      veth_mtu: '0',
      cni_network_config: CNI_NETWORK_CONFIG,
    },
  };
  return [...rbac(), config, calicoNode(ctx, pool), kubeControllers(ctx), ...networkResources(ctx, pool)];
}

function header(ctx: RenderContext): string {
  const n = ctx.a.networking;
  const pool = calicoPool(ctx);
  const mode = networkMode(ctx) === 'routed' ? `routed (BGP, AS ${n?.bgp_as_number ?? 0}, no encapsulation)` : `overlay (${pool.ipipMode === 'Always' ? 'IP-in-IP' : 'VXLAN'})`;
  const policy = n?.network_policy
    ? 'network policy: on -- pods outside kube-system accept only what a policy allows (GlobalNetworkPolicy muster-default-deny-ingress).'
    : 'network policy: off -- muster adds no default-deny policy. Calico still enforces any NetworkPolicy someone creates: with the Kubernetes datastore it has no switch that turns enforcement off.';
  return hashHeader(`Calico ${CALICO_VERSION}, ${mode}, pool ${pool.cidr} in /${pool.blockSize} blocks.`) + `# ${policy}\n`;
}

export function renderCalico(ctx: RenderContext): FileSpec[] {
  const docs = calicoManifests(ctx).map((d) => `---\n${stringify(d, { lineWidth: 0 })}`).join('');
  return [
    { path: CALICO_FILES.crds, mode: 0o644, content: renderCalicoCrdsYaml(hashHeader(`Calico ${CALICO_VERSION} CustomResourceDefinitions, without validation schemas (see calico.yaml).`)) },
    { path: CALICO_FILES.manifests, mode: 0o644, content: header(ctx) + docs },
  ];
}
