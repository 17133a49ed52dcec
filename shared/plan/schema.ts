// The catalogue of a muster plan's fields: kind, default and allowed values. One table drives
// reading (shared/plan/compile.ts), the unknown-field and type checks, and the docs test that
// keeps docs/plan.md complete. Computed defaults (dns_service_ip, expected_count, internal_ip)
// are filled in by compile.ts after reading.
import { APISERVER_SHUTDOWN_DELAY_S } from '../constants.ts';

export type FieldSpec =
  | { kind: 'string'; default: string; options?: readonly string[] }
  | { kind: 'int'; default: number; min?: number }
  | { kind: 'number'; default: number }
  | { kind: 'bool'; default: boolean }
  /** Bytes; YAML accepts 4GiB, 50GB or a plain number. `as` renames the compiled field. */
  | { kind: 'size'; default: number; as: string }
  | { kind: 'strings'; default: readonly string[] }
  /** A string -> string map with free-form keys (labels, selector, opts). */
  | { kind: 'stringMap'; default: Readonly<Record<string, string>> }
  /** `optional`: absent compiles to null instead of an object of defaults. */
  | { kind: 'object'; fields: Readonly<Record<string, FieldSpec>>; optional?: boolean }
  | { kind: 'list'; of: FieldSpec };

/** The newest 1.36 patch the Go module proxy serves (REFERENCE.md); inside SUPPORTED_MINORS (k8s-version.ts). */
export const DEFAULT_KUBERNETES_VERSION = 'v1.36.3';
/** Public registries of the images a cluster runs; an air-gapped plan names its mirrors instead. */
export const DEFAULT_IMAGE_REPOSITORIES = { kubernetes: 'registry.k8s.io', calico: 'quay.io/calico' } as const;
/** The containerd release line rendered for when the plan names none (config.toml version 3). */
export const DEFAULT_CONTAINERD_VERSION = '2.1';
/** The seed's AS number. It lies in RFC 5398's documentation range; see the bgp-as check. */
export const DEFAULT_BGP_AS = 64511;
/** What `muster plan init` writes for routed networking: the first private AS (RFC 6996). */
export const SUGGESTED_PRIVATE_AS = 64512;

const str = (d = ''): FieldSpec => ({ kind: 'string', default: d });

const TAINT: FieldSpec = {
  kind: 'object',
  fields: { key: str(), value: str(), effect: str() }, // effect is checked by the taint check
};

const NODE: FieldSpec = {
  kind: 'object',
  fields: {
    host: str(),
    ip: str(),
    internal_ip: str(), // default: ip
    labels: { kind: 'stringMap', default: {} },
    taints: { kind: 'list', of: TAINT },
  },
};

const POOL: FieldSpec = {
  kind: 'object',
  optional: true,
  fields: {
    selector: { kind: 'stringMap', default: {} },
    min_cpus: { kind: 'int', default: 0, min: 0 },
    min_memory: { kind: 'size', default: 0, as: 'min_memory_bytes' },
    min_disk: { kind: 'size', default: 0, as: 'min_disk_bytes' },
  },
};

const GROUP_FIELDS: Record<string, FieldSpec> = {
  expected_count: { kind: 'int', default: -1, min: 0 }, // -1: not given; compile.ts counts nodes
  nodes: { kind: 'list', of: NODE },
  pool: POOL,
};

export const PLAN_SCHEMA: FieldSpec = {
  kind: 'object',
  fields: {
    cluster: {
      kind: 'object',
      fields: {
        name: str(),
        version: str(DEFAULT_KUBERNETES_VERSION),
        networking: {
          kind: 'object',
          fields: {
            type: { kind: 'string', default: 'overlay', options: ['overlay', 'routed'] },
            pod_cidr_block: str('172.16.0.0/16'),
            service_cidr_block: str('172.17.0.0/16'),
            pod_block_size: { kind: 'int', default: 64, min: 1 },
            bgp_as_number: { kind: 'int', default: DEFAULT_BGP_AS },
            network_policy: { kind: 'bool', default: false },
            update_hosts_files: { kind: 'bool', default: false },
            cluster_domain: str('cluster.local'),
            dns_service_ip: str(), // default: 10th address of the service CIDR
            http_proxy: str(),
            https_proxy: str(),
            no_proxy: str(),
            proxy_mode: { kind: 'string', default: 'iptables', options: ['iptables', 'ipvs', 'nftables'] },
            overlay_mode: { kind: 'string', default: 'ipip', options: ['ipip', 'vxlan'] },
          },
        },
        images: {
          kind: 'object',
          fields: {
            kubernetes: str(DEFAULT_IMAGE_REPOSITORIES.kubernetes),
            calico: str(DEFAULT_IMAGE_REPOSITORIES.calico),
          },
        },
        certificates: {
          kind: 'object',
          fields: {
            expiry: str('17520h'),
            ca_expiry: str('87600h'),
            location: { kind: 'object', fields: { city: str(), state: str(), country: str('US') } },
            apiserver_cert_extra_sans: { kind: 'strings', default: [] },
          },
        },
        preflight: {
          kind: 'object',
          fields: {
            profile: { kind: 'string', default: 'production', options: ['production', 'prototyping'] },
            ignore: { kind: 'strings', default: [] },
            max_peer_latency_ms: { kind: 'number', default: 10 },
            probe_timeout_ms: { kind: 'number', default: 1000 },
            supported_os: { kind: 'strings', default: [] },
          },
        },
      },
    },
    container_runtime: {
      kind: 'object',
      fields: {
        type: { kind: 'string', default: 'docker', options: ['docker', 'containerd'] },
        logs: { kind: 'object', fields: { driver: str('json-file'), opts: { kind: 'stringMap', default: { 'max-size': '50m', 'max-file': '1' } } } },
        storage: { kind: 'object', fields: { driver: str('overlay2'), opts: { kind: 'stringMap', default: {} } } },
        registry_mirrors: { kind: 'strings', default: [] },
        insecure_registries: { kind: 'strings', default: [] },
        version: str(), // default by type: DEFAULT_CONTAINERD_VERSION for containerd
        mtu: { kind: 'int', default: 0, min: 0 },
      },
    },
    etcd: { kind: 'object', fields: GROUP_FIELDS },
    master: {
      kind: 'object',
      fields: {
        ...GROUP_FIELDS,
        load_balancer: str(),
        load_balanced_fqdn: str(),
        load_balanced_short_name: str(),
        // A Go duration in whole seconds; checked by the apiserver-shutdown-delay check.
        apiserver_shutdown_delay: str(`${APISERVER_SHUTDOWN_DELAY_S}s`),
      },
    },
    worker: { kind: 'object', fields: GROUP_FIELDS },
  },
};

/** Every field path of the schema ("cluster.networking.type", "etcd.nodes[].host"), for docs and tests. */
export function schemaPaths(spec: FieldSpec = PLAN_SCHEMA, prefix = ''): string[] {
  if (spec.kind === 'object') {
    return Object.entries(spec.fields).flatMap(([k, f]) => {
      const p = prefix ? `${prefix}.${k}` : k;
      return [p, ...schemaPaths(f, p)];
    });
  }
  if (spec.kind === 'list') return schemaPaths(spec.of, `${prefix}[]`);
  return [];
}
