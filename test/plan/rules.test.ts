// One row per plan rule, valid and invalid: the plan text (built from a valid base so the lines
// are visible), and every problem of that rule exactly as `muster plan validate` prints it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan, formatProblem, planExitCode, PLAN_CHECKS } from '../../shared/plan/index.ts';
import { withCluster as C, withGroups as G, GROUPS, VALID } from './rows.ts';

const [E, M, W] = GROUPS as [string, string, string];
const ROWS: { rule: string; text: string; expect: string[] }[] = [
  { rule: 'yaml', text: 'cluster:\n  name: [prod\n', expect: [
    "p.yaml:3:1: error: Flow sequence in block collection must be sufficiently indented and end with a ] (fix the YAML syntax at this position) [yaml]",
  ] },
  { rule: 'yaml', text: 'cluster: { name: a }\ncluster: { name: b }\n', expect: [
    "p.yaml:2:1: error: Map keys must be unique (fix the YAML syntax at this position) [yaml]",
  ] },
  { rule: 'unknown-field', text: C('  netwrking: {}'), expect: [
    "p.yaml:3:3: error: cluster.netwrking: unknown field \"netwrking\"; did you mean \"networking\"? (rename it to \"networking\") [unknown-field]",
  ] },
  { rule: 'unknown-field', text: C('  networking:', '    tpye: routed'), expect: [
    "p.yaml:4:5: error: cluster.networking.tpye: unknown field \"tpye\"; did you mean \"type\"? (rename it to \"type\") [unknown-field]",
  ] },
  { rule: 'unknown-field', text: G(E, M, W, 'workers: {}'), expect: [
    "p.yaml:5:1: error: workers: unknown field \"workers\"; did you mean \"worker\"? (rename it to \"worker\") [unknown-field]",
  ] },
  { rule: 'unknown-field', text: G(E, M, 'worker:', '  expected_count: 1', '  nodes:', '    - { host: w1, internalip: 10.0.0.1 }'), expect: [
    "p.yaml:7:19: error: worker.nodes[0].internalip: unknown field \"internalip\"; did you mean \"internal_ip\"? (rename it to \"internal_ip\") [unknown-field]",
  ] },
  { rule: 'type', text: C('  networking:', '    network_policy: "yes"'), expect: [
    "p.yaml:4:21: error: cluster.networking.network_policy: must be true or false, not the string \"yes\" (write true or false without quotes) [type]",
  ] },
  { rule: 'type', text: C('  networking:', '    type: bgp'), expect: [
    "p.yaml:4:11: error: cluster.networking.type: must be one of overlay, routed, not \"bgp\" (use \"overlay\" or \"routed\") [type]",
  ] },
  { rule: 'type', text: G(E, M, 'worker: { expected_count: three, pool: {} }'), expect: [
    "p.yaml:4:27: error: worker.expected_count: must be a whole number >= 0, not the string \"three\" (write a number without quotes) [type]",
  ] },
  { rule: 'type', text: G(E, M, 'worker: { expected_count: 3, pool: { min_memory: 4 gigs } }'), expect: [
    "p.yaml:4:50: error: worker.pool.min_memory: must be a size like 4GiB, not the string \"4 gigs\" (write a number and a unit, e.g. 4GiB: KiB, MiB, GiB, TiB, KB, MB, GB or TB) [type]",
  ] },
  { rule: 'type', text: '- just a list\n', expect: [
    "p.yaml:1:1: error: must be a mapping, not a list (write the fields of this section indented below it) [type]",
  ] },
  { rule: 'required', text: G(...GROUPS).replace('name: prod', 'name: ""'), expect: [
    "p.yaml:1:18: error: cluster.name: is required (name the cluster, e.g. \"name: production\") [required]",
  ] },
  { rule: 'required', text: GROUPS.join('\n') + '\n', expect: [
    "p.yaml: error: cluster.name: is required (name the cluster, e.g. \"name: production\") [required]",
  ] },
  { rule: 'version', text: C('  version: 1.36.3'), expect: [
    "p.yaml:3:12: error: cluster.version: \"1.36.3\" is not a Kubernetes version of the form vX.Y.Z (write v1.36.3) [version]",
  ] },
  { rule: 'version', text: C('  version: v1.31'), expect: [
    "p.yaml:3:12: error: cluster.version: \"v1.31\" is not a Kubernetes version of the form vX.Y.Z (write a full release such as v1.36.3) [version]",
  ] },
  { rule: 'version', text: C('  version: v1.36.0-rc.1'), expect: [] },
  { rule: 'version', text: C('  version: v1.34.0'), expect: [] },
  { rule: 'version-supported', text: C('  version: v1.5.0'), expect: [
    "p.yaml:3:12: error: cluster.version: Kubernetes v1.5.0 is not supported: muster supports v1.34 to v1.36 (write a release from v1.34 to v1.36, such as v1.36.3) [version-supported]",
  ] },
  { rule: 'version-supported', text: C('  version: v1.99.0'), expect: [
    "p.yaml:3:12: error: cluster.version: Kubernetes v1.99.0 is not supported: muster supports v1.34 to v1.36 (write a release from v1.34 to v1.36, such as v1.36.3) [version-supported]",
  ] },
  { rule: 'version-supported', text: C('  version: v1.33.9'), expect: [
    "p.yaml:3:12: error: cluster.version: Kubernetes v1.33.9 is not supported: muster supports v1.34 to v1.36 (write a release from v1.34 to v1.36, such as v1.36.3) [version-supported]",
  ] },
  { rule: 'cidr', text: C('  networking:', '    pod_cidr_block: ""'), expect: [
    "p.yaml:4:21: error: cluster.networking.pod_cidr_block: the pod CIDR block is empty (set a CIDR block such as 172.16.0.0/16) [cidr]",
  ] },
  { rule: 'cidr', text: C('  networking:', '    service_cidr_block: 172.17.0.0/33'), expect: [
    "p.yaml:4:25: error: cluster.networking.service_cidr_block: \"172.17.0.0/33\" is not a CIDR block (write an address and a prefix length, e.g. 172.17.0.0/16) [cidr]",
  ] },
  { rule: 'cidr', text: C('  networking:', '    pod_cidr_block: 10.1.2.3/16'), expect: [
    "p.yaml:4:21: warning: cluster.networking.pod_cidr_block: \"10.1.2.3/16\" has host bits set; it means 10.1.0.0/16 (write 10.1.0.0/16) [cidr]",
  ] },
  { rule: 'cidr', text: C('  networking:', '    service_cidr_block: 10.0.0.0/8'), expect: [
    "p.yaml:4:25: error: cluster.networking.service_cidr_block: 10.0.0.0/8 is too large: Kubernetes allows at most 2^20 service addresses (use a /12 or smaller block, e.g. 172.17.0.0/16) [cidr]",
  ] },
  { rule: 'cidr', text: C('  networking:', '    service_cidr_block: fd00::/112'), expect: [
    "p.yaml:4:25: error: cluster.networking.service_cidr_block: the service CIDR is IPv6 but the pod CIDR is IPv4 (use the same address family for both; dual stack is not supported) [cidr]",
  ] },
  { rule: 'cidr-overlap', text: C('  networking:', '    pod_cidr_block: 172.16.0.0/12'), expect: [
    "p.yaml:4:21: error: cluster.networking.pod_cidr_block: 172.16.0.0/12 overlaps the service CIDR 172.17.0.0/16 (choose pod and service ranges that do not overlap, e.g. 172.16.0.0/16 and 172.17.0.0/16) [cidr-overlap]",
  ] },
  { rule: 'cidr-overlap', text: G(E, M, 'worker:', '  expected_count: 1', '  nodes:', '    - { host: w1, ip: 172.16.5.1 }'), expect: [
    "p.yaml:7:23: error: worker.nodes[0].ip: 172.16.5.1 (node w1) lies inside the pod CIDR 172.16.0.0/16 (choose a pod CIDR that does not contain node addresses) [cidr-overlap]",
  ] },
  { rule: 'cidr-overlap', text: G(E, M, 'worker:', '  expected_count: 1', '  nodes:', '    - { host: w1, ip: 10.0.0.5, internal_ip: 172.17.0.9 }'), expect: [
    "p.yaml:7:46: error: worker.nodes[0].internal_ip: 172.17.0.9 (node w1) lies inside the service CIDR 172.17.0.0/16 (choose a service CIDR that does not contain node addresses) [cidr-overlap]",
  ] },
  { rule: 'pod-cidr-size', text: C('  networking:', '    pod_cidr_block: 172.16.0.0/24'), expect: [
    "p.yaml:4:21: error: cluster.networking.pod_cidr_block: 172.16.0.0/24 has 256 addresses, but 5 nodes (2 masters + 3 workers) need 5 x 64 = 320 (use a /23 or larger block, or a smaller pod_block_size) [pod-cidr-size]",
  ] },
  { rule: 'pod-cidr-size', text: C('  networking:', '    pod_cidr_block: 172.16.0.0/24', '    pod_block_size: 32'), expect: [] },
  { rule: 'pod-block-size', text: C('  networking:', '    pod_block_size: 100'), expect: [
    "p.yaml:4:21: error: cluster.networking.pod_block_size: 100 is not a power of two; nodes take pod addresses in aligned blocks (use 64 or 128; 64 is a /26 per node) [pod-block-size]",
  ] },
  { rule: 'dns-service-ip', text: C('  networking:', '    dns_service_ip: 10.96.0.10'), expect: [
    "p.yaml:4:21: error: cluster.networking.dns_service_ip: 10.96.0.10 is outside the service CIDR 172.17.0.0/16 (use an address inside 172.17.0.0/16 such as 172.17.0.10) [dns-service-ip]",
  ] },
  { rule: 'dns-service-ip', text: C('  networking:', '    dns_service_ip: 172.17.0.1'), expect: [
    "p.yaml:4:21: error: cluster.networking.dns_service_ip: 172.17.0.1 is the API server\'s service address (the first address of 172.17.0.0/16) (use an address inside 172.17.0.0/16 such as 172.17.0.10) [dns-service-ip]",
  ] },
  { rule: 'dns-service-ip', text: C('  networking:', '    dns_service_ip: dns'), expect: [
    "p.yaml:4:21: error: cluster.networking.dns_service_ip: \"dns\" is not an IP address (use an address inside 172.17.0.0/16 such as 172.17.0.10) [dns-service-ip]",
  ] },
  { rule: 'dns-service-ip', text: C('  networking:', '    service_cidr_block: 10.96.0.0/12'), expect: [] },
  { rule: 'bgp-as', text: C('  networking:', '    bgp_as_number: 0'), expect: [
    "p.yaml:4:20: error: cluster.networking.bgp_as_number: 0 is not an AS number (1-4294967295) (use a private AS number, 64512-65534 or 4200000000-4294967294) [bgp-as]",
  ] },
  { rule: 'bgp-as', text: C('  networking:', '    type: routed'), expect: [
    "p.yaml:3:3: warning: cluster.networking.bgp_as_number: 64511 (the default, from the Kismatic seed) is in the documentation range of RFC 5398, not meant for real networks (use a private AS number, 64512-65534 such as 64512, or the one your network team assigns) [bgp-as]",
  ] },
  { rule: 'bgp-as', text: C('  networking:', '    type: routed', '    bgp_as_number: 64500'), expect: [
    "p.yaml:5:20: warning: cluster.networking.bgp_as_number: 64500 is in the documentation range of RFC 5398, not meant for real networks (use a private AS number, 64512-65534 such as 64512, or the one your network team assigns) [bgp-as]",
  ] },
  { rule: 'bgp-as', text: C('  networking:', '    type: routed', '    bgp_as_number: 64512'), expect: [] },
  { rule: 'bgp-as', text: C('  networking:', '    bgp_as_number: 64511'), expect: [] },
  { rule: 'etcd-count', text: G('etcd: { expected_count: 2, pool: {} }', M, W), expect: [
    "p.yaml:2:25: error: etcd.expected_count: 2 etcd nodes is not an odd number: it survives no more failures than 1 and slows every write (use 1 or 3; muster supports 1, 3, 5 or 7) [etcd-count]",
  ] },
  { rule: 'etcd-count', text: G('etcd: { expected_count: 9, pool: {} }', M, W), expect: [
    "p.yaml:2:25: error: etcd.expected_count: 9 etcd nodes is more than 7: more members slow every write (use 3, 5 or 7) [etcd-count]",
  ] },
  { rule: 'etcd-count', text: G('etcd: { expected_count: 1, pool: {} }', M, W), expect: [
    "p.yaml:2:25: warning: etcd.expected_count: 1 etcd node is unsafe, development only: losing it loses all cluster data (use 3 etcd nodes to survive one failure) [etcd-count]",
  ] },
  { rule: 'etcd-count', text: G(M, W), expect: [
    "p.yaml: error: etcd.expected_count: the cluster has no etcd nodes (set etcd.expected_count to 3, or 1 for development, and name the nodes or add a pool) [etcd-count]",
  ] },
  { rule: 'etcd-count', text: G('etcd: { expected_count: 5, pool: {} }', M, W), expect: [] },
  { rule: 'master-count', text: G(E, W), expect: [
    "p.yaml: error: master.expected_count: the cluster has no master node (set master.expected_count to 2, or 1 for development, and name the nodes or add a pool) [master-count]",
  ] },
  { rule: 'master-count', text: G(E, 'master: { expected_count: 1, pool: {} }', W), expect: [
    "p.yaml:3:27: warning: master.expected_count: 1 master is unsafe, development only: the cluster cannot be managed while it is down (use 2 masters and a load balancer) [master-count]",
  ] },
  { rule: 'load-balancer', text: G(E, 'master: { expected_count: 2, pool: {} }', W), expect: [
    "p.yaml:3:1: error: master.load_balancer: 2 masters need a load-balanced address for the API server (set master.load_balancer to host:port of a load balancer or virtual IP, or master.load_balanced_fqdn to a DNS name that resolves to all masters) [load-balancer]",
  ] },
  { rule: 'load-balancer', text: G(E, 'master: { expected_count: 3, load_balanced_fqdn: k8s.example.com, pool: {} }', W), expect: [] },
  { rule: 'load-balancer', text: G(E, 'master: { expected_count: 2, load_balancer: "k8s.example.com", pool: {} }', W), expect: [
    "p.yaml:3:45: error: master.load_balancer: \"k8s.example.com\" is not host:port (write host:port of the load balancer or virtual IP, e.g. k8s.example.com:6443 or 10.0.0.10:6443) [load-balancer]",
  ] },
  { rule: 'load-balancer', text: G(E, 'master: { expected_count: 2, load_balancer: "[fd00::1]:6443", pool: {} }', W), expect: [] },
  { rule: 'expected-count', text: G(E, M, 'worker:', '  expected_count: 3', '  nodes:', '    - { host: w1 }'), expect: [
    "p.yaml:5:19: error: worker.expected_count: expected_count is 3 but 1 node is listed in worker.nodes (list 2 more nodes, set expected_count to 1, or add a pool to fill the rest from registering nodes) [expected-count]",
  ] },
  { rule: 'expected-count', text: G(E, M, 'worker:', '  nodes:', '    - { host: w1 }', '    - { host: w2 }'), expect: [] },
  { rule: 'pool-count', text: G(E, M, 'worker:', '  pool: {}'), expect: [
    "p.yaml:5:3: error: worker.pool: a pool needs worker.expected_count: how many nodes the group should have in all (set worker.expected_count) [pool-count]",
  ] },
  { rule: 'pool-count', text: G(E, M, 'worker:', '  expected_count: 1', '  nodes:', '    - { host: w1 }', '    - { host: w2 }', '  pool: {}'), expect: [
    "p.yaml:5:19: error: worker.expected_count: expected_count is 1, fewer than the 2 nodes listed in worker.nodes (set expected_count to at least 2) [pool-count]",
  ] },
  { rule: 'pool-count', text: G(E, M, 'worker:', '  expected_count: 2', '  nodes:', '    - { host: w1 }', '    - { host: w2 }', '  pool: {}'), expect: [
    "p.yaml:9:3: warning: worker.pool: the pool is never used: the 2 listed nodes already make expected_count 2 (raise worker.expected_count above 2 or remove the pool) [pool-count]",
  ] },
  { rule: 'pool-count', text: G(E, M, 'worker:', '  expected_count: 3', '  nodes:', '    - { host: w1 }', '  pool: {}'), expect: [] },
  { rule: 'node-host', text: G(E, M, 'worker:', '  expected_count: 2', '  nodes:', '    - { ip: 10.0.0.1 }', '    - { host: "web_1" }'), expect: [
    "p.yaml:7:7: error: worker.nodes[0].host: is required: the hostname the node\'s agent registers with (add \"host: <hostname>\" to this node) [node-host]",
    "p.yaml:8:15: error: worker.nodes[1].host: \"web_1\" must be a lowercase RFC 1123 hostname (letters, digits, \"-\" and \".\") (use the node\'s hostname as `hostname` prints it) [node-host]",
  ] },
  { rule: 'node-host', text: G(E, M, 'worker:', '  expected_count: 1', '  nodes:', '    - { host: Web1 }'), expect: [
    "p.yaml:7:15: warning: worker.nodes[0].host: \"Web1\" has capitals; Kubernetes names the node \"web1\" (write \"web1\") [node-host]",
  ] },
  { rule: 'ip', text: G(E, M, 'worker:', '  expected_count: 1', '  nodes:', '    - { host: w1, ip: 10.0.0.256, internal_ip: fd00::1 }'), expect: [
    "p.yaml:7:23: error: worker.nodes[0].ip: \"10.0.0.256\" is not an IP address (write an IPv4 or IPv6 address, e.g. 10.0.0.11, or leave it out to use what the agent reports) [ip]",
  ] },
  { rule: 'duplicate-node', text: G('etcd:', '  expected_count: 1', '  nodes:', '    - { host: n1, ip: 10.0.0.1 }', 'master:', '  expected_count: 1', '  nodes:', '    - { host: n1, ip: 10.0.0.1 }', W), expect: [] },
  { rule: 'duplicate-node', text: G('etcd:', '  expected_count: 1', '  nodes:', '    - { host: n1, ip: 10.0.0.1 }', 'master:', '  expected_count: 1', '  nodes:', '    - { host: n1, ip: 10.0.0.2 }', W), expect: [
    "p.yaml:9:15: error: master.nodes[0].host: host \"n1\" has ip 10.0.0.2 / internal_ip 10.0.0.2 here but 10.0.0.1 / 10.0.0.1 in etcd.nodes[0], line 5 (a node listed in several groups must have the same addresses everywhere; two different machines need two different hosts) [duplicate-node]",
  ] },
  { rule: 'duplicate-node', text: G(E, M, 'worker:', '  expected_count: 2', '  nodes:', '    - { host: w1, ip: 10.0.0.1 }', '    - { host: w2, internal_ip: 10.0.0.1 }'), expect: [
    "p.yaml:8:32: error: worker.nodes[1].internal_ip: 10.0.0.1 is also the address of node \"w1\" (worker.nodes[0], line 7) (give each node its own address) [duplicate-node]",
  ] },
  { rule: 'duplicate-node', text: G(E, M, 'worker:', '  expected_count: 2', '  nodes:', '    - { host: w1 }', '    - { host: W1 }'), expect: [
    "p.yaml:8:15: error: worker.nodes[1].host: host \"W1\" is listed twice in worker (also worker.nodes[0], line 7) (remove one of the two entries) [duplicate-node]",
  ] },
  { rule: 'label', text: G(E, M, 'worker:', '  expected_count: 1', '  nodes:', '    - host: w1', '      labels: { "example.com/gpu": "true", "-bad": x, "a/b/c": y, "Example.com/x": z, ok: "not ok" }'), expect: [
    "p.yaml:8:52: error: worker.nodes[0].labels[\"-bad\"]: label key \"-bad\": name part \"-bad\" must be 63 characters or less, start and end with a letter or digit, and contain only letters, digits, \"-\", \"_\" and \".\" (use a key like \"example.com/gpu\" or \"gpu\") [label]",
    "p.yaml:8:64: error: worker.nodes[0].labels[\"a/b/c\"]: label key \"a/b/c\": may contain at most one \"/\" (prefix/name) (use a key like \"example.com/gpu\" or \"gpu\") [label]",
    "p.yaml:8:84: error: worker.nodes[0].labels[\"Example.com/x\"]: label key \"Example.com/x\": prefix \"Example.com\" must be a lowercase DNS subdomain (e.g. example.com) (use a key like \"example.com/gpu\" or \"gpu\") [label]",
    "p.yaml:8:91: error: worker.nodes[0].labels.ok: label value \"not ok\" must be 63 characters or less, start and end with a letter or digit, and contain only letters, digits, \"-\", \"_\" and \".\", or be empty (use at most 63 letters, digits, \"-\", \"_\" or \".\"; quote values like \"true\") [label]",
  ] },
  { rule: 'label', text: G(E, M, 'worker: { expected_count: 3, pool: { selector: { "disk": "ssd" } } }'), expect: [] },
  { rule: 'label', text: G(E, M, 'worker: { expected_count: 3, pool: { selector: { "disk type": "ssd" } } }'), expect: [
    "p.yaml:4:63: error: worker.pool.selector[\"disk type\"]: label key \"disk type\": name part \"disk type\" must be 63 characters or less, start and end with a letter or digit, and contain only letters, digits, \"-\", \"_\" and \".\" (use a key like \"example.com/gpu\" or \"gpu\") [label]",
  ] },
  { rule: 'taint', text: G(E, M, 'worker:', '  expected_count: 1', '  nodes:', '    - host: w1', '      taints:', '        - { key: dedicated, value: gpu, effect: NoSchedule }', '        - { key: "bad key", value: x, effect: NoRun }', '        - { value: y }', '        - { key: dedicated, value: other, effect: NoSchedule }'), expect: [
    "p.yaml:10:18: error: worker.nodes[0].taints[1].key: taint key \"bad key\": name part \"bad key\" must be 63 characters or less, start and end with a letter or digit, and contain only letters, digits, \"-\", \"_\" and \".\" (use a key like \"example.com/dedicated\" or \"dedicated\") [taint]",
    "p.yaml:10:47: error: worker.nodes[0].taints[1].effect: taint effect \"NoRun\" is not one of NoSchedule, PreferNoSchedule, NoExecute (use NoSchedule, PreferNoSchedule or NoExecute) [taint]",
    "p.yaml:11:11: error: worker.nodes[0].taints[2].key: taint key is required (add \"key: <name>\", e.g. key: dedicated) [taint]",
    "p.yaml:11:11: error: worker.nodes[0].taints[2].effect: taint effect is required (use NoSchedule, PreferNoSchedule or NoExecute) [taint]",
    "p.yaml:12:11: error: worker.nodes[0].taints[3]: taint dedicated:NoSchedule is listed twice on this node (remove one; Kubernetes allows one taint per key and effect) [taint]",
  ] },
  { rule: 'duration', text: C('  certificates:', '    expiry: 2y', '    ca_expiry: 8760h30m'), expect: [
    "p.yaml:4:13: error: cluster.certificates.expiry: \"2y\" is not a duration (write hours and minutes like 17520h for 2 years, or 8760h30m) [duration]",
  ] },
  { rule: 'duration', text: C('  certificates:', '    expiry: "-5h"'), expect: [
    "p.yaml:4:13: error: cluster.certificates.expiry: \"-5h\" is not a positive duration (write a lifetime such as 17520h for 2 years) [duration]",
  ] },
  { rule: 'cert-expiry', text: C('  certificates:', '    expiry: 17520h', '    ca_expiry: 8760h'), expect: [
    "p.yaml:4:13: error: cluster.certificates.expiry: certificates would outlive their CA: expiry 17520h (730 days) is longer than ca_expiry 8760h (365 days, line 5) (shorten expiry or lengthen ca_expiry to at least 17520h) [cert-expiry]",
  ] },
  { rule: 'cert-expiry', text: C('  certificates:', '    expiry: 8760h', '    ca_expiry: 8760h'), expect: [] },
  { rule: 'container-runtime', text: G('container_runtime: { type: containerd, version: "1.6" }', ...GROUPS), expect: [
    'p.yaml:2:49: error: container_runtime.version: containerd "1.6" is not a release line muster renders a configuration for (write 2.1 (config.toml version 3) or 1.7 (version 2), or leave it out for 2.1) [container-runtime]',
  ] },
  { rule: 'container-runtime', text: G('container_runtime: { type: containerd, version: "1.7" }', ...GROUPS), expect: [] },
  { rule: 'container-runtime', text: G('container_runtime: { type: containerd }', ...GROUPS), expect: [] },
  { rule: 'container-runtime', text: G('container_runtime: { type: docker, version: "2.1", insecure_registries: [http://reg:5000] }', ...GROUPS), expect: [
    'p.yaml:2:45: warning: container_runtime.version: version "2.1" is ignored for docker (it picks containerd\'s config schema) (remove container_runtime.version) [container-runtime]',
    'p.yaml:2:74: error: container_runtime.insecure_registries[0]: "http://reg:5000" is not a registry host[:port] (write it without a scheme, e.g. registry.local:5000) [container-runtime]',
  ] },
  { rule: 'images', text: C('  images: { kubernetes: "https://registry.local" }'), expect: [
    'p.yaml:3:25: error: cluster.images.kubernetes: "https://registry.local" is not an image repository (host[:port][/path]) (write e.g. registry.k8s.io or your mirror, without https://) [images]',
  ] },
  { rule: 'images', text: C('  images: { kubernetes: registry.local:5000/k8s }'), expect: [
    'p.yaml:3:3: warning: cluster.images.calico: the kubernetes images come from registry.local:5000/k8s, but the calico images still from the public quay.io/calico (set cluster.images.calico to your mirror too if nodes cannot reach quay.io/calico) [images]',
  ] },
  { rule: 'images', text: C('  images: { kubernetes: registry.local:5000/k8s, calico: registry.local:5000/calico }'), expect: [] },
  // Values that would reach a node's files raw (test/render/redteam.test.ts has the renderers' side).
  { rule: 'text', text: C('  networking:', '    http_proxy: "http://proxy:3128\\nExecStartPre=/bin/sh"'), expect: [
    "p.yaml:4:17: error: cluster.networking.http_proxy: the value contains the control character U+000A (at 17) (write one line of printable text; quote the value and remove the escape) [text]",
  ] },
  { rule: 'text', text: C('  networking:', '    pod_cidr_block: "172.16.0.0/16 "'), expect: [
    "p.yaml:4:21: error: cluster.networking.pod_cidr_block: the value \"172.16.0.0/16 \" has white space at its start or end (write \"172.16.0.0/16\") [text]",
  ] },
  { rule: 'cluster-domain', text: C('  networking:', '    cluster_domain: "cluster.local %h"'), expect: [
    "p.yaml:4:21: error: cluster.networking.cluster_domain: \"cluster.local %h\" is not a lowercase DNS name (write a domain such as cluster.local) [cluster-domain]",
  ] },
  { rule: 'proxy', text: C('  networking:', '    https_proxy: "proxy:3128"', '    no_proxy: "localhost,.svc,10.0.0.0/8,a b"'), expect: [
    "p.yaml:4:18: error: cluster.networking.https_proxy: \"proxy:3128\" is not a proxy URL (write http://proxy.example.com:3128 (http, https or socks5; no spaces or quotes)) [proxy]",
    "p.yaml:5:15: error: cluster.networking.no_proxy: \"a b\" is not a no_proxy entry (write host names, .domains, IP addresses or CIDRs separated by commas, e.g. localhost,.svc,10.0.0.0/8) [proxy]",
  ] },
  { rule: 'extra-sans', text: C('  certificates:', '    apiserver_cert_extra_sans: [k8s.example.com, "*.k8s.example.com", 203.0.113.10, "%H.x"]'), expect: [
    "p.yaml:4:85: error: cluster.certificates.apiserver_cert_extra_sans[3]: \"%H.x\" is neither an IP address nor a DNS name (write an address such as 10.0.0.10 or a name such as k8s.example.com) [extra-sans]",
  ] },
  { rule: 'container-runtime', text: G('container_runtime: { insecure_registries: ["reg.local/../../../systemd/system"], registry_mirrors: ["ftp://m", "https://m.local:5000/x"] }', ...GROUPS), expect: [
    "p.yaml:2:44: error: container_runtime.insecure_registries[0]: \"reg.local/../../../systemd/system\" is not a registry host[:port] (write it without a scheme, e.g. registry.local:5000) [container-runtime]",
    "p.yaml:2:101: error: container_runtime.registry_mirrors[0]: \"ftp://m\" has the scheme ftp, not http or https (write the URL of a Docker Hub mirror, e.g. https://mirror.local:5000) [container-runtime]",
  ] },
  { rule: 'container-runtime', text: G('container_runtime: { logs: { driver: "json file", opts: { "max size": 50m } } }', ...GROUPS), expect: [
    "p.yaml:2:38: error: container_runtime.logs.driver: \"json file\" is not a driver name (use letters, digits, \".\", \"_\" and \"-\", e.g. json-file) [container-runtime]",
    "p.yaml:2:71: error: container_runtime.logs.opts[\"max size\"]: \"max size\" is not an option name (use letters, digits, \".\", \"_\" and \"-\", e.g. max-size) [container-runtime]",
  ] },
  { rule: 'images', text: C('  images: { kubernetes: "registry.local/../k8s", calico: registry.local/calico }'), expect: [
    "p.yaml:3:25: error: cluster.images.kubernetes: \"registry.local/../k8s\" is not an image repository (host[:port][/path]) (write e.g. registry.k8s.io or your mirror, without https://) [images]",
  ] },
  { rule: 'ip', text: G(E, M, 'worker: { expected_count: 1, nodes: [{ host: w1, ip: "fe80::1%m" }] }'), expect: [
    "p.yaml:4:54: error: worker.nodes[0].ip: \"fe80::1%m\" has an IPv6 zone (write the address without \"%zone\"; use a global or unique-local IPv6 address) [ip]",
  ] },
  { rule: 'load-balancer', text: G(E, 'master: { expected_count: 2, load_balancer: "10.0.0.10:6443", load_balanced_short_name: "k8s_lb", pool: {} }', W), expect: [
    "p.yaml:3:89: error: master.load_balanced_short_name: \"k8s_lb\" is not a DNS name (write a short host name such as k8s) [load-balancer]",
  ] },
  { rule: 'apiserver-shutdown-delay', text: G(E, 'master: { expected_count: 2, load_balancer: "10.0.0.10:6443", apiserver_shutdown_delay: "1.5s", pool: {} }', W), expect: [
    "p.yaml:3:89: error: master.apiserver_shutdown_delay: \"1.5s\" is not a duration in whole seconds (write seconds or minutes such as 15s, 30s or 2m) [apiserver-shutdown-delay]",
  ] },
  { rule: 'apiserver-shutdown-delay', text: G(E, 'master: { expected_count: 2, load_balancer: "10.0.0.10:6443", apiserver_shutdown_delay: 30, pool: {} }', W), expect: [
    "p.yaml:3:89: error: master.apiserver_shutdown_delay: \"30\" is not a duration in whole seconds (give the unit: 30s) [apiserver-shutdown-delay]",
  ] },
  { rule: 'apiserver-shutdown-delay', text: G(E, 'master: { expected_count: 2, load_balancer: "10.0.0.10:6443", apiserver_shutdown_delay: "-5s", pool: {} }', W), expect: [
    "p.yaml:3:89: error: master.apiserver_shutdown_delay: \"-5s\" is negative (write 0s for no delay, or a delay such as 30s) [apiserver-shutdown-delay]",
  ] },
  { rule: 'apiserver-shutdown-delay', text: G(E, 'master: { expected_count: 2, load_balancer: "10.0.0.10:6443", apiserver_shutdown_delay: 11m, pool: {} }', W), expect: [
    "p.yaml:3:89: error: master.apiserver_shutdown_delay: \"11m\" is longer than 10 minutes: every API server restart (upgrade, certificate renewal, CA rotation) would keep that master out of rotation this long (set it a little above the load balancer's health-check interval times the failures that mark a server down, e.g. 15s (HAProxy's defaults) or 35s (AWS NLB: 10s x 3)) [apiserver-shutdown-delay]",
  ] },
  { rule: 'apiserver-shutdown-delay', text: G(E, 'master: { expected_count: 2, load_balancer: "10.0.0.10:6443", apiserver_shutdown_delay: 0s, pool: {} }', W), expect: [
    "p.yaml:3:89: warning: master.apiserver_shutdown_delay: no shutdown delay behind a load balancer: a restarting API server stops listening while the balancer still sends it requests, and they fail (set it a little above the load balancer's health-check interval times the failures that mark a server down, e.g. 15s (HAProxy's defaults) or 35s (AWS NLB: 10s x 3)) [apiserver-shutdown-delay]",
  ] },
  { rule: 'apiserver-shutdown-delay', text: G(E, 'master: { expected_count: 2, load_balancer: "10.0.0.10:6443", apiserver_shutdown_delay: 35s, pool: {} }', W), expect: [] },
  { rule: 'apiserver-shutdown-delay', text: G(E, 'master: { expected_count: 2, load_balancer: "10.0.0.10:6443", apiserver_shutdown_delay: 10m, pool: {} }', W), expect: [] },
  { rule: 'apiserver-shutdown-delay', text: G('etcd: { expected_count: 1, pool: {} }', 'master: { expected_count: 1, apiserver_shutdown_delay: 0s, pool: {} }', W), expect: [] },
];

