// Node rules: every named node has a usable host and valid addresses, no host or address is
// claimed by two different nodes (the same node listed in several groups is fine), and labels
// and taints are ones Kubernetes accepts.
import { defineCheck } from './check.ts';
import type { CheckContext } from './check.ts';
import { GROUP_NAMES } from '../groups.ts';
import { parseIp } from '../cidr.ts';
import { formatPath, parsePath } from '../source.ts';
import { hostnameErrors, labelValueErrors, qualifiedNameErrors } from '../k8s-names.ts';
import type { PlanNode } from '../types.ts';

interface Entry {
  group: string;
  index: number;
  path: string;
  node: PlanNode;
}

function nodes(ctx: CheckContext): Entry[] {
  return GROUP_NAMES.flatMap((group) => ctx.plan[group].nodes.map((node, index) => ({ group, index, path: `${group}.nodes[${index}]`, node })));
}

function at(ctx: CheckContext, path: string): string {
  const { line } = ctx.source.locate(path);
  return line > 0 ? `${ctx.source.display(path)}, line ${line}` : ctx.source.display(path);
}

export const nodeHostCheck = defineCheck('node-host', (ctx, r) => {
  for (const { path, node } of nodes(ctx)) {
    if (!node.host.trim()) {
      r.error(`${path}.host`, 'is required: the hostname the node\'s agent registers with', 'add "host: <hostname>" to this node');
      continue;
    }
    const lower = node.host.toLowerCase();
    const errors = hostnameErrors(lower);
    if (errors.length) r.error(`${path}.host`, `"${node.host}" ${errors[0]}`, 'use the node\'s hostname as `hostname` prints it');
    else if (lower !== node.host) r.warning(`${path}.host`, `"${node.host}" has capitals; Kubernetes names the node "${lower}"`, `write "${lower}"`);
  }
});

export const ipCheck = defineCheck('ip', (ctx, r) => {
  for (const { path, node } of nodes(ctx)) {
    for (const field of ['ip', 'internal_ip'] as const) {
      const value = node[field];
      if (field === 'internal_ip' && value === node.ip) continue; // the default (or the same address): reported as ip
      if (value && !parseIp(value)) r.error(`${path}.${field}`, `"${value}" is not an IP address`, 'write an IPv4 or IPv6 address, e.g. 10.0.0.11, or leave it out to use what the agent reports');
      // A zone ("fe80::1%eth0") means nothing to another node, and "%" is a systemd specifier in the kubelet's unit.
      else if (value.includes('%')) r.error(`${path}.${field}`, `"${value}" has an IPv6 zone`, 'write the address without "%zone"; use a global or unique-local IPv6 address');
    }
  }
});

export const duplicateNodeCheck = defineCheck('duplicate-node', (ctx, r) => {
  const hosts = new Map<string, Entry>();
  const addresses = new Map<string, Entry>();
  for (const e of nodes(ctx)) {
    const host = e.node.host.toLowerCase();
    const prev = host ? hosts.get(host) : undefined;
    if (prev && prev.group === e.group) {
      r.error(`${e.path}.host`, `host "${e.node.host}" is listed twice in ${e.group} (also ${at(ctx, prev.path)})`, 'remove one of the two entries');
    } else if (prev && (prev.node.ip !== e.node.ip || prev.node.internal_ip !== e.node.internal_ip)) {
      r.error(
        `${e.path}.host`,
        `host "${e.node.host}" has ip ${e.node.ip || '(none)'} / internal_ip ${e.node.internal_ip || '(none)'} here but ${prev.node.ip || '(none)'} / ${prev.node.internal_ip || '(none)'} in ${at(ctx, prev.path)}`,
        'a node listed in several groups must have the same addresses everywhere; two different machines need two different hosts',
      );
    } else if (host && !prev) {
      hosts.set(host, e);
    }
    for (const field of ['ip', 'internal_ip'] as const) {
      const addr = e.node[field];
      if (!addr || (field === 'internal_ip' && addr === e.node.ip)) continue;
      const key = parseIp(addr) ? String(parseIp(addr)?.value) : addr;
      const owner = addresses.get(key);
      if (owner && owner.node.host.toLowerCase() !== host) {
        r.error(`${e.path}.${field}`, `${addr} is also the address of node "${owner.node.host}" (${at(ctx, owner.path)})`, 'give each node its own address');
      } else if (!owner) {
        addresses.set(key, e);
      }
    }
  }
});

export const labelCheck = defineCheck('label', (ctx, r) => {
  const check = (path: string, labels: Record<string, string>) => {
    for (const [key, value] of Object.entries(labels)) {
      const p = formatPath([...parsePath(path), key]);
      for (const err of qualifiedNameErrors(key)) r.error(p, `label key "${key}": ${err}`, 'use a key like "example.com/gpu" or "gpu"');
      for (const err of labelValueErrors(value)) r.error(p, `label ${err}`, 'use at most 63 letters, digits, "-", "_" or "."; quote values like "true"');
    }
  };
  for (const { path, node } of nodes(ctx)) check(`${path}.labels`, node.labels);
  for (const g of GROUP_NAMES) {
    const pool = ctx.plan[g].pool;
    if (pool) check(`${g}.pool.selector`, pool.selector);
  }
});

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export const taintCheck = defineCheck('taint', (ctx, r) => {
  for (const { path, node } of nodes(ctx)) {
    const seen = new Set<string>();
    node.taints.forEach((t, i) => {
      const p = `${path}.taints[${i}]`;
      if (!t.key) r.error(`${p}.key`, 'taint key is required', 'add "key: <name>", e.g. key: dedicated');
      else for (const err of qualifiedNameErrors(t.key)) r.error(`${p}.key`, `taint key "${t.key}": ${err}`, 'use a key like "example.com/dedicated" or "dedicated"');
      for (const err of labelValueErrors(t.value)) r.error(`${p}.value`, `taint ${err}`, 'use at most 63 letters, digits, "-", "_" or "."');
      if (!EFFECTS.includes(t.effect)) {
        r.error(`${p}.effect`, t.effect ? `taint effect "${t.effect}" is not one of ${EFFECTS.join(', ')}` : 'taint effect is required', 'use NoSchedule, PreferNoSchedule or NoExecute');
      }
      const id = `${t.key}:${t.effect}`;
      if (seen.has(id)) r.error(p, `taint ${t.key}:${t.effect} is listed twice on this node`, 'remove one; Kubernetes allows one taint per key and effect');
      seen.add(id);
    });
  }
});

