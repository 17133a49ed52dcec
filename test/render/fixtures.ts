// An assignment as the coordinator sends it, for renderer tests: a few knobs, the rest fixed.
import type { AssignmentOut } from '../../shared/wire/types.ts';

export interface AssignmentKnobs {
  roles: string[];
  kubernetes_version?: string;
  runtime?: 'docker' | 'containerd';
  containerdVersion?: string;
  proxyMode?: string;
  overlayMode?: string;
  networkType?: 'overlay' | 'routed';
  repository?: string;
  calicoRepository?: string;
  /** settings.apiserver_shutdown_delay as sent: "" is a coordinator older than the field. @default '15s' */
  shutdownDelay?: string;
}

export function renderAssignment(k: AssignmentKnobs): AssignmentOut {
  const runtime = k.runtime ?? 'containerd';
  const master = k.roles.includes('master');
  const labels: Record<string, string> = { disk: 'ssd' };
  if (master) labels['node-role.kubernetes.io/control-plane'] = '';
  return {
    node_name: 'w1',
    revision: 7,
    roles: k.roles,
    cluster_name: 'render-test',
    kubernetes_version: k.kubernetes_version ?? 'v1.36.3',
    pod_cidr: '172.16.0.64/26',
    networking: {
      type: k.networkType ?? 'overlay',
      pod_cidr_block: '172.16.0.0/16',
      service_cidr_block: '172.17.0.0/16',
      pod_block_size: 64,
      bgp_as_number: 64512,
      network_policy: false,
      update_hosts_files: false,
      cluster_domain: 'cluster.local',
      dns_service_ip: '172.17.0.10',
      api_service_ip: '172.17.0.1',
      http_proxy: '',
      https_proxy: '',
      no_proxy: '',
    },
    api_server_endpoint: master ? '127.0.0.1:6443' : '10.0.0.100:6443',
    etcd_members: [
      { name: 'e1', peer_url: 'https://10.0.0.11:2380', client_url: 'https://10.0.0.11:2379' },
      { name: 'w1', peer_url: 'https://10.0.0.5:2380', client_url: 'https://10.0.0.5:2379' },
    ],
    labels,
    taints: master ? [] : [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }],
    hosts_entries: [],
    node_ip: '10.0.0.5',
    container_runtime: runtime,
    pki: null,
    settings: {
      apiserver_shutdown_delay: k.shutdownDelay ?? '15s',
      kubernetes_image_repository: k.repository ?? 'registry.k8s.io',
      calico_image_repository: k.calicoRepository ?? 'quay.io/calico',
      proxy_mode: k.proxyMode ?? 'iptables',
      overlay_mode: k.overlayMode ?? 'ipip',
      runtime: {
        type: runtime,
        version: runtime === 'containerd' ? (k.containerdVersion ?? '2.1') : '',
        log_driver: 'json-file',
        log_opts: { 'max-file': '1', 'max-size': '50m' },
        storage_driver: 'overlay2',
        storage_opts: {},
        registry_mirrors: [],
        insecure_registries: [],
        mtu: 0,
      },
    },
    plan_revision: 3,
  };
}
