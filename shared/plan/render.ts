// Renders a Plan as a commented muster-cluster.yaml (for `plan init` and `plan import`). Pure:
// returns text; the caller writes it. Every field is written out with a comment, like the plan
// `kismatic install plan` generated, so the file documents itself; parsing the output gives back
// the same Plan (test/plan/render.test.ts).
import { stringify } from 'yaml';
import type { Plan, NodeGroup, PlanNode, PoolSpec } from './types.ts';
import { formatSize } from './size.ts';

export interface RenderOptions {
  /** Comment lines for the top of the file, without "# ". */
  header?: readonly string[];
  /** Extra comment lines per group, printed above it (e.g. why it is a pool). */
  groupNotes?: Partial<Record<'etcd' | 'master' | 'worker', readonly string[]>>;
}

/** A scalar in block context. */
function q(v: string | number | boolean): string {
  return stringify(v).trimEnd();
}

/** A scalar inside a flow collection, where , [ ] { } must be quoted. */
function qf(v: string): string {
  return /[,[\]{}]/.test(v) ? JSON.stringify(v) : q(v);
}

function flowMap(m: Record<string, string>): string {
  const entries = Object.entries(m);
  return entries.length ? `{ ${entries.map(([k, v]) => `${qf(k)}: ${qf(v)}`).join(', ')} }` : '{}';
}

function flowList(l: readonly string[]): string {
  return l.length ? `[${l.map(qf).join(', ')}]` : '[]';
}

export function renderPlan(plan: Plan, options: RenderOptions = {}): string {
  const out: string[] = [];
  const line = (indent: number, text: string) => out.push(`${' '.repeat(indent)}${text}`);
  const comment = (indent: number, text: string) => line(indent, `# ${text}`);
  const c = plan.cluster;
  const n = c.networking;
  const cert = c.certificates;
  const pf = c.preflight;
  const rt = plan.container_runtime;

  for (const h of options.header ?? []) out.push(h ? `# ${h}` : '#');
  if (options.header?.length) out.push('');
  comment(0, 'muster cluster plan. Every field is described in docs/plan.md; check it with "muster plan validate".');
  line(0, 'cluster:');
  comment(2, 'Name used in kubeconfig files and certificates.');
  line(2, `name: ${q(c.name)}`);
  comment(2, 'Kubernetes release to install (vX.Y.Z).');
  line(2, `version: ${q(c.version)}`);
  out.push('');
  line(2, 'networking:');
  comment(4, 'overlay: IP-in-IP tunnels between nodes, nothing to set up on the network (best for development).');
  comment(4, 'routed: each node routes its pods\' addresses and announces them over BGP (pods reachable from the network).');
  line(4, `type: ${q(n.type)}`);
  comment(4, 'Pods get addresses from this range. It must not overlap node networks, the service range or DHCP pools.');
  line(4, `pod_cidr_block: ${q(n.pod_cidr_block)}`);
  comment(4, 'Services get addresses from this range; its first address is the API server\'s service.');
  line(4, `service_cidr_block: ${q(n.service_cidr_block)}`);
  comment(4, 'Pod addresses each master and worker reserves, a power of two (64 = a /26 per node).');
  line(4, `pod_block_size: ${n.pod_block_size}`);
  comment(4, 'AS number announced over BGP (routed networking only). Private ranges: 64512-65534, 4200000000-4294967294.');
  line(4, `bgp_as_number: ${n.bgp_as_number}`);
  comment(4, 'Calico network policy: restrict pod-to-pod traffic to what policies allow.');
  line(4, `network_policy: ${n.network_policy}`);
  comment(4, 'Let every node\'s agent keep /etc/hosts entries for all cluster nodes (when there is no DNS for them).');
  line(4, `update_hosts_files: ${n.update_hosts_files}`);
  comment(4, 'DNS domain of services inside the cluster.');
  line(4, `cluster_domain: ${q(n.cluster_domain)}`);
  comment(4, 'Address of the cluster DNS service, inside the service range (default: its 10th address).');
  line(4, `dns_service_ip: ${q(n.dns_service_ip)}`);
  comment(4, 'Proxies for nodes that reach the internet through one; no_proxy is comma-separated.');
  line(4, `http_proxy: ${q(n.http_proxy)}`);
  line(4, `https_proxy: ${q(n.https_proxy)}`);
  line(4, `no_proxy: ${q(n.no_proxy)}`);
  comment(4, 'kube-proxy mode: iptables, ipvs or nftables.');
  line(4, `proxy_mode: ${q(n.proxy_mode)}`);
  comment(4, 'Encapsulation of overlay networking: ipip or vxlan (vxlan where IP-in-IP is blocked, e.g. some clouds).');
  line(4, `overlay_mode: ${q(n.overlay_mode)}`);
  out.push('');
  line(2, 'images:');
  comment(4, 'Where every image comes from. An air-gapped site names its mirror for both: nothing then comes from a public registry.');
  line(4, `kubernetes: ${q(c.images.kubernetes)}`);
  line(4, `calico: ${q(c.images.calico)}`);
  out.push('');
  line(2, 'certificates:');
  comment(4, 'Lifetime of the certificates muster issues, as a Go duration (17520h = 2 years).');
  line(4, `expiry: ${q(cert.expiry)}`);
  comment(4, 'Lifetime of the cluster CAs (87600h = 10 years); must not be shorter than expiry.');
  line(4, `ca_expiry: ${q(cert.ca_expiry)}`);
  comment(4, 'Subject location of the certificates.');
  line(4, 'location:');
  line(6, `city: ${q(cert.location.city)}`);
  line(6, `state: ${q(cert.location.state)}`);
  line(6, `country: ${q(cert.location.country)}`);
  comment(4, 'Extra DNS names or addresses for the API server certificate.');
  line(4, `apiserver_cert_extra_sans: ${flowList(cert.apiserver_cert_extra_sans)}`);
  out.push('');
  line(2, 'preflight:');
  comment(4, 'Hardware minimums nodes are checked against: production or prototyping.');
  line(4, `profile: ${q(pf.profile)}`);
  comment(4, 'Names of preflight checks whose errors should not block installation.');
  line(4, `ignore: ${flowList(pf.ignore)}`);
  comment(4, 'Highest acceptable network latency between cluster nodes, in milliseconds.');
  line(4, `max_peer_latency_ms: ${pf.max_peer_latency_ms}`);
  comment(4, 'Timeout of each probe connection between nodes (latency, port reachability), in milliseconds.');
  line(4, `probe_timeout_ms: ${pf.probe_timeout_ms}`);
  comment(4, 'Operating systems to accept, as "<id> <version>" prefixes ("ubuntu 24.04"), accepted in addition to muster\'s built-in list.');
  line(4, `supported_os: ${flowList(pf.supported_os)}`);
  out.push('');
  line(0, 'container_runtime:');
  comment(2, 'docker (through cri-dockerd) or containerd.');
  line(2, `type: ${q(rt.type)}`);
  line(2, 'logs:');
  line(4, `driver: ${q(rt.logs.driver)}`);
  line(4, `opts: ${flowMap(rt.logs.opts)}`);
  line(2, 'storage:');
  line(4, `driver: ${q(rt.storage.driver)}`);
  line(4, `opts: ${flowMap(rt.storage.opts)}`);
  comment(2, 'Mirrors of Docker Hub, e.g. https://mirror.example.com.');
  line(2, `registry_mirrors: ${flowList(rt.registry_mirrors)}`);
  comment(2, 'Registries reached over plain HTTP or with a certificate the nodes do not trust (host:port).');
  line(2, `insecure_registries: ${flowList(rt.insecure_registries)}`);
  comment(2, 'containerd release line (2.1 or 1.7): it picks the config.toml schema. Not used for docker.');
  line(2, `version: ${q(rt.version)}`);
  comment(2, 'MTU of the runtime\'s bridge; 0 keeps the runtime\'s default.');
  line(2, `mtu: ${rt.mtu}`);

  const group = (name: 'etcd' | 'master' | 'worker', g: NodeGroup, about: string, extra: () => void) => {
    out.push('');
    comment(0, about);
    for (const note of options.groupNotes?.[name] ?? []) comment(0, note);
    line(0, `${name}:`);
    comment(2, 'How many nodes the group has in all: the nodes listed below plus those taken from the pool.');
    line(2, `expected_count: ${g.expected_count}`);
    extra();
    renderNodes(g.nodes, line);
    renderPool(g.pool, line, comment);
  };
  group('etcd', plan.etcd, 'etcd stores the cluster\'s data: 1 node (development only), 3, 5 or 7.', () => {});
  group('master', plan.master, 'Masters run the API server, scheduler and controller manager: 1 (development only) or 2 and more.', () => {
    comment(2, 'With 2+ masters: host:port of a load balancer or virtual IP in front of their API servers (port 6443),');
    comment(2, 'or a DNS name that resolves to all of them.');
    line(2, `load_balancer: ${q(plan.master.load_balancer)}`);
    line(2, `load_balanced_fqdn: ${q(plan.master.load_balanced_fqdn)}`);
    line(2, `load_balanced_short_name: ${q(plan.master.load_balanced_short_name)}`);
    comment(2, 'How long a restarting API server serves on while failing /readyz, so the load balancer takes it out');
    comment(2, "first: above the balancer's check interval x failures to mark down (AWS NLB: 35s).");
    line(2, `apiserver_shutdown_delay: ${q(plan.master.apiserver_shutdown_delay)}`);
  });
  group('worker', plan.worker, 'Workers run your pods; add more at any time.', () => {});
  return `${out.join('\n')}\n`;
}

