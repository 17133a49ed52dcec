import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nodeAddressCidrCheck } from '../../shared/preflight/checks/addresses.ts';
import type { Finding } from '../../shared/preflight/index.ts';
import type { NetworkInterface__Output } from '../../proto/gen/types/muster/v1/NetworkInterface.ts';
import { ctx } from './fixtures.ts';

const I = (name: string, ...addresses: string[]): NetworkInterface__Output => ({ name, addresses, mtu: 1500, state: 'up', mac: '' });

const rows: Array<[string, NetworkInterface__Output[], Finding[]]> = [
  ['10.0.0.5/24 is outside both ranges', [I('lo', '127.0.0.1/8'), I('eth0', '10.0.0.5/24', 'fe80::1/64')], []],
  ['an address inside the pod CIDR', [I('eth0', '172.16.4.9/24')], [{
    severity: 'error', found: 'address 172.16.4.9 of eth0 inside pod_cidr_block 172.16.0.0/16', required: 'node addresses outside pod_cidr_block 172.16.0.0/16',
    fix: 'choose a cluster.networking.pod_cidr_block that does not contain the node\'s networks, or renumber eth0',
  }]],
  ['docker0 inside the service CIDR gets the docker hint', [I('eth0', '10.0.0.5/24'), I('docker0', '172.17.0.1/16')], [{
    severity: 'error', found: 'address 172.17.0.1 of docker0 inside service_cidr_block 172.17.0.0/16', required: 'node addresses outside service_cidr_block 172.17.0.0/16',
    fix: 'choose a cluster.networking.service_cidr_block that does not contain the node\'s networks, or renumber docker0 (set "bip" in /etc/docker/daemon.json)',
  }]],
  ['a node network that contains the pod CIDR warns', [I('eth0', '172.20.1.5/12')], [{
    severity: 'warning', found: 'network 172.20.1.5/12 of eth0 overlaps pod_cidr_block 172.16.0.0/16', required: 'node networks disjoint from pod_cidr_block 172.16.0.0/16',
    fix: 'choose a cluster.networking.pod_cidr_block outside the node\'s networks; other hosts on 172.20.1.5/12 may collide with cluster addresses',
  }, {
    severity: 'warning', found: 'network 172.20.1.5/12 of eth0 overlaps service_cidr_block 172.17.0.0/16', required: 'node networks disjoint from service_cidr_block 172.17.0.0/16',
    fix: 'choose a cluster.networking.service_cidr_block outside the node\'s networks; other hosts on 172.20.1.5/12 may collide with cluster addresses',
  }]],
  ['IPv6 and bare addresses are judged too (an IPv6 node is never inside IPv4 ranges)', [I('eth0', 'fd00::5/64', '10.0.0.5'), I('eth1', '172.17.3.3')], [{
    severity: 'error', found: 'address 172.17.3.3 of eth1 inside service_cidr_block 172.17.0.0/16', required: 'node addresses outside service_cidr_block 172.17.0.0/16',
    fix: 'choose a cluster.networking.service_cidr_block that does not contain the node\'s networks, or renumber eth1',
  }]],
  ['interfaces made by cluster networking are skipped (re-run on an installed node)', [I('eth0', '10.0.0.5/24'), I('tunl0', '172.16.3.1/32'), I('kube-ipvs0', '172.17.0.1/32'), I('cali12ab', '172.16.3.7/32')], []],
];

for (const [name, interfaces, want] of rows) {
  test(name, () => {
    const c = ctx(['worker'], (f) => (f.network!.interfaces = interfaces));
    assert.equal(nodeAddressCidrCheck.run(c), want);
  });
}

test.run();
