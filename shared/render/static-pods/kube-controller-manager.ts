// /etc/kubernetes/manifests/kube-controller-manager.yaml on masters: kubeadm's flags (phases/
// controlplane/manifests.go getControllerManagerCommand) with two deliberate differences.
//
// No --cluster-signing-cert-file / --cluster-signing-key-file, and the csrsigning controller off:
// the cluster CA's key never leaves the coordinator, so certificates are signed by muster's PKI
// (CSRs go to the coordinator), never through the CertificateSigningRequest API. kubeadm's extra
// bootstrapsigner and tokencleaner controllers serve bootstrap tokens, which muster does not use
// (see kube-apiserver.ts), so "*" (the default set) is all that runs besides.
//
// Pod addresses: muster is the allocator. The coordinator gives each node a block of
// pod_block_size addresses (Assignment.pod_cidr) and Calico's IPAM hands out addresses in blocks
// of its own; the controller manager's range allocator would pick blocks in registration order
// and write a node.spec.podCIDR that disagrees with muster's. So --allocate-node-cidrs=false, and
// --cluster-cidr / --node-cidr-mask-size still describe muster's layout (the whole pod range, a
// node's block size as a prefix length) so that nothing here contradicts it.
import type { RenderContext } from '../context.ts';
import type { FileSpec } from '../types.ts';
import { PORTS } from '../../constants.ts';
import { buildFlags, type FlagRow } from './flags.ts';
import { HOST_CA_DIRS, componentPod, manifestFile, proxyEnv } from './pod.ts';

/** The prefix length of a block of `size` addresses in the pod range's family: 64 in IPv4 is 26. */
export function nodeCidrMaskSize(podCidrBlock: string, size: number): number | undefined {
  if (!Number.isInteger(size) || size < 1 || (size & (size - 1)) !== 0) return undefined;
  const bits = podCidrBlock.includes(':') ? 128 : 32;
  return bits - Math.log2(size);
}

const kubeconfig = (c: RenderContext) => c.paths.kubeconfig('controller-manager');

export const KUBE_CONTROLLER_MANAGER_FLAGS: readonly FlagRow<RenderContext>[] = [
  { flag: 'bind-address', value: () => '127.0.0.1' },
  // The default, said out loud: the probe and preflight's port check name the same port.
  { flag: 'secure-port', value: () => String(PORTS.controllerManager) },
  { flag: 'leader-elect', value: () => 'true' },
  { flag: 'kubeconfig', value: kubeconfig, file: true },
  { flag: 'authentication-kubeconfig', value: kubeconfig, file: true },
  { flag: 'authorization-kubeconfig', value: kubeconfig, file: true },
  { flag: 'client-ca-file', value: (c) => c.paths.ca('kubernetes'), file: true },
  { flag: 'requestheader-client-ca-file', value: (c) => c.paths.ca('front-proxy'), file: true },
  { flag: 'root-ca-file', value: (c) => c.paths.ca('kubernetes'), file: true },
  { flag: 'service-account-private-key-file', value: (c) => c.paths.saKey, file: true },
  { flag: 'use-service-account-credentials', value: () => 'true' },
  { flag: 'controllers', value: () => '*,-csrsigning' },
  { flag: 'allocate-node-cidrs', value: () => 'false' },
  { flag: 'cluster-cidr', value: (c) => c.a.networking?.pod_cidr_block || undefined },
  {
    flag: 'node-cidr-mask-size',
    value: (c) => {
      const n = c.a.networking;
      const mask = n?.pod_cidr_block ? nodeCidrMaskSize(n.pod_cidr_block, n.pod_block_size) : undefined;
      return mask === undefined ? undefined : String(mask);
    },
  },
  { flag: 'service-cluster-ip-range', value: (c) => c.a.networking?.service_cidr_block || undefined },
  { flag: 'cluster-name', value: (c) => c.a.cluster_name || undefined },
];

export function renderKubeControllerManagerManifest(ctx: RenderContext): FileSpec[] {
  const flags = buildFlags(KUBE_CONTROLLER_MANAGER_FLAGS, ctx.version.minor, ctx);
  const pod = componentPod(ctx, {
    name: 'kube-controller-manager',
    image: ctx.images.component('kube-controller-manager'),
    command: ['kube-controller-manager', ...flags.args],
    files: flags.files,
    // kubeadm 1.34 and 1.35 also mounted the flexvolume plugin directory; muster sets up no
    // flexvolume driver (and kubeadm 1.36 dropped the mount), so no minor gets it.
    dirs: HOST_CA_DIRS,
    probe: { host: '127.0.0.1', port: PORTS.controllerManager, scheme: 'HTTPS', liveness: '/healthz', startup: '/healthz' },
    requests: { cpu: '200m' },
    env: proxyEnv(ctx),
  });
  return [manifestFile(pod)];
}