function renderNodes(nodes: readonly PlanNode[], line: (i: number, t: string) => void): void {
  if (!nodes.length) {
    line(2, 'nodes: []');
    return;
  }
  line(2, 'nodes:');
  for (const node of nodes) {
    line(4, `- host: ${q(node.host)}`);
    if (node.ip) line(6, `ip: ${q(node.ip)}`);
    if (node.internal_ip && node.internal_ip !== node.ip) line(6, `internal_ip: ${q(node.internal_ip)}`);
    if (Object.keys(node.labels).length) line(6, `labels: ${flowMap(node.labels)}`);
    if (node.taints.length) {
      line(6, 'taints:');
      for (const t of node.taints) line(8, `- { key: ${qf(t.key)}, value: ${qf(t.value)}, effect: ${t.effect} }`);
    }
  }
}

function renderPool(pool: PoolSpec | null, line: (i: number, t: string) => void, comment: (i: number, t: string) => void): void {
  if (!pool) return;
  comment(2, 'The rest of expected_count is filled from registering nodes that have these labels and at least');
  comment(2, 'these resources (sizes: KiB..TiB or KB..TB). Preflight then checks the profile\'s minimums.');
  line(2, 'pool:');
  line(4, `selector: ${flowMap(pool.selector)}`);
  line(4, `min_cpus: ${pool.min_cpus}`);
  line(4, `min_memory: ${q(formatSize(pool.min_memory_bytes))}`);
  line(4, `min_disk: ${q(formatSize(pool.min_disk_bytes))}`);
}
