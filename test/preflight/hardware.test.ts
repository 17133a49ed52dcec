import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hardwareCpuCheck, hardwareMemoryCheck, hardwareDiskCheck } from '../../shared/preflight/checks/hardware.ts';
import type { Check, Finding, PreflightContext } from '../../shared/preflight/index.ts';
import { ctx, GiB, GB } from './fixtures.ts';

interface Row { name: string; check: Check; c: PreflightContext; want: Finding[] }

const rows: Row[] = [
  { name: 'cpu: 4 CPUs pass every role', check: hardwareCpuCheck, c: ctx(['etcd', 'master', 'worker']), want: [] },
  {
    name: 'cpu: production master needs 2',
    check: hardwareCpuCheck,
    c: ctx(['etcd', 'master'], (f) => (f.cpu!.logical_cores = 1)),
    want: [{ severity: 'error', found: '1 logical CPU', required: 'at least 2 (production master)', fix: 'give the machine 2 or more CPUs, or set cluster.preflight.profile: prototyping for a test cluster' }],
  },
  { name: 'cpu: prototyping master passes with 1', check: hardwareCpuCheck, c: ctx(['master'], (f, p) => { f.cpu!.logical_cores = 1; p.cluster.preflight.profile = 'prototyping'; }), want: [] },
  { name: 'cpu: production worker passes with 1', check: hardwareCpuCheck, c: ctx(['worker'], (f) => (f.cpu!.logical_cores = 1)), want: [] },
  {
    name: 'cpu: slow cores warn',
    check: hardwareCpuCheck,
    c: ctx(['worker'], (f) => (f.cpu!.speed_mhz = 1500)),
    want: [{ severity: 'warning', found: 'CPU speed 1500 MHz (Intel Xeon)', required: '2000 MHz or faster', fix: 'use faster cores; avoid burstable or oversubscribed VMs for cluster nodes' }],
  },
  { name: 'cpu: unknown speed (0) does not warn', check: hardwareCpuCheck, c: ctx(['worker'], (f) => (f.cpu!.speed_mhz = 0)), want: [] },
  {
    name: 'cpu: not reported',
    check: hardwareCpuCheck,
    c: ctx(['worker'], (f) => (f.cpu = null)),
    want: [{ severity: 'error', found: 'no cpu facts reported by the node', required: 'cpu facts from muster-agent', fix: 'check that muster-agent runs on the node and can read /proc, /sys and /etc/os-release (see its log)' }],
  },
  { name: 'memory: 8 GiB pass', check: hardwareMemoryCheck, c: ctx(['master']), want: [] },
  { name: 'memory: 1.9 GiB (a 2 GiB VM) passes for a master', check: hardwareMemoryCheck, c: ctx(['master'], (f) => (f.memory!.total_bytes = 1.9 * GiB)), want: [] },
  {
    name: 'memory: max over roles (etcd 1 GiB, master 2 GiB)',
    check: hardwareMemoryCheck,
    c: ctx(['etcd', 'master'], (f) => (f.memory!.total_bytes = 1 * GiB)),
    want: [{ severity: 'error', found: '1 GiB of RAM', required: 'at least 2 GiB (production master)', fix: 'give the machine 2 GiB of RAM or more, or set cluster.preflight.profile: prototyping for a test cluster' }],
  },
  {
    name: 'memory: tied roles are both named; prototyping has no profile hint',
    check: hardwareMemoryCheck,
    c: ctx(['etcd', 'worker'], (f, p) => { f.memory!.total_bytes = 0.5 * GiB; p.cluster.preflight.profile = 'prototyping'; }),
    want: [{ severity: 'error', found: '0.5 GiB of RAM', required: 'at least 1 GiB (prototyping etcd/worker)', fix: 'give the machine 1 GiB of RAM or more' }],
  },
  { name: 'disk: 250 GB /var/lib passes a production worker', check: hardwareDiskCheck, c: ctx(['worker']), want: [] },
  {
    name: 'disk: production worker needs 200 GB on the /var/lib filesystem',
    check: hardwareDiskCheck,
    c: ctx(['worker'], (f) => (f.disks!.filesystems[1]!.size_bytes = 100 * GB)),
    want: [{ severity: 'error', found: '100 GB on /var/lib (the filesystem holding /var/lib)', required: 'at least 200 GB (production worker)', fix: 'grow /var/lib or mount a larger volume on /var/lib, or set cluster.preflight.profile: prototyping for a test cluster' }],
  },
  { name: 'disk: prototyping needs 8 GB', check: hardwareDiskCheck, c: ctx(['worker'], (f, p) => { f.disks!.filesystems[1]!.size_bytes = 8 * GB; p.cluster.preflight.profile = 'prototyping'; }), want: [] },
  {
    name: 'disk: without var_lib_mount the longest mount prefix of /var/lib is used',
    check: hardwareDiskCheck,
    c: ctx(['etcd'], (f) => { f.disks!.var_lib_mount = ''; f.disks!.filesystems = [{ mount: '/', device: 'sda1', type: 'ext4', size_bytes: 30 * GB, free_bytes: 0 }, { mount: '/var', device: 'sdb1', type: 'ext4', size_bytes: 40 * GB, free_bytes: 0 }, { mount: '/var/library', device: 'sdc1', type: 'ext4', size_bytes: 900 * GB, free_bytes: 0 }]; }),
    want: [{ severity: 'error', found: '40 GB on /var (the filesystem holding /var/lib)', required: 'at least 50 GB (production etcd)', fix: 'grow /var or mount a larger volume on /var/lib, or set cluster.preflight.profile: prototyping for a test cluster' }],
  },
  {
    name: 'disk: no filesystem holds /var/lib',
    check: hardwareDiskCheck,
    c: ctx(['etcd'], (f) => { f.disks!.var_lib_mount = ''; f.disks!.filesystems = []; }),
    want: [{ severity: 'error', found: 'no filesystem reported for /var/lib', required: 'a filesystem of at least 50 GB holding /var/lib', fix: 'check the agent\'s disk facts (df /var/lib on the node)' }],
  },
];

for (const r of rows) {
  test(r.name, () => {
    assert.equal(r.check.run(r.c), r.want);
  });
}

test.run();
