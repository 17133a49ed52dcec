// Kubernetes upgrades one minor at a time and never goes back: control-plane components support
// a skew of one minor between them, and etcd's data and stored API objects only move forward.
import { defineChangeCheck, running, count } from './check.ts';
import { compareVersions, parseKubernetesVersion } from '../../../shared/plan/k8s-version.ts';
import { listNames } from '../order.ts';

export const versionDowngradeCheck = defineChangeCheck('version-downgrade', (ctx, refuse) => {
  const nodes = running(ctx);
  const [from, to] = [parseKubernetesVersion(ctx.old.cluster.version), parseKubernetesVersion(ctx.next.cluster.version)];
  if (!nodes.length || !from || !to || compareVersions(to, from) >= 0) return;
  refuse('cluster.version', nodes, `cluster.version: ${ctx.old.cluster.version} -> ${ctx.next.cluster.version} is a downgrade of a running cluster (${count(nodes.length)}: ${listNames(nodes)}); Kubernetes does not support going back (etcd data and stored objects stay newer): keep ${ctx.old.cluster.version}, or restore from a backup, or use --force`);
});

export const versionSkewCheck = defineChangeCheck('version-skew', (ctx, refuse) => {
  const nodes = running(ctx);
  const [from, to] = [parseKubernetesVersion(ctx.old.cluster.version), parseKubernetesVersion(ctx.next.cluster.version)];
  if (!nodes.length || !from || !to || compareVersions(to, from) <= 0) return;
  if (to.major === from.major && to.minor - from.minor <= 1) return;
  const next = `v${from.major}.${from.minor + 1}`;
  refuse('cluster.version', nodes, `cluster.version: ${ctx.old.cluster.version} -> ${ctx.next.cluster.version} skips ${to.major === from.major ? `${to.minor - from.minor - 1} minor release${to.minor - from.minor - 1 === 1 ? '' : 's'}` : 'a major release'} on a running cluster (${count(nodes.length)}: ${listNames(nodes)}); Kubernetes upgrades one minor at a time: apply a ${next} release first and let every node apply it, or use --force`);
});
