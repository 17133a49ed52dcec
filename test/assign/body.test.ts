// What each node is told: the Assignment body fields.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeAssignments } from '../../coordinator/assign/index.ts';
import type { Plan } from '../../shared/plan/types.ts';
import { input, makePlan, node, planNode, pool } from './helpers.ts';

const registered = [
  node('e1', 1, { addresses: ['10.0.0.11'] }),
  node('m1', 2, { addresses: ['10.0.0.21', '10.1.0.21'] }),
  node('m2', 3, { addresses: ['10.0.0.22'] }),
  node('w1', 4, { addresses: ['10.0.0.31'], hostname: 'w1' }),
];

function plan(master: Partial<Plan['master']> = {}, extra: Parameters<typeof makePlan>[0] = {}): Plan {
  return makePlan({
    ...extra,
    etcd: { expected_count: 1, nodes: [planNode('e1', { ip: '192.0.2.11', internal_ip: '10.0.0.11' })] },
    master: { expected_count: 2, nodes: [planNode('m1', { ip: '192.0.2.21' }), planNode('m2')], pool: null, load_balancer: '', load_balanced_fqdn: '', load_balanced_short_name: '', ...master },
    worker: {
      expected_count: 1,
      nodes: [planNode('w1', { labels: { disk: 'ssd', 'node-role.kubernetes.io/node': 'overridden' }, taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }, { key: 'a', value: '', effect: 'NoSchedule' }] })],
      pool: null,
    },
  });
}

test('a worker body, field by field', () => {
  const out = computeAssignments(input(plan({ load_balancer: 'lb.example:443' }), registered));
  assert.equal(out.assignments.get('w1'), {
    api_server_endpoint: 'lb.example:443',
    cluster_name: 'test',
    container_runtime: 'docker',
    etcd_members: [{ client_url: 'https://10.0.0.11:2379', name: 'e1', peer_url: 'https://10.0.0.11:2380' }],
    hosts_entries: [],
    kubernetes_version: 'v1.36.3',
    labels: { disk: 'ssd', 'node-role.kubernetes.io/node': '' },
    networking: {
      api_service_ip: '172.17.0.1',
      bgp_as_number: 64511,
      cluster_domain: 'cluster.local',
      dns_service_ip: '172.17.0.10',
      http_proxy: '',
      https_proxy: '',
      network_policy: false,
      no_proxy: '',
      pod_block_size: 64,
      pod_cidr_block: '172.16.0.0/16',
      service_cidr_block: '172.17.0.0/16',
      type: 'overlay',
      update_hosts_files: false,
    },
    node_ip: '10.0.0.31',
    node_name: 'w1',
    pod_cidr: '172.16.0.128/26',
    roles: ['worker'],
    settings: {
      apiserver_shutdown_delay: '15s',
      calico_image_repository: 'quay.io/calico',
      kubernetes_image_repository: 'registry.k8s.io',
      overlay_mode: 'ipip',
      proxy_mode: 'iptables',
      runtime: { insecure_registries: [], log_driver: 'json-file', log_opts: {}, mtu: 0, registry_mirrors: [], storage_driver: 'overlay2', storage_opts: {}, type: 'docker', version: '' },
    },
    taints: [{ effect: 'NoSchedule', key: 'a', value: '' }, { effect: 'NoExecute', key: 'dedicated', value: 'db' }],
  });
  assert.equal(out.problems, []);
});

test("the plan's API server shutdown delay reaches every node's settings as written (masters render it)", () => {
  const out = computeAssignments(input(plan({ load_balancer: 'lb.example:443', apiserver_shutdown_delay: '35s' }), registered));
  for (const name of ['m1', 'm2', 'w1']) assert.is(out.assignments.get(name)!.settings!.apiserver_shutdown_delay, '35s', name);
});

test('masters use the local API server, carry the control-plane label and taint', () => {
  const out = computeAssignments(input(plan({ load_balancer: 'lb.example:443' }), registered));
  const m1 = out.assignments.get('m1')!;
  assert.is(m1.api_server_endpoint, '127.0.0.1:6443');
  assert.equal(m1.labels, { 'node-role.kubernetes.io/control-plane': '' });
  assert.equal(m1.taints, [{ effect: 'NoSchedule', key: 'node-role.kubernetes.io/control-plane', value: '' }]);
  assert.is(out.assignments.get('e1')!.api_server_endpoint, 'lb.example:443', 'etcd-only nodes use the load balancer');
});

test('node_ip: the plan internal_ip, else the plan ip, else the primary address', () => {
  const out = computeAssignments(input(plan({ load_balancer: 'lb:6443' }), registered));
  assert.is(out.assignments.get('e1')!.node_ip, '10.0.0.11');
  assert.is(out.assignments.get('m1')!.node_ip, '192.0.2.21');
  assert.is(out.assignments.get('m2')!.node_ip, '10.0.0.22');
});

