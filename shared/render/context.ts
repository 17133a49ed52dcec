// The one render input of a node, and the context every renderer reads, compiled from it once:
// options -> defaults -> compiled. Renderers never look at the raw assignment for what is
// derived here (version, roles, runtime socket, image names, file paths), so a rule such as
// "containerd 1.7 gets schema version 2" lives in one place.
import type { AssignmentOut } from '../wire/types.ts';
import { CLUSTER_CA_PATHS, SERVICE_ACCOUNT_PATHS, certKind } from '../pki/catalogue.ts';
import { DEFAULT_CONTAINERD_VERSION, DEFAULT_IMAGE_REPOSITORIES } from '../plan/schema.ts';
import { wholeSecondsOf } from '../plan/duration.ts';
import { APISERVER_SHUTDOWN_DELAY_S } from '../constants.ts';
import { minorRow, parseKubeVersion, type KubeVersion, type MinorRow } from './versions.ts';

export interface RenderInput {
  assignment: AssignmentOut;
  /**
   * SHA-256 of the node's certificate files per catalogue kind, when known (the agent knows them;
   * a coordinator preview does not): static pods carry a hash of theirs, so a renewed certificate
   * restarts them through the kubelet like any manifest change. Keys: the catalogue kind (its
   * certificate, key and kubeconfig together), "ca:kubernetes" / "ca:etcd" / "ca:front-proxy" for
   * the CA bundles, "service-account" for the SA key pair (static-pods/certificates-hash.ts).
   */
  certificateHashes?: Readonly<Record<string, string>>;
}

export interface RuntimeContext {
  type: 'docker' | 'containerd';
  /** CRI endpoint the kubelet talks to. */
  criEndpoint: string;
  /** containerd release line and its config.toml schema version (3 for 2.x, 2 for 1.7). */
  containerdVersion: string;
  containerdSchema: 2 | 3;
  logDriver: string;
  logOpts: Readonly<Record<string, string>>;
  storageDriver: string;
  storageOpts: Readonly<Record<string, string>>;
  registryMirrors: readonly string[];
  insecureRegistries: readonly string[];
  mtu: number;
}

export interface RenderContext {
  a: AssignmentOut;
  nodeName: string;
  nodeIp: string;
  version: KubeVersion;
  /** Images kubeadm pairs with the version. */
  tags: MinorRow;
  /**
   * `node`: a Kubernetes Node (master or worker): its kubelet registers with the API server, and
   * it runs kube-proxy and pod networking. `kubelet`: it runs a kubelet at all -- every role; on
   * an etcd member that is nothing else, a standalone one that only runs static pods.
   */
  roles: { etcd: boolean; master: boolean; worker: boolean; node: boolean; kubelet: boolean };
  images: {
    repository: string;
    calicoRepository: string;
    /** Full references. */
    pause: string;
    etcd: string;
    component: (name: 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kube-proxy') => string;
  };
  runtime: RuntimeContext;
  proxyMode: string;
  overlayMode: string;
  /** kube-apiserver's --shutdown-delay-duration in seconds (the plan's master.apiserver_shutdown_delay). */
  apiserverShutdownDelayS: number;
  /** Absolute paths on the node of the catalogue's files. */
  paths: {
    cert: (kind: string) => string;
    key: (kind: string) => string;
    kubeconfig: (kind: string) => string;
    ca: (ca: 'kubernetes' | 'etcd' | 'front-proxy') => string;
    saKey: string;
    saPub: string;
  };
  certificateHashes: Readonly<Record<string, string>>;
}

export const CRI_ENDPOINTS = {
  containerd: 'unix:///run/containerd/containerd.sock',
  // Kubernetes talks to docker only through cri-dockerd (dockershim left in 1.24).
  docker: 'unix:///run/cri-dockerd.sock',
} as const;

const abs = (p: string) => `/${p}`;

export function compileContext(input: RenderInput): RenderContext {
  const a = input.assignment;
  const version = parseKubeVersion(a.kubernetes_version) ?? { major: 1, minor: 36, patch: 0, text: a.kubernetes_version };
  const tags = minorRow(version);
  const s = a.settings;
  const rt = s?.runtime;
  const type = (rt?.type || a.container_runtime || 'containerd') === 'docker' ? 'docker' : 'containerd';
  const containerdVersion = type === 'containerd' ? rt?.version || DEFAULT_CONTAINERD_VERSION : '';
  const repository = (s?.kubernetes_image_repository || DEFAULT_IMAGE_REPOSITORIES.kubernetes).replace(/\/+$/, '');
  const calicoRepository = (s?.calico_image_repository || DEFAULT_IMAGE_REPOSITORIES.calico).replace(/\/+$/, '');
  const kind = (k: string) => {
    const c = certKind(k);
    if (!c) throw new Error(`renderer asked for unknown certificate kind ${k}`);
    return c;
  };
  const roles = { etcd: a.roles.includes('etcd'), master: a.roles.includes('master'), worker: a.roles.includes('worker'), node: false, kubelet: false };
  roles.node = roles.master || roles.worker;
  // An etcd member and nothing else runs a kubelet too, standalone (node/kubelet.ts): it is what
  // runs the etcd static pod, as on kubeadm's external etcd hosts.
  roles.kubelet = roles.node || roles.etcd;
  return {
    a,
    nodeName: a.node_name,
    nodeIp: a.node_ip,
    version,
    tags,
    roles,
    images: {
      repository,
      calicoRepository,
      pause: `${repository}/pause:${tags.pause}`,
      etcd: `${repository}/etcd:${tags.etcd}`,
      component: (name) => `${repository}/${name}:${version.text}`,
    },
    runtime: {
      type,
      criEndpoint: CRI_ENDPOINTS[type],
      containerdVersion,
      containerdSchema: containerdVersion.startsWith('1.') ? 2 : 3,
      logDriver: rt?.log_driver || 'json-file',
      logOpts: rt?.log_opts ?? { 'max-size': '50m', 'max-file': '1' },
      storageDriver: rt?.storage_driver ?? 'overlay2',
      storageOpts: rt?.storage_opts ?? {},
      registryMirrors: rt?.registry_mirrors ?? [],
      insecureRegistries: rt?.insecure_registries ?? [],
      mtu: rt?.mtu ?? 0,
    },
    proxyMode: s?.proxy_mode || 'iptables',
    overlayMode: s?.overlay_mode || 'ipip',
    // The coordinator checked the plan's value; "" comes from a coordinator older than the field.
    apiserverShutdownDelayS: Math.max(0, wholeSecondsOf(s?.apiserver_shutdown_delay || '') ?? APISERVER_SHUTDOWN_DELAY_S),
    paths: {
      cert: (k) => abs(kind(k).certPath),
      key: (k) => abs(kind(k).keyPath),
      kubeconfig: (k) => {
        const kc = kind(k).kubeconfig;
        if (!kc) throw new Error(`certificate kind ${k} has no kubeconfig`);
        return abs(kc.path);
      },
      ca: (ca) => abs(CLUSTER_CA_PATHS[ca]),
      saKey: abs(SERVICE_ACCOUNT_PATHS.privateKey),
      saPub: abs(SERVICE_ACCOUNT_PATHS.publicKey),
    },
    certificateHashes: input.certificateHashes ?? {},
  };
}
