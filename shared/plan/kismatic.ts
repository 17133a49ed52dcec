// Kismatic's plan format (kismatic-cluster.yaml), accepted as input: recognise it, translate it
// into muster's shape, and list what has no meaning in muster and why. The translated tree reuses
// the original YAML nodes, so every position the checks report still points into the Kismatic
// file, and `pathMap` turns muster field names back into Kismatic ones.
import { isMap, isPair, isScalar, isSeq, Pair, Scalar, YAMLMap, YAMLSeq, type Node } from 'yaml';
import { ANY_KEYS, type KeyTree } from './checks/check.ts';
import { formatPath, type PlanSource } from './source.ts';
import { GROUP_NAMES } from './groups.ts';

const NODE_KEYS: KeyTree = { host: null, ip: null, internalip: null, labels: ANY_KEYS, taints: { key: null, value: null, effect: null }, kubelet: ANY_KEYS };
const GROUP_KEYS: KeyTree = { expected_count: null, nodes: NODE_KEYS };

/** Every field of Kismatic's plan file reference (unknown-field checks a Kismatic file against it). */
export const KISMATIC_KEYS: KeyTree = {
  cluster: {
    name: null, version: null, admin_password: null, disable_package_installation: null, allow_package_installation: null,
    package_repository_urls: null, disconnected_installation: null, disable_registry_seeding: null,
    networking: { type: null, pod_cidr_block: null, service_cidr_block: null, update_hosts_files: null, http_proxy: null, https_proxy: null, no_proxy: null },
    certificates: { expiry: null, ca_expiry: null },
    ssh: { user: null, ssh_key: null, ssh_port: null },
    kube_apiserver: ANY_KEYS, kube_controller_manager: ANY_KEYS, kube_scheduler: ANY_KEYS, kube_proxy: ANY_KEYS, kubelet: ANY_KEYS,
    cloud_provider: { provider: null, config: null },
  },
  docker: { disable: null, logs: { driver: null, opts: ANY_KEYS }, storage: { driver: null, opts: ANY_KEYS, direct_lvm: ANY_KEYS, direct_lvm_block_device: ANY_KEYS } },
  docker_registry: { setup_internal: null, address: null, port: null, server: null, CA: null, username: null, password: null },
  additional_files: ANY_KEYS,
  add_ons: ANY_KEYS,
  features: ANY_KEYS,
  etcd: GROUP_KEYS,
  master: { ...GROUP_KEYS, load_balancer: null, load_balanced_fqdn: null, load_balanced_short_name: null },
  worker: GROUP_KEYS,
  ingress: GROUP_KEYS,
  storage: GROUP_KEYS,
  nfs: ANY_KEYS,
};

/** Kismatic path -> muster path, for the settings that mean the same in both. */
const MOVES: readonly (readonly [string, string])[] = [
  ['cluster.name', 'cluster.name'],
  ['cluster.version', 'cluster.version'],
  ...['type', 'pod_cidr_block', 'service_cidr_block', 'update_hosts_files', 'http_proxy', 'https_proxy', 'no_proxy'].map((f) => [`cluster.networking.${f}`, `cluster.networking.${f}`] as const),
  ['add_ons.cni.options.calico.mode', 'cluster.networking.type'], // Kismatic 1.6+; wins over the deprecated networking.type
  ['cluster.certificates.expiry', 'cluster.certificates.expiry'],
  ['cluster.certificates.ca_expiry', 'cluster.certificates.ca_expiry'],
  ['docker.logs', 'container_runtime.logs'],
  ['docker.storage.driver', 'container_runtime.storage.driver'],
  ['docker.storage.opts', 'container_runtime.storage.opts'],
  ['master.load_balancer', 'master.load_balancer'],
  ['master.load_balanced_fqdn', 'master.load_balanced_fqdn'],
  ['master.load_balanced_short_name', 'master.load_balanced_short_name'],
  ...GROUP_NAMES.map((g) => [`${g}.expected_count`, `${g}.expected_count`] as const),
];

/** Settings an empty value leaves at their default, as Kismatic reads them. */
const DEFAULTED_WHEN_EMPTY = new Set(['cluster.certificates.expiry', 'cluster.certificates.ca_expiry']);

