// Kismatic plans: recognised, validated with muster's rules at the Kismatic file's positions and
// names, and converted with a list of what was left out.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePlan, formatProblem } from '../../shared/plan/index.ts';

const EXAMPLE = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'kismatic-cluster.yaml'), 'utf8');

const KISMATIC = [
  'cluster:', //                                   1
  '  name: kubernetes', //                         2
  '  networking:', //                              3
  '    pod_cidr_block: 172.16.0.0/16', //          4
  '    service_cidr_block: 172.20.0.0/16', //      5
  '  certificates: { expiry: 17520h, ca_expiry: 17520h }', // 6
  '  ssh: { user: kismaticuser, ssh_key: k.key, ssh_port: 22 }', // 7
  'docker:', //                                    8
  '  logs: { driver: json-file, opts: [max-size] }', // 9
  'add_ons:', //                                   10
  '  cni: { provider: calico, options: { calico: { mode: bgp } } }', // 11
  'etcd:', //                                      12
  '  expected_count: 1', //                        13
  '  nodes:', //                                   14
  '  - { host: etcd01, ip: 10.0.0.2, internalip: 10.1.0.2 }', // 15
  'master:', //                                    16
  '  expected_count: 1', //                        17
  '  nodes:', //                                   18
  '  - { host: master01, ip: 10.0.0.3, internalip: 10.1.0.2 }', // 19
  'worker:', //                                    20
  '  expected_count: 1', //                        21
  '  nodes:', //                                   22
  '  - { host: worker01, ip: 10.0.0.4, internalIP: 10.1.0.4 }', // 23
  'dockr: {}', //                                  24
].join('\n');

test('a Kismatic plan is recognised, and valid as it is but for its Kubernetes version', () => {
  const r = parsePlan(EXAMPLE, 'kismatic-cluster.yaml');
  assert.is(r.format, 'kismatic');
  assert.equal(r.problems.map((p) => p.rule), ['kismatic-format', 'version-supported']);
  assert.is(formatProblem(r.problems[1]!), 'kismatic-cluster.yaml:6:12: error: cluster.version: Kubernetes v1.10.5 is not supported: muster supports v1.34 to v1.36 (write a release from v1.34 to v1.36, such as v1.36.3) [version-supported]');
  assert.is(r.plan, null, 'an unsupported version is an error');
  const supported = parsePlan(EXAMPLE.replace('version: v1.10.5', 'version: v1.35.1'), 'kismatic-cluster.yaml');
  assert.equal(supported.problems.map((p) => p.rule), ['kismatic-format']);
  const plan = supported.plan;
  assert.ok(plan);
  assert.is(plan.cluster.networking.service_cidr_block, '172.20.0.0/16');
  assert.is(plan.cluster.networking.type, 'overlay');
  assert.is(plan.etcd.nodes[0]?.internal_ip, '10.0.42.2');
  assert.equal(plan.container_runtime.logs.opts, { 'max-file': '1', 'max-size': '50m' });
  assert.equal(plan.worker.nodes[1]?.taints, [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }]);
  assert.is(plan.master.load_balanced_fqdn, 'kubernetes.example.com');
});

test('problems in a Kismatic plan name Kismatic fields at Kismatic positions', () => {
  const r = parsePlan(KISMATIC, 'k.yaml');
  assert.is(r.format, 'kismatic');
  assert.equal(r.problems.filter((p) => p.severity === 'error').map(formatProblem), [
    'k.yaml:9:30: error: docker.logs.opts: must be a mapping of names to strings, not a list (write one "name: value" per line below it) [type]',
    'k.yaml:11:55: error: add_ons.cni.options.calico.mode: must be one of overlay, routed, not "bgp" (use "overlay" or "routed") [type]',
    'k.yaml:19:49: error: master.nodes[0].internalip: 10.1.0.2 is also the address of node "etcd01" (etcd.nodes[0], line 15) (give each node its own address) [duplicate-node]',
    'k.yaml:23:37: error: worker.nodes[0].internalIP: unknown field "internalIP"; did you mean "internalip"? (rename it to "internalip") [unknown-field]',
    'k.yaml:24:1: error: dockr: unknown field "dockr"; did you mean "docker"? (rename it to "docker") [unknown-field]',
  ]);
});

test('what a conversion leaves out, with reasons, and never a secret', () => {
  const r = parsePlan(EXAMPLE, 'kismatic-cluster.yaml');
  assert.equal(r.dropped?.map((d) => `${d.line} ${d.path}`), [
    '7 cluster.admin_password', '20 cluster.ssh', '53 add_ons.dns', '55 add_ons.heapster', '60 add_ons.dashboard', '102 ingress',
  ]);
  const ssh = r.dropped?.find((d) => d.path === 'cluster.ssh');
  assert.match(ssh?.reason ?? '', 'never connects to nodes over SSH');
  assert.not.match(JSON.stringify(r), 'change-me');
});

test('a muster plan is not taken for a Kismatic one', () => {
  const r = parsePlan('cluster: { name: a }\ndocker: {}\netcd: { expected_count: 1, pool: {} }\nmaster: { expected_count: 1, pool: {} }\nworker: { expected_count: 1, pool: {} }\n', 'm.yaml');
  assert.is(r.format, 'muster');
  assert.equal(r.problems.filter((p) => p.rule === 'unknown-field').map((p) => p.path), ['docker']);
});

test.run();
