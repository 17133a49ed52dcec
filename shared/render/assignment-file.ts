// /etc/muster/assignment.yaml: the node's assignment as YAML, so an operator on the node can see
// what muster decided for it (roles, pod block, peers) without asking the coordinator.
import { stringify } from 'yaml';
import type { AssignmentOut } from '../wire/types.ts';
import type { FileSpec } from './types.ts';
import { NODE_PATHS } from '../constants.ts';
import { hashHeader } from './header.ts';

export function renderAssignmentFile(a: AssignmentOut): FileSpec {
  const doc = {
    node: a.node_name,
    revision: a.revision,
    plan_revision: a.plan_revision,
    cluster: a.cluster_name,
    roles: a.roles,
    kubernetes_version: a.kubernetes_version,
    node_ip: a.node_ip,
    pod_cidr: a.pod_cidr,
    api_server_endpoint: a.api_server_endpoint,
    container_runtime: a.container_runtime,
    networking: a.networking,
    etcd_members: a.etcd_members,
    labels: a.labels,
    taints: a.taints,
    hosts_entries: a.hosts_entries,
  };
  return {
    path: `/${NODE_PATHS.assignmentFile}`,
    mode: 0o644,
    content: `${hashHeader('What the coordinator assigned this node (a description, read by nothing).')}${stringify(doc, { sortMapEntries: false })}`,
  };
}