const NOT_YET = 'not supported by muster yet';
/** Kismatic settings with no muster equivalent, and why. Reported only when set to something. */
const DROPS: readonly (readonly [string, string])[] = [
  ['cluster.admin_password', 'muster gives admins client certificates; there is no shared admin password (the value is not copied)'],
  ['cluster.ssh', 'agents pull their work from the coordinator; muster never connects to nodes over SSH'],
  ['cluster.disable_package_installation', `package installation settings are ${NOT_YET}`],
  ['cluster.allow_package_installation', `package installation settings are ${NOT_YET}`],
  ['cluster.package_repository_urls', `package repositories are ${NOT_YET}`],
  ['cluster.disconnected_installation', `disconnected installation is ${NOT_YET}`],
  ['cluster.disable_registry_seeding', `registry seeding is ${NOT_YET}`],
  ...['kube_apiserver', 'kube_controller_manager', 'kube_scheduler', 'kube_proxy', 'kubelet'].map((c) => [`cluster.${c}`, `component option overrides are ${NOT_YET}`] as const),
  ['cluster.cloud_provider', `cloud provider integration is ${NOT_YET}`],
  ['docker.disable', 'muster configures the container runtime on every node; leaving it out is not supported'],
  ['docker.storage.direct_lvm', 'devicemapper direct-lvm is removed from Docker; muster uses overlay2'],
  ['docker.storage.direct_lvm_block_device', 'devicemapper direct-lvm is removed from Docker; muster uses overlay2'],
  ['docker_registry', `a private registry for all images is ${NOT_YET} (container_runtime.registry_mirrors only mirrors Docker Hub); credentials are not copied`],
  ['additional_files', `copying files to nodes is ${NOT_YET}`],
  ['features', 'Kismatic feature flags have no meaning in muster'],
  ['ingress', `ingress node groups are ${NOT_YET}; run an ingress controller on workers`],
  ['storage', `storage node groups are ${NOT_YET}`],
  ['nfs', `NFS volumes are ${NOT_YET}`],
];

export interface DroppedSetting {
  /** Kismatic field path. */
  path: string;
  reason: string;
  line: number;
  column: number;
}

export interface KismaticTranslation {
  root: YAMLMap;
  pathMap: Map<string, string>;
  dropped: DroppedSetting[];
}

const KISMATIC_ONLY_TOP = ['docker', 'docker_registry', 'add_ons', 'additional_files', 'ingress', 'storage', 'nfs', 'features'];
const KISMATIC_ONLY_CLUSTER = ['ssh', 'admin_password', 'disable_package_installation', 'allow_package_installation', 'package_repository_urls', 'disconnected_installation'];

/**
 * A Kismatic plan has a Kismatic-only field (top-level docker/add_ons/..., cluster.ssh, a node's
 * `internalip`) and no muster-only one (container_runtime, cluster.preflight, a pool).
 */
export function isKismaticPlan(src: PlanSource): boolean {
  const has = (p: string) => src.node(p) !== null;
  const nodeHas = (key: string) => GROUP_NAMES.some((g) => {
    const seq = src.node(`${g}.nodes`);
    return isSeq(seq) && seq.items.some((item) => isMap(src.deref(item)) && (src.deref(item) as YAMLMap).has(key));
  });
  const kismatic = KISMATIC_ONLY_TOP.some((k) => has(k)) || KISMATIC_ONLY_CLUSTER.some((k) => has(`cluster.${k}`)) || nodeHas('internalip');
  const muster = has('container_runtime') || has('cluster.preflight') || GROUP_NAMES.some((g) => has(`${g}.pool`)) || nodeHas('internal_ip');
  return kismatic && !muster;
}

