// /etc/kubernetes/manifests/etcd.yaml on etcd nodes: kubeadm's local etcd member (phases/etcd/
// local.go), with the whole initial cluster from the assignment rather than kubeadm's one-by-one
// join, since muster knows every member up front. Clients and peers both need a certificate from
// the etcd CA; metrics and health are plain HTTP on loopback only, where the kubelet probes them.
import type { RenderContext } from '../context.ts';
import type { FileSpec } from '../types.ts';
import { PORTS } from '../../constants.ts';
import { joinHostPort } from '../../net/host-port.ts';
import { buildFlags, type FlagRow } from './flags.ts';
import { componentPod, loopbackFor, manifestFile } from './pod.ts';

/** kubeadm's EtcdMetricsPort: /metrics, /livez and /readyz over HTTP. */
export const ETCD_METRICS_PORT = 2381;
export const ETCD_DATA_DIR = '/var/lib/etcd';
export const ETCD_MANIFEST = '/etc/kubernetes/manifests/etcd.yaml';

/** Where the member of a node at `nodeIp` serves /metrics, /livez and /readyz: plain HTTP on loopback. */
export function etcdMetricsUrl(nodeIp: string): string {
  return `http://${joinHostPort(loopbackFor(nodeIp), ETCD_METRICS_PORT)}`;
}

interface EtcdValues {
  ctx: RenderContext;
  clientUrl: string;
  peerUrl: string;
  loopbackClientUrl: string;
  metricsUrl: string;
  initialCluster: string;
}

export const ETCD_FLAGS: readonly FlagRow<EtcdValues>[] = [
  { flag: 'name', value: (v) => v.ctx.nodeName },
  { flag: 'data-dir', value: () => ETCD_DATA_DIR },
  { flag: 'listen-client-urls', value: (v) => `${v.loopbackClientUrl},${v.clientUrl}` },
  { flag: 'advertise-client-urls', value: (v) => v.clientUrl },
  { flag: 'listen-peer-urls', value: (v) => v.peerUrl },
  { flag: 'initial-advertise-peer-urls', value: (v) => v.peerUrl },
  { flag: 'initial-cluster', value: (v) => v.initialCluster },
  // Every member starts together from the assignment. (Adding a member to a running cluster
  // takes `member add` and "existing"; muster does not do that yet.)
  { flag: 'initial-cluster-state', value: () => 'new' },
  { flag: 'listen-metrics-urls', value: (v) => v.metricsUrl },
  { flag: 'cert-file', value: (v) => v.ctx.paths.cert('etcd-server'), file: true },
  { flag: 'key-file', value: (v) => v.ctx.paths.key('etcd-server'), file: true },
  { flag: 'trusted-ca-file', value: (v) => v.ctx.paths.ca('etcd'), file: true },
  { flag: 'client-cert-auth', value: () => 'true' },
  { flag: 'peer-cert-file', value: (v) => v.ctx.paths.cert('etcd-peer'), file: true },
  { flag: 'peer-key-file', value: (v) => v.ctx.paths.key('etcd-peer'), file: true },
  { flag: 'peer-trusted-ca-file', value: (v) => v.ctx.paths.ca('etcd'), file: true },
  { flag: 'peer-client-cert-auth', value: () => 'true' },
  { flag: 'snapshot-count', value: () => '10000' },
  // etcd 3.6 spellings (kubeadm 1.34 still had the --experimental-* ones for etcd < 3.6; every
  // minor muster supports pairs with etcd 3.6).
  { flag: 'feature-gates', value: () => 'InitialCorruptCheck=true' },
  { flag: 'watch-progress-notify-interval', value: () => '5s' },
];

function values(ctx: RenderContext): EtcdValues {
  const ip = ctx.nodeIp;
  const lo = loopbackFor(ip);
  const members = ctx.a.etcd_members;
  const self = members.find((m) => m.name === ctx.nodeName);
  // The coordinator lists every etcd node, this one included; a list without it is a muster bug.
  if (members.length && !self) throw new Error(`etcd members of ${ctx.nodeName}'s assignment do not include it`);
  const peerUrl = self?.peer_url || `https://${joinHostPort(ip, PORTS.etcdPeer)}`;
  return {
    ctx,
    clientUrl: self?.client_url || `https://${joinHostPort(ip, PORTS.etcdClient)}`,
    peerUrl,
    loopbackClientUrl: `https://${joinHostPort(lo, PORTS.etcdClient)}`,
    metricsUrl: etcdMetricsUrl(ip),
    initialCluster: members.length ? members.map((m) => `${m.name}=${m.peer_url}`).join(',') : `${ctx.nodeName}=${peerUrl}`,
  };
}

export function renderEtcdManifest(ctx: RenderContext): FileSpec[] {
  const flags = buildFlags(ETCD_FLAGS, ctx.version.minor, values(ctx));
  const pod = componentPod(ctx, {
    name: 'etcd',
    image: ctx.images.etcd,
    command: ['etcd', ...flags.args],
    files: flags.files,
    dirs: [{ name: 'etcd-data', path: ETCD_DATA_DIR, readOnly: false }],
    // kubeadm's etcd probes (kubeadm issue 3039): /livez says whether the process needs a
    // restart, /readyz whether it serves; the older /health?exclude=NOSPACE mixed the two.
    probe: { host: loopbackFor(ctx.nodeIp), port: ETCD_METRICS_PORT, scheme: 'HTTP', liveness: '/livez', readiness: '/readyz', startup: '/readyz' },
    requests: { cpu: '100m', memory: '100Mi' },
  });
  return [manifestFile(pod)];
}
