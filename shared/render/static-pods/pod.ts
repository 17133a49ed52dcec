// The shape every control-plane static pod shares (kubeadm's staticpod.ComponentPod is the model):
// one container on the host network, system-node-critical, the RuntimeDefault seccomp profile,
// kubeadm's probe timings, hostPath mounts, and the component/tier labels. Each component's file
// (etcd.ts, kube-apiserver.ts, ...) says only what differs: command, mounts, probe, requests.
//
// Mounts are per file, read-only, exactly the files the component's flags name (kubeadm mounts
// the whole /etc/kubernetes/pki; the controller manager then sees the API server's key and the
// etcd peer key). A file bind mount keeps the inode it was started with, so a renewed certificate
// (written by atomic rename) is seen only after a restart: that is what the certificates-hash
// annotation is for -- the hash of every mounted PKI file changes, the manifest changes, and the
// kubelet recreates the pod with fresh mounts.
import { stringify } from 'yaml';
// Types only (erased at build time): the pod is typed against the Kubernetes API's own schema, so
// a misspelt field is a compile error, not a silently ignored key.
import type { IContainer, IEnvVar, IPod, IProbe, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import type { RenderContext } from '../context.ts';
import type { FileSpec } from '../types.ts';
import { hashHeader } from '../header.ts';
import { NODE_PATHS } from '../../constants.ts';
import { certificatesHash } from './certificates-hash.ts';

export type ComponentName = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

/** A host directory mounted at the same path (created when missing, like kubeadm's). */
export interface DirMount {
  name: string;
  path: string;
  readOnly: boolean;
}

/** kubeadm's probes: HTTP GET on the named port "probe-port", which the container declares. */
export interface ProbeTarget {
  host: string;
  port: number;
  scheme: 'HTTP' | 'HTTPS';
  liveness: string;
  /** kube-controller-manager has no readiness probe in kubeadm's manifests. */
  readiness?: string;
  startup: string;
}

export interface ComponentPodSpec {
  name: ComponentName;
  image: string;
  /** Program and flags. */
  command: readonly string[];
  /** Files mounted read-only, each at its own path (the flags' file values). */
  files: readonly string[];
  dirs: readonly DirMount[];
  probe: ProbeTarget;
  requests: { cpu: string; memory?: string };
  env?: readonly IEnvVar[];
  /** The pod's terminationGracePeriodSeconds; unset: the kubelet's default (30 s), as kubeadm leaves it. */
  terminationGraceSeconds?: number;
}

export const CERTIFICATES_HASH_ANNOTATION = 'muster.io/certificates-hash';
export const PROBE_PORT_NAME = 'probe-port';
/** kubeadm's ControlPlaneComponentHealthCheckTimeout (4 minutes) over a 10 s period. */
const STARTUP_FAILURES = 24;
/** kubeadm pins the value of system-node-critical, so the mirror pod passes Priority admission as is. */
const SYSTEM_NODE_CRITICAL = 2000001000;

/** A DNS-1123 label from a path: /etc/kubernetes/pki/etcd/ca.crt -> pki-etcd-ca-crt. */
export function volumeName(path: string): string {
  const rel = path.startsWith(`/${NODE_PATHS.kubernetesDir}/`) ? path.slice(NODE_PATHS.kubernetesDir.length + 2) : path;
  const name = rel.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (!name || name.length > 63) throw new Error(`no volume name for ${path}`);
  return name;
}

function probe(t: ProbeTarget, path: string, timing: { initialDelaySeconds: number; failureThreshold: number; periodSeconds: number }): IProbe {
  return { httpGet: { host: t.host, path, port: PROBE_PORT_NAME, scheme: t.scheme }, timeoutSeconds: 15, ...timing };
}

export function componentPod(ctx: RenderContext, s: ComponentPodSpec): IPod {
  const volumes: IVolume[] = [];
  const mounts: IVolumeMount[] = [];
  const add = (name: string, path: string, type: 'File' | 'DirectoryOrCreate', readOnly: boolean) => {
    // Two paths with one name would make the pod invalid: a bug in a component table.
    if (volumes.some((v) => v.name === name)) throw new Error(`${s.name}: two mounts named ${name}`);
    volumes.push({ name, hostPath: { path, type } });
    mounts.push({ name, mountPath: path, readOnly });
  };
  for (const d of s.dirs) add(d.name, d.path, 'DirectoryOrCreate', d.readOnly);
  // "File", not kubeadm's "FileOrCreate": the kubelet then waits for the agent to write the file
  // instead of creating an empty one and pinning the pod's mount to it.
  for (const f of s.files) add(volumeName(f), f, 'File', true);
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  volumes.sort(byName);
  mounts.sort(byName);

  const t = s.probe;
  const container: IContainer = {
    name: s.name,
    image: s.image,
    imagePullPolicy: 'IfNotPresent',
    command: [...s.command],
    ports: [{ name: PROBE_PORT_NAME, containerPort: t.port, protocol: 'TCP' }],
    livenessProbe: probe(t, t.liveness, { initialDelaySeconds: 10, failureThreshold: 8, periodSeconds: 10 }),
    ...(t.readiness ? { readinessProbe: probe(t, t.readiness, { initialDelaySeconds: 0, failureThreshold: 3, periodSeconds: 1 }) } : {}),
    startupProbe: probe(t, t.startup, { initialDelaySeconds: 10, failureThreshold: STARTUP_FAILURES, periodSeconds: 10 }),
    resources: { requests: { cpu: s.requests.cpu, ...(s.requests.memory ? { memory: s.requests.memory } : {}) } },
    volumeMounts: mounts,
    ...(s.env?.length ? { env: [...s.env] } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: s.name,
      namespace: 'kube-system',
      labels: { component: s.name, tier: 'control-plane' },
      annotations: { [CERTIFICATES_HASH_ANNOTATION]: certificatesHash(ctx, s.files) },
    },
    spec: {
      containers: [container],
      hostNetwork: true,
      priority: SYSTEM_NODE_CRITICAL,
      priorityClassName: 'system-node-critical',
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      ...(s.terminationGraceSeconds !== undefined ? { terminationGracePeriodSeconds: s.terminationGraceSeconds } : {}),
      volumes,
    },
  };
}

/**
 * The proxy settings of the plan, for the components that call out (webhooks, OIDC discovery):
 * kubeadm hands its own proxy environment to the API server, controller manager and scheduler.
 */
export function proxyEnv(ctx: RenderContext): IEnvVar[] {
  const n = ctx.a.networking;
  const env: IEnvVar[] = [];
  if (n?.http_proxy) env.push({ name: 'HTTP_PROXY', value: n.http_proxy });
  if (n?.https_proxy) env.push({ name: 'HTTPS_PROXY', value: n.https_proxy });
  if (n?.no_proxy) env.push({ name: 'NO_PROXY', value: n.no_proxy });
  return env;
}

/** /etc/kubernetes/manifests/NAME.yaml; kubeadm writes them 0600. The kubelet acts on a change. */
export function manifestFile(pod: IPod): FileSpec {
  const name = pod.metadata!.name!;
  // Sorted keys: the same pod always serialises to the same bytes (and apiVersion, kind,
  // metadata, spec happen to sort into the order people expect).
  const body = stringify(pod, { sortMapEntries: true, lineWidth: 0 });
  return {
    path: `/${NODE_PATHS.manifestsDir}/${name}.yaml`,
    mode: 0o600,
    content: `${hashHeader(`Static pod ${name}: the kubelet runs it from this file.`)}${body}`,
    triggers: [{ kind: 'static-pod' }],
  };
}

/**
 * The host's trust store, for components that call out over TLS (webhooks, OIDC). kubeadm mounts
 * /etc/ssl/certs and, where they exist on the host, the directories its files link into; a pure
 * renderer cannot look, so it names the ones of the supported OS families: Debian and Ubuntu keep
 * the bundle itself in /etc/ssl/certs, RHEL-family hosts link it into /etc/pki/tls/certs and on into
 * /etc/pki/ca-trust. On the other family these are created empty, which is harmless.
 */
export const HOST_CA_DIRS: readonly DirMount[] = [
  { name: 'ca-certs', path: '/etc/ssl/certs', readOnly: true },
  { name: 'etc-pki-ca-trust', path: '/etc/pki/ca-trust', readOnly: true },
  { name: 'etc-pki-tls-certs', path: '/etc/pki/tls/certs', readOnly: true },
];

/** 127.0.0.1, or ::1 when the node's address is IPv6 (kubeadm matches the advertise address's family). */
export function loopbackFor(ip: string): string {
  return ip.includes(':') ? '::1' : '127.0.0.1';
}