export function translateKismatic(src: PlanSource): KismaticTranslation {
  const root = new YAMLMap();
  root.range = src.root?.range ?? null;
  const pathMap = new Map<string, string>();
  const dropped: DroppedSetting[] = [];
  const drop = (path: string, reason: string) => {
    const { line, column } = src.locate(path);
    dropped.push({ path, reason, line, column });
  };

  for (const [from, to] of MOVES) {
    const value = src.node(from);
    if (value === null) continue;
    // Kismatic plans often carry `ca_expiry: ""` (its plan template does); Kismatic reads empty as its default.
    if (DEFAULTED_WHEN_EMPTY.has(from) && isEmpty(src, value)) continue;
    setIn(root, to.split('.'), value, keyOf(src, from));
    if (from !== to) pathMap.set(to, from);
  }

  for (const g of GROUP_NAMES) {
    const seq = src.node(`${g}.nodes`);
    if (!seq) continue;
    if (!isSeq(seq)) {
      setIn(root, [g, 'nodes'], seq, keyOf(src, `${g}.nodes`)); // the type check reports it
      continue;
    }
    const out = new YAMLSeq();
    out.range = seq.range ?? null;
    seq.items.forEach((raw, i) => {
      const item = src.deref(raw);
      if (!isMap(item)) {
        out.items.push(item);
        return;
      }
      const node = new YAMLMap();
      node.range = item.range ?? null;
      for (const pair of item.items) {
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (key === 'internalip') {
          node.items.push(new Pair(renamedKey('internal_ip', pair.key), pair.value));
          pathMap.set(`${g}.nodes[${i}].internal_ip`, `${g}.nodes[${i}].internalip`);
        } else if (key === 'kubelet') {
          if (!isEmpty(src, pair.value as Node)) drop(`${g}.nodes[${i}].kubelet`, `per-node kubelet option overrides are ${NOT_YET}`);
        } else if (['host', 'ip', 'labels', 'taints'].includes(key)) {
          node.items.push(pair);
        }
      }
      out.items.push(node);
    });
    setIn(root, [g, 'nodes'], out, keyOf(src, `${g}.nodes`));
  }

  for (const [path, reason] of DROPS) {
    const value = src.node(path);
    if (value !== null && !isEmpty(src, value)) drop(path, reason);
  }
  dropAddOns(src, drop);
  dropped.sort((a, b) => a.line - b.line || a.column - b.column);
  return { root, pathMap, dropped };
}

function dropAddOns(src: PlanSource, drop: (path: string, reason: string) => void): void {
  const addOns = src.node('add_ons');
  if (!isMap(addOns)) return;
  for (const pair of addOns.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const name = String(pair.key.value);
    const value = src.deref(pair.value);
    const disabled = isMap(value) && isScalar(value.get('disable', true)) && (value.get('disable', true) as Scalar).value === true;
    if (name === 'cni') {
      const provider = isMap(value) ? value.get('provider') : undefined;
      if (disabled) drop('add_ons.cni.disable', 'muster always sets up pod networking (Calico); disabling it is not supported');
      else if (typeof provider === 'string' && provider && provider !== 'calico') drop('add_ons.cni.provider', `muster sets up Calico; the ${provider} provider is ${NOT_YET}`);
      continue;
    }
    if (!disabled) drop(formatPath(['add_ons', name]), `add-ons are not installed by muster yet; install ${name} with kubectl or helm once the cluster is up`);
  }
}

/** Sets a value at a path of new maps; created keys carry `keyRange` so they can be located. */
function setIn(root: YAMLMap, segs: string[], value: Node, keyNode: Node | null): void {
  let cur = root;
  segs.forEach((seg, i) => {
    const existing = cur.items.find((p) => isScalar(p.key) && p.key.value === seg);
    if (i === segs.length - 1) {
      if (existing) existing.value = value;
      else cur.items.push(new Pair(renamedKey(seg, keyNode), value));
      return;
    }
    if (existing && isMap(existing.value)) {
      cur = existing.value;
      return;
    }
    const next = new YAMLMap();
    cur.items.push(new Pair(renamedKey(seg, keyNode), next));
    cur = next;
  });
}

function renamedKey(name: string, original: Node | null): Scalar {
  const key = new Scalar(name);
  key.range = original?.range ?? null;
  return key;
}

function keyOf(src: PlanSource, path: string): Node | null {
  const segs = path.split('.');
  const parent = segs.length > 1 ? src.node(segs.slice(0, -1).join('.')) : src.root;
  if (!isMap(parent)) return null;
  const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === segs[segs.length - 1]);
  return (pair?.key as Node | undefined) ?? null;
}

/** Null, "", false, 0 and collections of only such values: nothing a user would miss. */
function isEmpty(src: PlanSource, raw: unknown): boolean {
  const node = src.deref(raw);
  if (node === null) return true;
  if (isScalar(node)) return node.value === null || node.value === '' || node.value === false || node.value === 0;
  if (isSeq(node)) return node.items.every((i) => isEmpty(src, i));
  if (isMap(node)) return node.items.every((p) => isEmpty(src, p.value));
  return false;
}
