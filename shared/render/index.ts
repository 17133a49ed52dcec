// Every file a node gets for its assignment. Pure: same input, same files. The catalogue of
// renderers below is the whole list; each is one component's files (renderer.ts).
import type { FileSpec } from './types.ts';
import { compileContext, type RenderInput } from './context.ts';
import { defineRenderer, type Renderer } from './renderer.ts';
import { renderAssignmentFile } from './assignment-file.ts';
import { renderDocker } from './runtime/docker.ts';
import { renderCriDockerd } from './runtime/cri-dockerd.ts';
import { renderContainerd } from './runtime/containerd.ts';
import { renderModules } from './os/modules.ts';
import { renderSysctl } from './os/sysctl.ts';
import { renderHosts } from './os/hosts.ts';
import { renderCalico } from './network/calico.ts';
import { kubeletRenderer } from './node/kubelet.ts';
import { kubeProxyRenderer } from './node/kube-proxy.ts';
import { renderEtcdManifest } from './static-pods/etcd.ts';
import { renderKubeApiserverManifest } from './static-pods/kube-apiserver.ts';
import { renderKubeControllerManagerManifest } from './static-pods/kube-controller-manager.ts';
import { renderKubeSchedulerManifest } from './static-pods/kube-scheduler.ts';
export type { FileSpec, Trigger } from './types.ts';
export type { RenderInput, RenderContext } from './context.ts';

export const RENDERERS: readonly Renderer[] = [
  defineRenderer('assignment', () => true, (ctx) => [renderAssignmentFile(ctx.a)]),
  defineRenderer('docker', (ctx) => ctx.roles.kubelet && ctx.runtime.type === 'docker', renderDocker),
  defineRenderer('cri-dockerd', (ctx) => ctx.roles.kubelet && ctx.runtime.type === 'docker', renderCriDockerd),
  defineRenderer('containerd', (ctx) => ctx.roles.kubelet && ctx.runtime.type === 'containerd', renderContainerd),
  // Modules before sysctl: the bridge keys exist only once br_netfilter is loaded.
  // Pod networking's kernel settings: Nodes only (an etcd-only member's pods use the host's network).
  defineRenderer('kernel-modules', (ctx) => ctx.roles.node, () => [renderModules()]),
  defineRenderer('sysctl', (ctx) => ctx.roles.node, () => [renderSysctl()]),
  defineRenderer('hosts', (ctx) => !!ctx.a.networking?.update_hosts_files, (ctx) => [renderHosts(ctx)]),
  defineRenderer('calico', (ctx) => ctx.roles.master, renderCalico),
  kubeletRenderer,
  kubeProxyRenderer,
  defineRenderer('etcd', (ctx) => ctx.roles.etcd, renderEtcdManifest),
  defineRenderer('kube-apiserver', (ctx) => ctx.roles.master, renderKubeApiserverManifest),
  defineRenderer('kube-controller-manager', (ctx) => ctx.roles.master, renderKubeControllerManagerManifest),
  defineRenderer('kube-scheduler', (ctx) => ctx.roles.master, renderKubeSchedulerManifest),
];

export interface RenderedNode {
  files: FileSpec[];
  /** Which renderer produced each file (same order as `files`). */
  origin: string[];
}

export function renderNodeFiles(input: RenderInput): RenderedNode {
  const ctx = compileContext(input);
  const files: FileSpec[] = [];
  const origin: string[] = [];
  const seen = new Map<string, string>();
  for (const r of RENDERERS) {
    if (!r.applies(ctx)) continue;
    for (const f of r.render(ctx)) {
      const other = seen.get(f.path);
      // Two renderers writing one path is a bug in muster, never something a plan can cause.
      if (other) throw new Error(`renderers ${other} and ${r.name} both render ${f.path}`);
      seen.set(f.path, r.name);
      files.push(f);
      origin.push(r.name);
    }
  }
  return { files, origin };
}

/** The files alone. */
export function renderNode(input: RenderInput): FileSpec[] {
  return renderNodeFiles(input).files;
}