const endpoints: Array<[string, Partial<Plan['master']>, string[], string, string | null]> = [
  ['load balancer host:port', { load_balancer: 'lb.example:8443', load_balanced_fqdn: 'api.example' }, ['m1', 'm2'], 'lb.example:8443', null],
  ['load-balanced FQDN on 6443', { load_balanced_fqdn: 'api.example' }, ['m1', 'm2'], 'api.example:6443', null],
  ['the single master', { expected_count: 1, nodes: [planNode('m1', { ip: '192.0.2.21' })] }, ['m1'], '192.0.2.21:6443', null],
  ['the first master, reported, with two and no load balancer', {}, ['m1', 'm2'], '192.0.2.21:6443', '2 masters but neither master.load_balancer nor master.load_balanced_fqdn is set: other nodes use m1 alone; set a load balancer in the plan'],
  ['nothing while no master holds the role', { expected_count: 1, nodes: [planNode('nobody')] }, [], '', 'master wants 1 node, 0 hold the role: named node has not registered yet: nobody'],
];
for (const [what, master, masters, want, problem] of endpoints) {
  test(`api_server_endpoint of other nodes: ${what}`, () => {
    const out = computeAssignments(input(plan(master), registered));
    assert.equal([...out.assignments].filter(([, b]) => b.roles.includes('master')).map(([n]) => n), masters);
    assert.is(out.assignments.get('w1')!.api_server_endpoint, want);
    if (problem) assert.ok(out.problems.includes(problem), out.problems.join('\n'));
    else assert.equal(out.problems, []);
  });
}

test('IPv6 node addresses are bracketed in URLs and endpoints', () => {
  const p = makePlan({ etcd: { expected_count: 1, nodes: [planNode('e')] }, master: { expected_count: 1, nodes: [planNode('e')] }, worker: { expected_count: 1, nodes: [planNode('w')] } });
  const out = computeAssignments(input(p, [node('e', 1, { addresses: ['fd00::1'] }), node('w', 2)]));
  assert.is(out.assignments.get('w')!.etcd_members[0]!.client_url, 'https://[fd00::1]:2379');
  assert.is(out.assignments.get('w')!.api_server_endpoint, '[fd00::1]:6443');
});

test('hosts_entries: one per assigned node, sorted by address, name then hostname', () => {
  const p = plan({ load_balancer: 'lb:6443' }, { cluster: { networking: { update_hosts_files: true } } });
  const out = computeAssignments(input(p, [...registered, node('idle', 9, { addresses: ['10.0.0.1'] })]));
  const want = [
    { ip: '10.0.0.11', names: ['e1', 'e1.example'] },
    { ip: '10.0.0.22', names: ['m2', 'm2.example'] },
    { ip: '10.0.0.31', names: ['w1'] },
    { ip: '192.0.2.21', names: ['m1', 'm1.example'] },
  ];
  assert.equal([...out.assignments.keys()].sort(), ['e1', 'm1', 'm2', 'w1'], 'every assigned node is checked below');
  for (const [name, body] of out.assignments) assert.equal(body.hosts_entries, want, name);
  assert.ok(out.waiting.has('idle'), 'a node without a role is not in the hosts entries');
});

test('shared parts of bodies are frozen so one node cannot change another', () => {
  const out = computeAssignments(input(plan({ load_balancer: 'lb:6443' }), registered));
  assert.throws(() => { (out.assignments.get('w1')!.networking as { type: string }).type = 'routed'; });
  assert.throws(() => { out.assignments.get('w1')!.etcd_members.push({ name: 'x', peer_url: '', client_url: '' }); });
  assert.is(out.assignments.get('m1')!.networking.type, 'overlay');
});

test('a pool worker has role labels only and uses the routed networking settings of the plan', () => {
  const p = makePlan({ cluster: { networking: { type: 'routed', bgp_as_number: 64512, network_policy: true, http_proxy: 'http://proxy:3128' } }, master: { expected_count: 1, nodes: [planNode('m')] }, worker: { expected_count: 1, nodes: [], pool: pool() } });
  const w = computeAssignments(input(p, [node('m', 1), node('w', 2)])).assignments.get('w')!;
  assert.equal(w.labels, { 'node-role.kubernetes.io/node': '' });
  assert.equal(w.taints, []);
  assert.is(w.networking.type, 'routed');
  assert.is(w.networking.bgp_as_number, 64512);
  assert.is(w.networking.network_policy, true);
  assert.is(w.networking.http_proxy, 'http://proxy:3128');
  assert.is(w.api_server_endpoint, '10.0.0.2:6443');
});

test.run();
