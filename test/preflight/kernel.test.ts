import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { swapCheck, ipForwardCheck, brNetfilterCheck } from '../../shared/preflight/checks/kernel.ts';
import type { Check, Finding, PreflightContext } from '../../shared/preflight/index.ts';
import { ctx, GiB } from './fixtures.ts';

interface Row { name: string; check: Check; c: PreflightContext; want: Finding[] }
const BR = 'net.bridge.bridge-nf-call-iptables';

const rows: Row[] = [
  { name: 'swap off passes', check: swapCheck, c: ctx(['worker']), want: [] },
  {
    name: 'swap on fails, not fixable by the agent',
    check: swapCheck,
    c: ctx(['worker'], (f) => { f.memory!.swap_total_bytes = 2 * GiB; f.memory!.swap_used_bytes = 0.25 * GiB; }),
    want: [{ severity: 'error', found: 'swap on (2 GiB, 0.3 GiB used)', required: 'swap off', fix: 'run "swapoff -a" and remove the swap entries from /etc/fstab (and any systemd swap units)' }],
  },
  { name: 'ip_forward 1 passes', check: ipForwardCheck, c: ctx(['master']), want: [] },
  {
    name: 'ip_forward 0 fails, fixable by the agent',
    check: ipForwardCheck,
    c: ctx(['master'], (f) => (f.kernel!.sysctls['net.ipv4.ip_forward'] = '0')),
    want: [{ severity: 'error', found: 'net.ipv4.ip_forward = 0', required: 'net.ipv4.ip_forward = 1', fix: 'run "sysctl -w net.ipv4.ip_forward=1" and persist it in /etc/sysctl.d/99-kubernetes.conf', fixableByAgent: true }],
  },
  {
    name: 'ip_forward missing',
    check: ipForwardCheck,
    c: ctx(['master'], (f) => delete f.kernel!.sysctls['net.ipv4.ip_forward']),
    want: [{ severity: 'error', found: 'net.ipv4.ip_forward not reported', required: 'net.ipv4.ip_forward = 1', fix: 'run "sysctl -w net.ipv4.ip_forward=1" and persist it in /etc/sysctl.d/99-kubernetes.conf', fixableByAgent: true }],
  },
  { name: 'br_netfilter loaded and sysctl 1 passes', check: brNetfilterCheck, c: ctx(['worker']), want: [] },
  { name: 'br_netfilter built in (sysctl present, module not listed) passes', check: brNetfilterCheck, c: ctx(['worker'], (f) => (f.kernel!.modules_loaded = [])), want: [] },
  {
    name: 'br_netfilter not loaded',
    check: brNetfilterCheck,
    c: ctx(['worker'], (f) => { f.kernel!.modules_loaded = ['overlay']; delete f.kernel!.sysctls[BR]; }),
    want: [{ severity: 'error', found: 'kernel module br_netfilter not loaded', required: `br_netfilter loaded and ${BR} = 1`, fix: `run "modprobe br_netfilter", add br_netfilter to /etc/modules-load.d/k8s.conf, then "sysctl -w ${BR}=1"`, fixableByAgent: true }],
  },
  {
    name: 'bridge-nf-call-iptables 0',
    check: brNetfilterCheck,
    c: ctx(['worker'], (f) => (f.kernel!.sysctls[BR] = '0')),
    want: [{ severity: 'error', found: `${BR} = 0`, required: `${BR} = 1`, fix: `run "sysctl -w ${BR}=1" and persist it in /etc/sysctl.d/99-kubernetes.conf`, fixableByAgent: true }],
  },
  {
    name: 'kernel facts not reported',
    check: brNetfilterCheck,
    c: ctx(['worker'], (f) => (f.kernel = null)),
    want: [{ severity: 'error', found: 'no kernel facts reported by the node', required: 'kernel facts from muster-agent', fix: 'check that muster-agent runs on the node and can read /proc, /sys and /etc/os-release (see its log)' }],
  },
];

for (const r of rows) test(r.name, () => assert.equal(r.check.run(r.c), r.want));

test.run();
