import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { binariesRequiredCheck, binariesOptionalCheck, containerRuntimeCheck, PREFLIGHT_BINARIES } from '../../shared/preflight/checks/binaries.ts';
import type { Check, Finding, PreflightContext } from '../../shared/preflight/index.ts';
import { ctx, setBinary } from './fixtures.ts';

interface Row { name: string; check: Check; c: PreflightContext; want: Finding[] }

const rows: Row[] = [
  { name: 'required: all present', check: binariesRequiredCheck, c: ctx(['etcd', 'master', 'worker']), want: [] },
  {
    name: 'required: nsenter missing on a worker',
    check: binariesRequiredCheck,
    c: ctx(['worker'], (f) => setBinary(f, 'nsenter', false)),
    want: [{ severity: 'error', found: 'no nsenter on PATH', required: 'nsenter (required by worker)', fix: 'install util-linux' }],
  },
  { name: 'required: an etcd-only node does not need iptables', check: binariesRequiredCheck, c: ctx(['etcd'], (f) => setBinary(f, 'iptables', false)), want: [] },
  {
    name: 'required: names the roles that need it and says when the agent did not report it',
    check: binariesRequiredCheck,
    c: ctx(['etcd', 'master'], (f) => { setBinary(f, 'ip', null); setBinary(f, 'iptables-save', false); }),
    want: [
      { severity: 'error', found: 'no report of ip from the agent', required: 'ip (required by etcd/master)', fix: 'install iproute2 (RHEL: iproute)' },
      { severity: 'error', found: 'no iptables-save on PATH', required: 'iptables-save (required by master)', fix: 'install iptables' },
    ],
  },
  {
    name: 'required: binaries section not reported',
    check: binariesRequiredCheck,
    c: ctx(['worker'], (f) => (f.binaries = null)),
    want: [{ severity: 'error', found: 'no binaries facts reported by the node', required: 'binaries facts from muster-agent', fix: 'check that muster-agent runs on the node and can read /proc, /sys and /etc/os-release (see its log)' }],
  },
  {
    name: 'optional: missing socat and conntrack warn',
    check: binariesOptionalCheck,
    c: ctx(['worker'], (f) => { setBinary(f, 'socat', false); setBinary(f, 'conntrack', false); }),
    want: [
      { severity: 'warning', found: 'no socat on PATH', required: 'socat (used by kubelet and kube-proxy for some features)', fix: 'install socat' },
      { severity: 'warning', found: 'no conntrack on PATH', required: 'conntrack (used by kubelet and kube-proxy for some features)', fix: 'install conntrack (RHEL: conntrack-tools)' },
    ],
  },
  {
    name: 'runtime: docker on 1.31 needs cri-dockerd',
    check: containerRuntimeCheck,
    c: ctx(['worker'], (f) => setBinary(f, 'cri-dockerd', false)),
    want: [{ severity: 'error', found: 'no cri-dockerd on PATH', required: 'cri-dockerd (container runtime docker for Kubernetes v1.36.3)', fix: 'install cri-dockerd (github.com/Mirantis/cri-dockerd)' }],
  },
  { name: 'runtime: docker on 1.23 does not need cri-dockerd', check: containerRuntimeCheck, c: ctx(['worker'], (f, p) => { setBinary(f, 'cri-dockerd', false); p.cluster.version = 'v1.23.17'; }), want: [] },
  {
    name: 'runtime: docker means the daemon, dockerd',
    check: containerRuntimeCheck,
    c: ctx(['worker'], (f, p) => { setBinary(f, 'dockerd', false); p.cluster.version = 'v1.23.17'; }),
    want: [{ severity: 'error', found: 'no dockerd on PATH', required: 'dockerd (container runtime docker for Kubernetes v1.23.17)', fix: 'install docker-ce or docker.io' }],
  },
  { name: 'runtime: containerd does not need docker', check: containerRuntimeCheck, c: ctx(['worker'], (f, p) => { setBinary(f, 'dockerd', false); setBinary(f, 'cri-dockerd', false); p.container_runtime.type = 'containerd'; }), want: [] },
  {
    name: 'runtime: containerd',
    check: containerRuntimeCheck,
    c: ctx(['master'], (f, p) => { setBinary(f, 'containerd', false); setBinary(f, 'dockerd', false); p.container_runtime.type = 'containerd'; }),
    want: [{ severity: 'error', found: 'no containerd on PATH', required: 'containerd (container runtime containerd for Kubernetes v1.36.3)', fix: 'install containerd.io or containerd' }],
  },
];

for (const r of rows) test(r.name, () => assert.equal(r.check.run(r.c), r.want));

test('PREFLIGHT_BINARIES lists every binary a check asks about, once', () => {
  for (const n of ['ip', 'nsenter', 'umount', 'conntrack', 'dockerd', 'cri-dockerd', 'containerd']) assert.ok(PREFLIGHT_BINARIES.includes(n), n);
  assert.is(new Set(PREFLIGHT_BINARIES).size, PREFLIGHT_BINARIES.length);
});

test.run();
