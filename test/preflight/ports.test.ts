import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { portsFreeCheck } from '../../shared/preflight/checks/ports.ts';
import { portsForRoles, processMatches } from '../../shared/preflight/role-ports.ts';
import type { Finding } from '../../shared/preflight/index.ts';
import type { Role } from '../../shared/constants.ts';
import type { ListeningPort__Output } from '../../proto/gen/types/muster/v1/ListeningPort.ts';
import { ctx } from './fixtures.ts';

const L = (port: number, process: string, pid = 0, address = '0.0.0.0', protocol = 'tcp'): ListeningPort__Output => ({ protocol, address, port, process, pid });

const rows: Array<[string, Role[], ListeningPort__Output[], Finding[], ('routed' | 'overlay')?]> = [
  ['nothing listening', ['etcd', 'master', 'worker'], [], []],
  ['ssh on 22 is not a role port', ['master'], [L(22, 'sshd')], []],
  ['etcd holding 2379 and 2380 passes (re-run)', ['etcd'], [L(2379, 'etcd', 10), L(2380, 'etcd', 10)], []],
  ['comm truncated to 15 characters matches', ['master'], [L(10257, 'kube-controller', 42, '127.0.0.1')], []],
  ['nginx on 6443 fails for a master', ['master'], [L(6443, 'nginx', 812)],
    [{ severity: 'error', found: 'TCP port 6443 in use by nginx (pid 812) on 0.0.0.0', required: 'port 6443 free for kube-apiserver', fix: 'stop nginx or move it to another port' }]],
  ['6443 is not a worker port', ['worker'], [L(6443, 'nginx', 812)], []],
  ['unknown holder of the kubelet port', ['worker'], [L(10250, '', 0, '::')],
    [{ severity: 'error', found: 'TCP port 10250 in use by an unknown process on ::', required: 'port 10250 free for kubelet API', fix: 'find the holder with "ss -ltnp \'sport = :10250\'" and stop it or move it to another port' }]],
  ['a UDP socket on a TCP port does not count', ['etcd'], [L(2379, 'dnsmasq', 5, '0.0.0.0', 'udp')], []],
  ['kube-apiserver on 2379 is wrong for etcd', ['etcd'], [L(2379, 'kube-apiserver', 9)],
    [{ severity: 'error', found: 'TCP port 2379 in use by kube-apiserver (pid 9) on 0.0.0.0', required: 'port 2379 free for etcd client', fix: 'stop kube-apiserver or move it to another port' }]],
  ['BGP port only with routed networking (overlay)', ['worker'], [L(179, 'bgpd', 3)], []],
  ['BGP port only with routed networking (routed)', ['worker'], [L(179, 'bgpd', 3)],
    [{ severity: 'error', found: 'TCP port 179 in use by bgpd (pid 3) on 0.0.0.0', required: 'port 179 free for BGP (routed Calico)', fix: 'stop bgpd or move it to another port' }], 'routed'],
];

for (const [name, roles, listening, want, networking] of rows) {
  test(name, () => {
    const c = ctx(roles, (f, p) => { f.ports = { listening }; if (networking) p.cluster.networking.type = networking; });
    assert.equal(portsFreeCheck.run(c), want);
  });
}

test('portsForRoles: union without duplicates', () => {
  assert.equal(portsForRoles(['etcd'], 'overlay').map((p) => p.port), [2379, 2380, 10248], 'an etcd-only member: etcd and its standalone kubelet\'s healthz');
  assert.equal(portsForRoles(['master', 'worker'], 'overlay').map((p) => p.port), [6443, 10250, 10248, 10256, 10249, 10257, 10259]);
  assert.equal(portsForRoles(['worker'], 'routed').map((p) => p.port), [10250, 10248, 10256, 10249, 179]);
});

test('processMatches', () => {
  assert.ok(processMatches('kube-scheduler', 'kube-scheduler'));
  assert.ok(processMatches('kube-controller', 'kube-controller-manager'));
  assert.not.ok(processMatches('kube-', 'kube-apiserver'));
});

test.run();
