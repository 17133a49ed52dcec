// /etc/kubernetes/manifests/kube-apiserver.yaml on masters: kubeadm's flags (phases/controlplane/
// manifests.go getAPIServerCommand) with muster's catalogue paths. Three differences, the first two
// because muster's etcd may live on nodes of its own, the third for restarts behind a load balancer:
// - --etcd-servers lists every member of the assignment (kubeadm names only the local member,
//   which is there because kubeadm always stacks etcd on the control-plane node);
// - no --enable-bootstrap-token-auth: no muster node authenticates with a bootstrap token (each
//   gets its certificates from muster's PKI), so a token secret in kube-system must not log in;
// - --shutdown-delay-duration (the plan's master.apiserver_shutdown_delay, 15s by default) and
//   --shutdown-send-retry-after, with a grace period to match: a restart takes the server out of
//   the load balancer before it stops listening.
import type { RenderContext } from '../context.ts';
import type { FileSpec } from '../types.ts';
import { APISERVER_REQUEST_TIMEOUT_S, PORTS } from '../../constants.ts';
import { joinHostPort } from '../../net/host-port.ts';
import { buildFlags, type FlagRow } from './flags.ts';
import { HOST_CA_DIRS, componentPod, loopbackFor, manifestFile, proxyEnv } from './pod.ts';

const p = (ctx: RenderContext) => ctx.paths;

/** The members' client URLs in the assignment's order; loopback before the cluster has members. */
export function etcdServers(ctx: RenderContext): string {
  const urls = ctx.a.etcd_members.map((m) => m.client_url).filter(Boolean);
  // kubeadm's default. On an etcd+master node it is right; elsewhere the API server waits for
  // the next assignment, which names the members.
  return urls.length ? urls.join(',') : `https://${joinHostPort(loopbackFor(ctx.nodeIp), PORTS.etcdClient)}`;
}

export const KUBE_APISERVER_FLAGS: readonly FlagRow<RenderContext>[] = [
  { flag: 'advertise-address', value: (c) => c.nodeIp },
  { flag: 'secure-port', value: () => String(PORTS.apiserver) },
  { flag: 'allow-privileged', value: () => 'true' },
  { flag: 'authorization-mode', value: () => 'Node,RBAC' },
  { flag: 'enable-admission-plugins', value: () => 'NodeRestriction' },
  { flag: 'service-cluster-ip-range', value: (c) => c.a.networking?.service_cidr_block || undefined },
  { flag: 'client-ca-file', value: (c) => p(c).ca('kubernetes'), file: true },
  { flag: 'tls-cert-file', value: (c) => p(c).cert('apiserver'), file: true },
  { flag: 'tls-private-key-file', value: (c) => p(c).key('apiserver'), file: true },
  { flag: 'kubelet-client-certificate', value: (c) => p(c).cert('apiserver-kubelet-client'), file: true },
  { flag: 'kubelet-client-key', value: (c) => p(c).key('apiserver-kubelet-client'), file: true },
  { flag: 'kubelet-preferred-address-types', value: () => 'InternalIP,ExternalIP,Hostname' },
  { flag: 'etcd-servers', value: etcdServers },
  { flag: 'etcd-cafile', value: (c) => p(c).ca('etcd'), file: true },
  { flag: 'etcd-certfile', value: (c) => p(c).cert('apiserver-etcd-client'), file: true },
  { flag: 'etcd-keyfile', value: (c) => p(c).key('apiserver-etcd-client'), file: true },
  { flag: 'service-account-key-file', value: (c) => p(c).saPub, file: true },
  { flag: 'service-account-signing-key-file', value: (c) => p(c).saKey, file: true },
  { flag: 'service-account-issuer', value: (c) => `https://kubernetes.default.svc.${c.a.networking?.cluster_domain || 'cluster.local'}` },
  // The front proxy (aggregated APIs): kubeadm's recommended header names, and only the
  // front-proxy-client certificate may set them.
  { flag: 'proxy-client-cert-file', value: (c) => p(c).cert('front-proxy-client'), file: true },
  { flag: 'proxy-client-key-file', value: (c) => p(c).key('front-proxy-client'), file: true },
  { flag: 'requestheader-client-ca-file', value: (c) => p(c).ca('front-proxy'), file: true },
  { flag: 'requestheader-allowed-names', value: () => 'front-proxy-client' },
  { flag: 'requestheader-username-headers', value: () => 'X-Remote-User' },
  { flag: 'requestheader-group-headers', value: () => 'X-Remote-Group' },
  { flag: 'requestheader-extra-headers-prefix', value: () => 'X-Remote-Extra-' },
  // Graceful restarts behind a load balancer (constants.ts says why): serve on while /readyz
  // fails, then answer what still arrives with 429 + Retry-After while in-flight requests drain.
  { flag: 'shutdown-delay-duration', value: (c) => `${c.apiserverShutdownDelayS}s` },
  { flag: 'shutdown-send-retry-after', value: () => 'true' },
];

export function renderKubeApiserverManifest(ctx: RenderContext): FileSpec[] {
  const flags = buildFlags(KUBE_APISERVER_FLAGS, ctx.version.minor, ctx);
  const pod = componentPod(ctx, {
    name: 'kube-apiserver',
    image: ctx.images.component('kube-apiserver'),
    command: ['kube-apiserver', ...flags.args],
    files: flags.files,
    dirs: HOST_CA_DIRS,
    // kubeadm probes the advertise address: the address the API server serves the cluster on.
    probe: { host: ctx.nodeIp, port: PORTS.apiserver, scheme: 'HTTPS', liveness: '/livez', readiness: '/readyz', startup: '/livez' },
    requests: { cpu: '250m' },
    env: proxyEnv(ctx),
    // The delay, then the drain: requests in flight get the default request timeout.
    terminationGraceSeconds: ctx.apiserverShutdownDelayS + APISERVER_REQUEST_TIMEOUT_S,
  });
  return [manifestFile(pod)];
}
