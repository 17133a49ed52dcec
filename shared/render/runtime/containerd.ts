// /etc/containerd/config.toml in the schema of the containerd release line the plan names:
// version 3 for 2.x (CRI split into the io.containerd.cri.v1.images and .runtime plugins), version
// 2 for 1.7 (one io.containerd.grpc.v1.cri plugin). Both are written out rather than relying on
// 2.x's conversion of version 2, so what an operator reads is what containerd's own docs
// (docs/cri/config.md of that release) show. Only what muster decides is set; everything else is
// containerd's default. The file replaces any packaged config.toml, which also re-enables CRI on
// nodes whose package shipped `disabled_plugins = ["cri"]` (docker's containerd.io does).
//
// Registry mirrors and insecure registries go to hosts.toml files under config_path
// (registry-hosts.ts): the inline registry.mirrors tables are deprecated, and in 2.1 they force
// the CRI plugin back to local image pull.
//
// Not rendered for containerd, on purpose: log driver and options (the kubelet rotates container
// logs: containerLogMaxSize), storage opts (docker's dm.* / overlay2.* have no CRI equivalent), mtu
// (pods get their MTU from the CNI plugin, not from a runtime bridge), the CNI directories
// (containerd's defaults /opt/cni/bin and /etc/cni/net.d are where Calico installs).
import type { RenderContext } from '../context.ts';
import type { FileSpec } from '../types.ts';
import { hashHeader } from '../header.ts';
import { tomlString } from './toml.ts';
import { CERTS_D, renderRegistryHosts } from './registry-hosts.ts';

export const CONTAINERD_CONFIG = '/etc/containerd/config.toml';

/** Docker's storage driver names, as containerd snapshotters. */
export function snapshotter(storageDriver: string): string {
  if (storageDriver === 'overlay2' || storageDriver === 'overlay') return 'overlayfs';
  if (storageDriver === 'vfs') return 'native';
  return storageDriver;
}

interface Section { table: string; keys: [string, string][] }

function sections(ctx: RenderContext): Section[] {
  const snap = ctx.runtime.storageDriver ? snapshotter(ctx.runtime.storageDriver) : '';
  const runc: [string, string][] = [['runtime_type', tomlString('io.containerd.runc.v2')]];
  const systemd: [string, string][] = [['SystemdCgroup', 'true']];
  const registry: [string, string][] = [['config_path', tomlString(CERTS_D)]];
  if (ctx.runtime.containerdSchema === 3) {
    const images = 'plugins."io.containerd.cri.v1.images"';
    const rt = 'plugins."io.containerd.cri.v1.runtime"';
    return [
      { table: images, keys: snap ? [['snapshotter', tomlString(snap)]] : [] },
      { table: `${images}.pinned_images`, keys: [['sandbox', tomlString(ctx.images.pause)]] },
      { table: `${images}.registry`, keys: registry },
      { table: `${rt}.containerd`, keys: [['default_runtime_name', tomlString('runc')]] },
      { table: `${rt}.containerd.runtimes.runc`, keys: runc },
      { table: `${rt}.containerd.runtimes.runc.options`, keys: systemd },
    ];
  }
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    { table: cri, keys: [['sandbox_image', tomlString(ctx.images.pause)]] },
    { table: `${cri}.containerd`, keys: [...(snap ? [['snapshotter', tomlString(snap)] as [string, string]] : []), ['default_runtime_name', tomlString('runc')]] },
    { table: `${cri}.containerd.runtimes.runc`, keys: runc },
    { table: `${cri}.containerd.runtimes.runc.options`, keys: systemd },
    { table: `${cri}.registry`, keys: registry },
  ];
}

export function renderContainerdConfig(ctx: RenderContext): string {
  const schema = ctx.runtime.containerdSchema;
  const body = sections(ctx)
    .filter((s) => s.keys.length > 0)
    .map((s) => `[${s.table}]\n${s.keys.map(([k, v]) => `  ${k} = ${v}\n`).join('')}`)
    .join('\n');
  return `${hashHeader(`containerd ${ctx.runtime.containerdVersion}: config schema version ${schema}.`)}version = ${schema}\n\n${body}`;
}

export function renderContainerd(ctx: RenderContext): FileSpec[] {
  const restart = [{ kind: 'restart', unit: 'containerd.service' } as const];
  return [
    { path: CONTAINERD_CONFIG, mode: 0o644, content: renderContainerdConfig(ctx), triggers: restart },
    // containerd reads hosts.toml at each pull; a restart is not needed for them, but keeps
    // "the runtime runs with what muster wrote" simple to reason about.
    ...renderRegistryHosts(ctx).map((f) => ({ ...f, triggers: restart })),
  ];
}
