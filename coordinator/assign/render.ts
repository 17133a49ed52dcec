// Rendering the Assignment body of each node that holds a role. Every object is built with its
// keys in sorted order and every list sorted, so JSON.stringify of a body is canonical and the
// lead can compare it byte for byte. Parts common to all nodes are shared and frozen.
import { NODE_ROLE_LABELS, PORTS, type Role } from '../../shared/constants.ts';
import type { Plan, PlanTaint } from '../../shared/plan/types.ts';
import type { EtcdMember__Output } from '../../proto/gen/types/muster/v1/EtcdMember.ts';
import type { HostEntry__Output } from '../../proto/gen/types/muster/v1/HostEntry.ts';
import type { Networking__Output } from '../../proto/gen/types/muster/v1/Networking.ts';
import type { Taint__Output } from '../../proto/gen/types/muster/v1/Taint.ts';
import type { NodeSettings__Output } from '../../proto/gen/types/muster/v1/NodeSettings.ts';
import type { AssignmentBody, RegisteredNode } from './types.ts';
import type { NamedEntry } from './match.ts';
import { firstServiceAddress } from './cidr.ts';
import { compareAddresses, compareText, hostPort } from './order.ts';

export interface RenderInput {
  plan: Plan;
  /** Nodes holding at least one role, in name order. */
  nodes: readonly RegisteredNode[];
  roles: ReadonlyMap<string, readonly Role[]>;
  /** Node name -> pod block (only nodes that hold one). */
  blocks: ReadonlyMap<string, string>;
  /** Node name -> the plan entries that name it. */
  entries: ReadonlyMap<string, readonly NamedEntry[]>;
}

/** The address other nodes use for this node: the plan's internal_ip, else its ip, else the primary address. */
export function nodeIp(n: RegisteredNode, entries: readonly NamedEntry[]): string {
  return entries.find((e) => e.entry.internal_ip)?.entry.internal_ip || entries.find((e) => e.entry.ip)?.entry.ip || n.addresses[0] || '';
}

