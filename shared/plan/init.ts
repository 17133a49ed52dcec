// The plan `muster plan init` writes, built from its answers (flags or questions). Pure: the
// CLI (coordinator/cli/plan-file.ts) asks, this builds, render.ts writes the text.
import type { Plan, NetworkType, PoolSpec, PlanNode } from './types.ts';
import { defaultPlan, defaultDnsServiceIp } from './compile.ts';
import { SUGGESTED_PRIVATE_AS } from './schema.ts';
import { GROUP_NAMES, type GroupName } from './groups.ts';

export interface HostEntry {
  host: string;
  ip: string;
}

export interface PlanInitAnswers {
  name: string;
  etcd: number;
  master: number;
  worker: number;
  network: NetworkType;
  podCidr: string;
  serviceCidr: string;
  /** "host:port" -> master.load_balancer; a bare DNS name -> master.load_balanced_fqdn. */
  loadBalancer: string;
  expiry: string;
  updateHostsFiles: boolean;
  networkPolicy: boolean;
  /** Nodes to name per group; the rest of the count is a pool. */
  hosts: Record<GroupName, HostEntry[]>;
}

/** The suggestions of Kismatic's planning guide: 3 etcd, 2 masters, 3 workers. */
export const INIT_DEFAULTS: Readonly<PlanInitAnswers> = {
  name: 'kubernetes',
  etcd: 3,
  master: 2,
  worker: 3,
  network: 'overlay',
  podCidr: '172.16.0.0/16',
  serviceCidr: '172.17.0.0/16',
  loadBalancer: '',
  expiry: '17520h',
  updateHostsFiles: false,
  networkPolicy: false,
  hosts: { etcd: [], master: [], worker: [] },
};

const GB = 1e9;
/**
 * What a registering node needs to be picked for a pool in a generated plan: kubeadm's control-
 * plane minimum for masters (2 CPUs, 1700 MB), 1 CPU and 1 GB otherwise, the prototyping disk
 * (8 GB). Deliberately below the production minimums (REFERENCE.md section 1): a pool decides
 * who is a candidate; preflight then reports, by node, what falls short of the profile.
 */
export const POOL_MINIMUMS: Readonly<Record<GroupName, PoolSpec>> = {
  etcd: { selector: {}, min_cpus: 1, min_memory_bytes: 1 * GB, min_disk_bytes: 8 * GB },
  master: { selector: {}, min_cpus: 2, min_memory_bytes: 1.7 * GB, min_disk_bytes: 8 * GB },
  worker: { selector: {}, min_cpus: 1, min_memory_bytes: 1 * GB, min_disk_bytes: 8 * GB },
};

/** "a,b=10.0.0.2" -> [{host:'a', ip:''}, {host:'b', ip:'10.0.0.2'}] */
export function parseHostList(text: string): HostEntry[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const [host = '', ip = ''] = s.split('=');
    return { host: host.trim(), ip: ip.trim() };
  });
}

export function planFromAnswers(a: PlanInitAnswers): Plan {
  const plan = defaultPlan();
  plan.cluster.name = a.name;
  const net = plan.cluster.networking;
  net.type = a.network;
  net.pod_cidr_block = a.podCidr;
  net.service_cidr_block = a.serviceCidr;
  net.dns_service_ip = defaultDnsServiceIp(a.serviceCidr);
  net.update_hosts_files = a.updateHostsFiles;
  net.network_policy = a.networkPolicy;
  if (a.network === 'routed') net.bgp_as_number = SUGGESTED_PRIVATE_AS;
  plan.cluster.certificates.expiry = a.expiry;
  if (/:\d+$/.test(a.loadBalancer)) plan.master.load_balancer = a.loadBalancer;
  else plan.master.load_balanced_fqdn = a.loadBalancer;
  for (const g of GROUP_NAMES) {
    const nodes = a.hosts[g].map((h): PlanNode => ({ host: h.host, ip: h.ip, internal_ip: h.ip, labels: {}, taints: [] }));
    const count = a[g];
    plan[g].expected_count = count;
    plan[g].nodes = nodes;
    plan[g].pool = nodes.length < count ? { ...POOL_MINIMUMS[g], selector: {} } : null;
  }
  return plan;
}
