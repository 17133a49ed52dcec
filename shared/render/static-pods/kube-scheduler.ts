// /etc/kubernetes/manifests/kube-scheduler.yaml on masters: kubeadm's flags (phases/controlplane/
// manifests.go getSchedulerCommand). Its one credential is the kubeconfig, which embeds the CA.
import type { RenderContext } from '../context.ts';
import type { FileSpec } from '../types.ts';
import { PORTS } from '../../constants.ts';
import { buildFlags, type FlagRow } from './flags.ts';
import { componentPod, manifestFile, proxyEnv } from './pod.ts';

const kubeconfig = (c: RenderContext) => c.paths.kubeconfig('scheduler');

export const KUBE_SCHEDULER_FLAGS: readonly FlagRow<RenderContext>[] = [
  { flag: 'bind-address', value: () => '127.0.0.1' },
  // The default, said out loud: the probe and preflight's port check name the same port.
  { flag: 'secure-port', value: () => String(PORTS.scheduler) },
  { flag: 'leader-elect', value: () => 'true' },
  { flag: 'kubeconfig', value: kubeconfig, file: true },
  { flag: 'authentication-kubeconfig', value: kubeconfig, file: true },
  { flag: 'authorization-kubeconfig', value: kubeconfig, file: true },
];

export function renderKubeSchedulerManifest(ctx: RenderContext): FileSpec[] {
  const flags = buildFlags(KUBE_SCHEDULER_FLAGS, ctx.version.minor, ctx);
  const pod = componentPod(ctx, {
    name: 'kube-scheduler',
    image: ctx.images.component('kube-scheduler'),
    command: ['kube-scheduler', ...flags.args],
    files: flags.files,
    dirs: [],
    probe: { host: '127.0.0.1', port: PORTS.scheduler, scheme: 'HTTPS', liveness: '/livez', readiness: '/readyz', startup: '/livez' },
    requests: { cpu: '100m' },
    env: proxyEnv(ctx),
  });
  return [manifestFile(pod)];
}
