// Render inputs for the runtime, OS and network renderer tests: one node's assignment as the
// agent receives it (defaults filled in), with the knobs the tables turn.
import type { AssignmentOut } from '../../shared/wire/types.ts';
import { compileContext, type RenderContext } from '../../shared/render/context.ts';

export interface NodeKnobs {
  roles?: string[];
  minor?: 34 | 35 | 36;
  runtime?: 'docker' | 'containerd';
  containerdVersion?: string;
  network?: 'overlay' | 'routed';
  overlayMode?: 'ipip' | 'vxlan';
  policy?: boolean;
  hostsFiles?: boolean;
  mirrors?: string[];
  insecure?: string[];
  mtu?: number;
  logOpts?: Record<string, string>;
  storageDriver?: string;
  storageOpts?: Record<string, string>;
  repository?: string;
  calicoRepository?: string;
  podBlockSize?: number;
}

export function assignment(k: NodeKnobs = {}): AssignmentOut {
  const minor = k.minor ?? 36;
  const runtime = k.runtime ?? 'containerd';
  return {
    node_name: 'node-1',
    revision: 3,
    roles: k.roles ?? ['master', 'worker'],
    cluster_name: 'prod',
    kubernetes_version: `v1.${minor}.3`,
    pod_cidr: '10.244.1.0/26',
    networking: {
      type: k.network ?? 'overlay',
      pod_cidr_block: '10.244.0.0/16',
      service_cidr_block: '10.96.0.0/12',
      pod_block_size: k.podBlockSize ?? 64,
      bgp_as_number: 64512,
      network_policy: k.policy ?? false,
      update_hosts_files: k.hostsFiles ?? false,
      cluster_domain: 'cluster.local',
      dns_service_ip: '10.96.0.10',
      api_service_ip: '10.96.0.1',
      http_proxy: '', https_proxy: '', no_proxy: '',
    },
    api_server_endpoint: '127.0.0.1:6443',
    etcd_members: [],
    labels: {},
    taints: [],
    hosts_entries: [
      { ip: '10.0.0.11', names: ['node-1', 'node-1.example.com'] },
      { ip: '10.0.0.12', names: ['node-2'] },
    ],
    node_ip: '10.0.0.11',
    container_runtime: runtime,
    plan_revision: 2,
    pki: null,
    settings: {
      apiserver_shutdown_delay: '15s',
      kubernetes_image_repository: k.repository ?? 'registry.local:5000/k8s',
      calico_image_repository: k.calicoRepository ?? 'registry.local:5000/calico',
      proxy_mode: 'iptables',
      overlay_mode: k.overlayMode ?? 'ipip',
      runtime: {
        type: runtime,
        version: runtime === 'containerd' ? (k.containerdVersion ?? '2.1') : '',
        log_driver: 'json-file',
        log_opts: k.logOpts ?? { 'max-size': '50m', 'max-file': '1' },
        storage_driver: k.storageDriver ?? 'overlay2',
        storage_opts: k.storageOpts ?? {},
        registry_mirrors: k.mirrors ?? [],
        insecure_registries: k.insecure ?? [],
        mtu: k.mtu ?? 0,
      },
    },
  };
}

export function context(k: NodeKnobs = {}): RenderContext {
  return compileContext({ assignment: assignment(k) });
}
