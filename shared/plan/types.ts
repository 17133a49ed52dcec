// The cluster plan after parsing, defaulting and validation: what the coordinator works from.
// Field names follow the YAML file (snake_case, Kismatic's names where they mean the same), so a
// reader can map every field here to docs/plan.md. Parsing and validation live beside this file;
// nothing outside shared/plan builds a Plan by hand except tests.
import type { Role } from '../constants.ts';

export type NetworkType = 'overlay' | 'routed';
export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
export type ContainerRuntimeType = 'docker' | 'containerd';
export type PreflightProfile = 'production' | 'prototyping';

export interface Plan {
  cluster: ClusterSpec;
  container_runtime: ContainerRuntimeSpec;
  etcd: NodeGroup;
  master: MasterGroup;
  worker: NodeGroup;
}

export interface ClusterSpec {
  name: string;
  /** Kubernetes version, "vX.Y.Z". */
  version: string;
  networking: NetworkingSpec;
  images: ImagesSpec;
  certificates: CertificatesSpec;
  preflight: PreflightSpec;
}

export interface NetworkingSpec {
  type: NetworkType;
  /** Default 172.16.0.0/16. */
  pod_cidr_block: string;
  /** Default 172.17.0.0/16. */
  service_cidr_block: string;
  /** Addresses per node pod block; a power of two, default 64 (a /26). */
  pod_block_size: number;
  /** BGP AS number for routed networking, default 64511 (the seed's; see docs/plan.md). */
  bgp_as_number: number;
  /** Default false. */
  network_policy: boolean;
  /** Default false. */
  update_hosts_files: boolean;
  /** Default "cluster.local". */
  cluster_domain: string;
  /** Default: the 10th address of the service CIDR (kubeadm's convention). */
  dns_service_ip: string;
  http_proxy: string;
  https_proxy: string;
  no_proxy: string;
  /** kube-proxy mode; default iptables. */
  proxy_mode: 'iptables' | 'ipvs' | 'nftables';
  /** Calico encapsulation for overlay networking; default ipip. */
  overlay_mode: 'ipip' | 'vxlan';
}

export interface ImagesSpec {
  /** Registry (and path) of the Kubernetes images; default registry.k8s.io. */
  kubernetes: string;
  /** Registry (and path) of the Calico images; default quay.io/calico. */
  calico: string;
}

export interface CertificatesSpec {
  /** Leaf certificate lifetime, a Go-style duration; default "17520h" (2 years). */
  expiry: string;
  /** CA lifetime; default "87600h" (10 years). */
  ca_expiry: string;
  location: { city: string; state: string; country: string };
  apiserver_cert_extra_sans: string[];
}

export interface PreflightSpec {
  /** Hardware minimums profile; default "production". */
  profile: PreflightProfile;
  /** Check names whose errors do not block installation (kubeadm's --ignore-preflight-errors). */
  ignore: string[];
  /** Highest acceptable latency to etcd/master peers, default 10 ms. */
  max_peer_latency_ms: number;
  /** Timeout of each probe connection (latency and port reachability), default 1000 ms. */
  probe_timeout_ms: number;
  /** Supported operating systems as "<id> <version>" prefixes, e.g. "ubuntu 24.04", "debian 12". */
  supported_os: string[];
}

export interface ContainerRuntimeSpec {
  /** Default "docker" (the seed's runtime; via cri-dockerd on Kubernetes 1.24+). */
  type: ContainerRuntimeType;
  /** Log driver options, e.g. { driver: "json-file", opts: { "max-size": "50m", "max-file": "1" } }. */
  logs: { driver: string; opts: Record<string, string> };
  storage: { driver: string; opts: Record<string, string> };
  registry_mirrors: string[];
  /** Registries reached over plain HTTP or with an untrusted certificate (host[:port]). */
  insecure_registries: string[];
  /** containerd release line ("2.1", "1.7"); "" for docker. Compiled to the default for containerd. */
  version: string;
  /** MTU of the runtime's bridge; 0 = the runtime's default. */
  mtu: number;
}

export interface NodeGroup {
  /** How many nodes the group should have (named nodes plus pool members). */
  expected_count: number;
  /** Nodes named in the plan. */
  nodes: PlanNode[];
  /** When set, the rest of expected_count is filled from registered nodes that qualify. */
  pool: PoolSpec | null;
}

export interface MasterGroup extends NodeGroup {
  /** "host:port" of the API server load balancer (required with 2+ masters unless an FQDN is given). */
  load_balancer: string;
  load_balanced_fqdn: string;
  load_balanced_short_name: string;
  /**
   * How long a stopping API server keeps serving while its /readyz fails, so the load balancer
   * takes it out first (kube-apiserver --shutdown-delay-duration): a Go duration in whole
   * seconds, "15s" by default. Set it above the balancer's check interval x failures to mark down.
   */
  apiserver_shutdown_delay: string;
}

export interface PlanNode {
  /** Hostname the agent registers with (matched against node name, hostname or machine-id). */
  host: string;
  /** Address other nodes and admins use; optional for pool-style matching. */
  ip: string;
  /** Address for intra-cluster traffic; defaults to ip. */
  internal_ip: string;
  labels: Record<string, string>;
  taints: PlanTaint[];
}

export interface PlanTaint {
  key: string;
  value: string;
  effect: TaintEffect;
}

export interface PoolSpec {
  /** Registered nodes qualify when all these labels match. */
  selector: Record<string, string>;
  /** Minimum logical CPUs. 0: no requirement. */
  min_cpus: number;
  /** Minimum memory in bytes (YAML accepts "4GiB"). 0: no requirement. */
  min_memory_bytes: number;
  /** Minimum size of the filesystem holding /var/lib, bytes. 0: no requirement. */
  min_disk_bytes: number;
}

/** Which group each role lives in. */
export const ROLE_GROUPS: Record<Role, 'etcd' | 'master' | 'worker'> = { etcd: 'etcd', master: 'master', worker: 'worker' };