test('the base plan is valid and has no problems', () => {
  const r = parsePlan(VALID, 'p.yaml');
  assert.equal(r.problems.map(formatProblem), []);
  assert.ok(r.plan);
});

for (const [i, row] of ROWS.entries()) {
  test(`${row.rule} #${i}: ${row.expect.length ? `${row.expect.length} problem(s)` : 'valid'}`, () => {
    const r = parsePlan(row.text, 'p.yaml');
    assert.equal(r.problems.filter((p) => p.rule === row.rule).map(formatProblem), row.expect);
    // A plan is returned exactly when nothing at all is an error.
    assert.is(r.plan === null, r.problems.some((p) => p.severity === 'error'));
  });
}

test('every check has at least one failing row', () => {
  const covered = new Set(ROWS.filter((r) => r.expect.length).map((r) => r.rule));
  const missing = PLAN_CHECKS.map((c) => c.name).filter((n) => n !== 'kismatic-format' && !covered.has(n));
  assert.equal(missing, []);
});

test('all problems are reported at once, in file order', () => {
  const text = C('  version: "1.31"', '  networking:', '    pod_block_size: 3', '  certificates:', '    expiry: soon');
  const r = parsePlan(text, 'p.yaml');
  assert.equal(r.problems.map((p) => `${p.line}:${p.column} ${p.rule}`), ['3:12 version', '5:21 pod-block-size', '7:13 duration']);
  assert.is(planExitCode(r.problems), 1);
});

test('exit code: 2 for unparsable YAML, 1 for errors, 0 with only warnings', () => {
  assert.is(planExitCode(parsePlan('a: [\n', 'p.yaml').problems), 2);
  assert.is(planExitCode(parsePlan(G(...GROUPS.slice(1)), 'p.yaml').problems), 1);
  assert.is(planExitCode(parsePlan(G('etcd: { expected_count: 1, pool: {} }', ...GROUPS.slice(1)), 'p.yaml').problems), 0);
});

test.run();
