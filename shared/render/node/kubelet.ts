// The kubelet on every node: /var/lib/kubelet/config.yaml (KubeletConfiguration), its systemd
// unit, and a drop-in with only the flags that have no config field (node IP, hostname
// override, node labels). Everything else is configuration: the runtime endpoint and taints
// have config fields (containerRuntimeEndpoint, registerWithTaints) and the flags are deprecated.
//
// On an etcd member that is nothing else the kubelet is standalone, as on kubeadm's external etcd
// hosts ("Set up a High Availability etcd cluster with kubeadm"): no kubeconfig, so it never
// talks to an API server and only runs the static pods (etcd's); and its server is off
// (enableServer: false) -- kubeadm's guide binds it to 127.0.0.1 with AlwaysAllow, which lets any
// local process exec into etcd; with no server there is nothing to authorise. Only the healthz
// endpoint listens, on 127.0.0.1.
//
// Certificates: the kubelet's client certificate is in kubelet.conf and its serving certificate
// is muster's (kubelet-serving); muster renews both itself (agent/pki), so the kubelet's own
// rotation stays off: rotateCertificates would ask the API server's CSR signer, which needs a CA
// key that never leaves the coordinator, and serverTLSBootstrap likewise.
import { stringify } from 'yaml';
import type { FileSpec } from '../types.ts';
import type { RenderContext } from '../context.ts';
import { defineRenderer } from '../renderer.ts';
import { hashHeader } from '../header.ts';
import { NODE_PATHS, PORTS } from '../../constants.ts';
import { BIN, execStart, renderUnit } from './units.ts';
import { isKubeletLabel } from './kubelet-labels.ts';

export const KUBELET_PATHS = {
  config: `/${NODE_PATHS.kubeletConfig}`,
  unit: '/etc/systemd/system/kubelet.service',
  dropIn: '/etc/systemd/system/kubelet.service.d/10-muster.conf',
} as const;

export function kubeletConfig(ctx: RenderContext): Record<string, unknown> {
  if (!ctx.roles.node) return standaloneKubeletConfig(ctx);
  const net = ctx.a.networking;
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true, cacheTTL: '0s' },
      x509: { clientCAFile: ctx.paths.ca('kubernetes') },
    },
    authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '0s', cacheUnauthorizedTTL: '0s' } },
    cgroupDriver: 'systemd',
    clusterDNS: net?.dns_service_ip ? [net.dns_service_ip] : [],
    clusterDomain: net?.cluster_domain || 'cluster.local',
    containerRuntimeEndpoint: ctx.runtime.criEndpoint,
    healthzBindAddress: '127.0.0.1',
    healthzPort: PORTS.kubeletHealthz,
    port: PORTS.kubeletApi,
    readOnlyPort: 0,
    registerWithTaints: ctx.a.taints.map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect })),
    rotateCertificates: false,
    serverTLSBootstrap: false,
    staticPodPath: `/${NODE_PATHS.manifestsDir}`,
    tlsCertFile: ctx.paths.cert('kubelet-serving'),
    tlsPrivateKeyFile: ctx.paths.key('kubelet-serving'),
  };
}

/** The standalone kubelet of an etcd-only member: static pods, no API server, no server of its own. */
function standaloneKubeletConfig(ctx: RenderContext): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false } },
    // Webhook authorisation needs an API server; with the server off nothing is authorised anyway.
    authorization: { mode: 'AlwaysAllow' },
    cgroupDriver: 'systemd',
    containerRuntimeEndpoint: ctx.runtime.criEndpoint,
    enableServer: false,
    healthzBindAddress: '127.0.0.1',
    healthzPort: PORTS.kubeletHealthz,
    readOnlyPort: 0,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    staticPodPath: `/${NODE_PATHS.manifestsDir}`,
  };
}

/** The flags that stay flags, in a stable order. */
export function kubeletFlags(ctx: RenderContext): string[] {
  // Standalone: no --kubeconfig (that is what makes it standalone), no labels (no Node object).
  if (!ctx.roles.node) return [`--config=${KUBELET_PATHS.config}`, `--hostname-override=${ctx.nodeName}`];
  const labels = Object.entries(ctx.a.labels)
    .filter(([k]) => isKubeletLabel(k))
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  return [
    `--config=${KUBELET_PATHS.config}`,
    `--kubeconfig=${ctx.paths.kubeconfig('kubelet-client')}`,
    `--hostname-override=${ctx.nodeName}`,
    ...(ctx.nodeIp ? [`--node-ip=${ctx.nodeIp}`] : []),
    ...(labels.length ? [`--node-labels=${labels.join(',')}`] : []),
  ];
}

/** Labels of the assignment the kubelet may not set itself (node-role.kubernetes.io/*): applied through the API. */
export function labelsForApi(ctx: RenderContext): Record<string, string> {
  if (!ctx.roles.node) return {};
  return Object.fromEntries(Object.entries(ctx.a.labels).filter(([k]) => !isKubeletLabel(k)));
}

function runtimeUnit(ctx: RenderContext): string {
  return ctx.runtime.type === 'docker' ? 'cri-docker.service' : 'containerd.service';
}

export const kubeletRenderer = defineRenderer(
  'kubelet',
  (ctx) => ctx.roles.kubelet,
  (ctx): FileSpec[] => {
    const restart = { kind: 'restart', unit: 'kubelet.service' } as const;
    const unit = { kind: 'unit', unit: 'kubelet.service' } as const;
    const notApi = Object.keys(labelsForApi(ctx));
    return [
      {
        path: KUBELET_PATHS.config,
        mode: 0o644,
        content: `${hashHeader(notApi.length ? `Labels the kubelet may not set itself are applied through the API: ${notApi.sort().join(', ')}` : undefined)}${stringify(kubeletConfig(ctx), { sortMapEntries: true })}`,
        triggers: [restart],
      },
      {
        path: KUBELET_PATHS.unit,
        mode: 0o644,
        content: renderUnit({
          description: 'kubelet: the Kubernetes node agent',
          documentation: 'https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/',
          wants: ['network-online.target', runtimeUnit(ctx)],
          after: ['network-online.target', runtimeUnit(ctx)],
          execStart: [BIN.kubelet],
        }),
        triggers: [unit, restart],
      },
      {
        path: KUBELET_PATHS.dropIn,
        mode: 0o644,
        // ExecStart= first clears the unit's own line (a service may have only one).
        content: `${hashHeader('Only the flags without a KubeletConfiguration field; the rest is in /var/lib/kubelet/config.yaml.')}[Service]\nExecStart=\nExecStart=${execStart([BIN.kubelet, ...kubeletFlags(ctx)])}\n`,
        triggers: [unit, restart],
      },
    ];
  },
);
