// kube-proxy as a host daemon beside the kubelet (as the seeds run it): its
// KubeProxyConfiguration, its systemd unit. Its kubeconfig is written by agent/pki with its
// certificate. clusterCIDR is the pod CIDR block, so traffic from outside the pod range to a
// service is masqueraded; the mode comes from the plan.
import { stringify } from 'yaml';
import type { FileSpec } from '../types.ts';
import type { RenderContext } from '../context.ts';
import { defineRenderer } from '../renderer.ts';
import { hashHeader } from '../header.ts';
import { PORTS } from '../../constants.ts';
import { BIN, renderUnit } from './units.ts';

export const KUBE_PROXY_PATHS = {
  config: '/var/lib/kube-proxy/config.conf',
  unit: '/etc/systemd/system/kube-proxy.service',
} as const;

export function kubeProxyConfig(ctx: RenderContext): Record<string, unknown> {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    bindAddress: '0.0.0.0',
    clientConnection: { kubeconfig: ctx.paths.kubeconfig('kube-proxy') },
    clusterCIDR: ctx.a.networking?.pod_cidr_block ?? '',
    healthzBindAddress: `0.0.0.0:${PORTS.kubeProxyHealth}`,
    hostnameOverride: ctx.nodeName,
    metricsBindAddress: `127.0.0.1:${PORTS.kubeProxyMetrics}`,
    mode: ctx.proxyMode,
  };
}

export const kubeProxyRenderer = defineRenderer(
  'kube-proxy',
  (ctx) => ctx.roles.node,
  (ctx): FileSpec[] => [
    {
      path: KUBE_PROXY_PATHS.config,
      mode: 0o644,
      content: `${hashHeader()}${stringify(kubeProxyConfig(ctx), { sortMapEntries: true })}`,
      triggers: [{ kind: 'restart', unit: 'kube-proxy.service' }],
    },
    {
      path: KUBE_PROXY_PATHS.unit,
      mode: 0o644,
      content: renderUnit({
        description: 'kube-proxy: Kubernetes service networking',
        documentation: 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-proxy/',
        wants: ['network-online.target'],
        after: ['network-online.target', 'kubelet.service'],
        execStart: [BIN.kubeProxy, `--config=${KUBE_PROXY_PATHS.config}`],
      }),
      triggers: [
        { kind: 'unit', unit: 'kube-proxy.service' },
        { kind: 'restart', unit: 'kube-proxy.service' },
      ],
    },
  ],
);