export function renderAssignments({ plan, nodes, roles, blocks, entries }: RenderInput): { assignments: Map<string, AssignmentBody>; problems: string[] } {
  const problems: string[] = [];
  const ip = new Map(nodes.map((n) => [n.name, nodeIp(n, entries.get(n.name) ?? [])]));
  const holding = (r: Role) => nodes.filter((n) => roles.get(n.name)!.includes(r));

  const net = plan.cluster.networking;
  const apiServiceIp = firstServiceAddress(net.service_cidr_block);
  if (!apiServiceIp) problems.push(`cluster.networking.service_cidr_block "${net.service_cidr_block}" has no first service address: fix the plan`);
  const networking: Networking__Output = Object.freeze({
    api_service_ip: apiServiceIp,
    bgp_as_number: net.bgp_as_number,
    cluster_domain: net.cluster_domain,
    dns_service_ip: net.dns_service_ip,
    http_proxy: net.http_proxy,
    https_proxy: net.https_proxy,
    network_policy: net.network_policy,
    no_proxy: net.no_proxy,
    pod_block_size: net.pod_block_size,
    pod_cidr_block: net.pod_cidr_block,
    service_cidr_block: net.service_cidr_block,
    type: net.type,
    update_hosts_files: net.update_hosts_files,
  });

  const rt = plan.container_runtime;
  const sorted = (l: readonly string[]) => [...l].sort(compareText);
  const settings: NodeSettings__Output = Object.freeze({
    apiserver_shutdown_delay: plan.master.apiserver_shutdown_delay,
    calico_image_repository: plan.cluster.images.calico,
    kubernetes_image_repository: plan.cluster.images.kubernetes,
    overlay_mode: net.overlay_mode,
    proxy_mode: net.proxy_mode,
    runtime: Object.freeze({
      insecure_registries: sorted(rt.insecure_registries),
      log_driver: rt.logs.driver,
      log_opts: sortedRecord(new Map(Object.entries(rt.logs.opts))),
      mtu: rt.mtu,
      // Mirrors keep the plan's order: the runtime tries them in turn.
      registry_mirrors: [...rt.registry_mirrors],
      storage_driver: rt.storage.driver,
      storage_opts: sortedRecord(new Map(Object.entries(rt.storage.opts))),
      type: rt.type,
      version: rt.version,
    }),
  });

  const etcdMembers = Object.freeze(
    holding('etcd').map((n): EtcdMember__Output => Object.freeze({
      client_url: `https://${hostPort(ip.get(n.name)!, PORTS.etcdClient)}`,
      name: n.name,
      peer_url: `https://${hostPort(ip.get(n.name)!, PORTS.etcdPeer)}`,
    })),
  ) as EtcdMember__Output[];

  const masters = holding('master');
  const m = plan.master;
  let elsewhere = '';
  if (m.load_balancer) elsewhere = m.load_balancer;
  else if (m.load_balanced_fqdn) elsewhere = hostPort(m.load_balanced_fqdn, PORTS.apiserver);
  else if (masters.length >= 1) {
    elsewhere = hostPort(ip.get(masters[0]!.name)!, PORTS.apiserver);
    if (masters.length > 1) problems.push(`${masters.length} masters but neither master.load_balancer nor master.load_balanced_fqdn is set: other nodes use ${masters[0]!.name} alone; set a load balancer in the plan`);
  } // with no master yet, other nodes get "" (groupProblems reports the missing master)

  const hostsEntries = Object.freeze(
    net.update_hosts_files
      ? nodes
          .map((n): HostEntry__Output => Object.freeze({ ip: ip.get(n.name)!, names: Object.freeze([...new Set([n.name, n.hostname].filter(Boolean))]) as string[] }))
          .sort((a, b) => compareAddresses(a.ip, b.ip) || compareText(a.names[0] ?? '', b.names[0] ?? ''))
      : [],
  ) as HostEntry__Output[];

  const assignments = new Map<string, AssignmentBody>();
  for (const n of nodes) {
    const held = roles.get(n.name)!;
    const isMaster = held.includes('master');
    const isWorker = held.includes('worker');
    const mine = (entries.get(n.name) ?? []).filter((e) => held.includes(e.role));
    const labels = new Map<string, string>();
    for (const e of mine) for (const [k, v] of Object.entries(e.entry.labels)) labels.set(k, v);
    if (isMaster) labels.set(NODE_ROLE_LABELS.controlPlane, '');
    if (isWorker) labels.set(NODE_ROLE_LABELS.node, '');
    const taints: PlanTaint[] = mine.flatMap((e) => e.entry.taints);
    if (isMaster && !isWorker) taints.push({ key: NODE_ROLE_LABELS.controlPlane, value: '', effect: 'NoSchedule' });
    assignments.set(n.name, {
      api_server_endpoint: isMaster ? hostPort('127.0.0.1', PORTS.apiserver) : elsewhere,
      cluster_name: plan.cluster.name,
      container_runtime: plan.container_runtime.type,
      etcd_members: etcdMembers,
      hosts_entries: hostsEntries,
      kubernetes_version: plan.cluster.version,
      labels: sortedRecord(labels),
      networking,
      node_ip: ip.get(n.name)!,
      node_name: n.name,
      pod_cidr: isMaster || isWorker ? (blocks.get(n.name) ?? '') : '',
      roles: [...held],
      settings,
      taints: sortTaints(taints),
    });
  }
  return { assignments, problems };
}

/** fromEntries defines own properties, so even a key like "__proto__" stays a plain label. */
function sortedRecord(m: ReadonlyMap<string, string>): Record<string, string> {
  return Object.fromEntries([...m].sort((a, b) => compareText(a[0], b[0])));
}

/** Deduplicated and sorted by key, effect, value. */
function sortTaints(taints: readonly PlanTaint[]): Taint__Output[] {
  const seen = new Map<string, Taint__Output>();
  for (const t of taints) seen.set(`${t.key}\u0000${t.effect}\u0000${t.value}`, { effect: t.effect, key: t.key, value: t.value ?? '' });
  return [...seen.values()].sort((a, b) => compareText(a.key, b.key) || compareText(a.effect, b.effect) || compareText(a.value, b.value));
}
