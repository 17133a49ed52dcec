// What a static pod manifest asks the kubelet to run, translated to one process on the test
// machine -- or refused. The translation is pure (no IO): test/helpers/static-pod-runner.ts
// prepares the volumes, spawns, probes. The rule is kubelet faithfulness: everything the manifest
// says that changes what the program does is either reproduced exactly or refused with a message
// naming it, never adjusted. So fields are allow-listed; an unknown one is refused, not skipped.
//
// What a process cannot reproduce of a container, and is therefore ignored (documented, not refused):
// - resources (requests/limits): no cgroup is made; the process competes with the whole machine.
// - securityContext (seccomp, capabilities, runAsUser): the process runs as the test's user.
// - priority, priorityClassName, tolerations, labels, annotations: scheduling and admission data.
// - imagePullPolicy and the image's tag (unless the caller keys a program by "name:tag"): the
//   caller chose the program; its version is the caller's business (etcd's image tag, 3.6.8-0,
//   never equals the etcd built for the tests).
// - ports: with hostNetwork a containerPort is only a name for the probes, which resolve it.
// - readOnly on a mount: a process can write anywhere the test user can. The runner records the
//   mounted read-only files at start and RunningPod.changedReadOnlyPaths() lists those that changed.
// - mountPropagation: no mount is made at all.
// - a hostPath mount of a file pins the inode the container started with, so a file replaced by
//   rename (as the agent writes) is seen by a container only after a restart; the process reads
//   the path and sees the new file at once. A test of certificate renewal must restart the pod to
//   be faithful, and cannot prove with this runner that a restart was needed.
// - the program's built-in default paths (kube-apiserver's --cert-dir /var/run/kubernetes, say)
//   are not rewritten: only paths the manifest names. The process's working directory is the node
//   root, so relative paths land inside it.
import { basename, posix } from 'node:path';

export class StaticPodRefused extends Error {
  constructor(pod: string, why: string) {
    super(`static pod ${pod}: cannot run faithfully: ${why}`);
    this.name = 'StaticPodRefused';
  }
}

/** A program for an image: keyed by the image without its tag ("registry.k8s.io/etcd"), or with it ("registry.k8s.io/etcd:3.6.8-0") to insist on the tag. */
export type ProgramTable = Readonly<Record<string, string>>;

export interface HttpProbeSpec {
  kind: 'startup' | 'readiness' | 'liveness';
  host: string;
  port: number;
  path: string;
  scheme: 'http' | 'https';
  headers: Record<string, string>;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

export interface HostPathVolume {
  /** The absolute node path (hostPath.path). */
  hostPath: string;
  /** hostPath.type; "" is the API's "no check". */
  type: '' | 'File' | 'FileOrCreate' | 'Directory' | 'DirectoryOrCreate';
  readOnly: boolean;
}

export interface ProcessSpec {
  pod: string;
  image: string;
  program: string;
  /** The program's arguments (command[1..] then args), paths already mapped into the node root. */
  args: string[];
  /** The manifest's environment, in its order. */
  env: Record<string, string>;
  /** The mounted volumes, by hostPath, for the runner to check or create inside the node root. */
  volumes: HostPathVolume[];
  probes: { startup?: HttpProbeSpec; readiness?: HttpProbeSpec; liveness?: HttpProbeSpec };
  terminationGraceMs: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const POD_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
const SPEC_KEYS = new Set(['containers', 'hostNetwork', 'priority', 'priorityClassName', 'securityContext', 'volumes', 'terminationGracePeriodSeconds', 'restartPolicy', 'tolerations', 'dnsPolicy', 'enableServiceLinks']);
const CONTAINER_KEYS = new Set(['name', 'image', 'imagePullPolicy', 'command', 'args', 'env', 'ports', 'livenessProbe', 'readinessProbe', 'startupProbe', 'resources', 'volumeMounts', 'securityContext', 'terminationMessagePath', 'terminationMessagePolicy']);
const PROBE_KEYS = new Set(['httpGet', 'initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds']);
const HTTP_GET_KEYS = new Set(['host', 'port', 'path', 'scheme', 'httpHeaders']);
const MOUNT_KEYS = new Set(['name', 'mountPath', 'readOnly', 'mountPropagation']);
const HOST_PATH_TYPES = new Set(['', 'File', 'FileOrCreate', 'Directory', 'DirectoryOrCreate']);
/** The kubelet's default terminationGracePeriodSeconds. */
const DEFAULT_GRACE_S = 30;

function unknownKeys(obj: Json, allowed: Set<string>): string[] {
  return Object.keys(obj ?? {}).filter((k) => !allowed.has(k) && obj[k] !== undefined && obj[k] !== null);
}

/** "registry.k8s.io/etcd:3.6.8-0" -> { name: "registry.k8s.io/etcd", tag: "3.6.8-0" }; a digest is a tag here. */
export function splitImage(image: string): { name: string; tag?: string } {
  const at = image.indexOf('@');
  if (at >= 0) return { name: image.slice(0, at), tag: image.slice(at + 1) };
  const colon = image.lastIndexOf(':');
  // A colon before the last slash is a registry port (localhost:5000/etcd), not a tag.
  if (colon > image.lastIndexOf('/')) return { name: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { name: image };
}

interface Mount {
  mountPath: string;
  hostPath: string;
}

/** The mount a container path falls under: the deepest one, as nested mounts shadow their parents. */
function mountFor(path: string, mounts: readonly Mount[]): Mount | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    const under = path === m.mountPath || path.startsWith(m.mountPath === '/' ? '/' : `${m.mountPath}/`);
    if (under && (!best || m.mountPath.length > best.mountPath.length)) best = m;
  }
  return best;
}

/**
 * Maps every path an argument names to where it lives under the node root. A path is a value that
 * begins with "/": a whole argument, the value of --flag=VALUE, or an element of a comma-separated
 * value. A URL (https://...) is not a path. Anything that looks like a path in another shape (a
 * key=/path pair, unix:///socket) is refused: the runner cannot tell where the program would look.
 */
function mapArg(pod: string, arg: string, root: string, mounts: readonly Mount[]): string {
  if (arg.includes('$(')) throw new StaticPodRefused(pod, `argument ${JSON.stringify(arg)} uses $(VAR) expansion, which this runner does not do`);
  const eq = arg.startsWith('-') ? arg.indexOf('=') : -1;
  const head = eq >= 0 ? arg.slice(0, eq + 1) : '';
  const value = eq >= 0 ? arg.slice(eq + 1) : arg;
  const items = value.split(',').map((item) => {
    if (!item.startsWith('/')) {
      if (/(^|[^:])=\/|:\/\/\//.test(item)) throw new StaticPodRefused(pod, `argument ${JSON.stringify(arg)} embeds a path in a form this runner cannot map`);
      return item;
    }
    if (posix.normalize(item) !== item) {
      throw new StaticPodRefused(pod, `path ${item} (in ${JSON.stringify(arg)}) is not normalised`);
    }
    const m = mountFor(item, mounts);
    if (!m) throw new StaticPodRefused(pod, `path ${item} (in ${JSON.stringify(arg)}) is under no volume mount: the container could not see it either`);
    return posix.join(root, m.hostPath, item.slice(m.mountPath.length));
  });
  return head + items.join(',');
}

function probeSpec(pod: string, kind: HttpProbeSpec['kind'], p: Json, ports: Map<string, number>): HttpProbeSpec | undefined {
  if (!p) return undefined;
  const bad = unknownKeys(p, PROBE_KEYS);
  if (bad.length) throw new StaticPodRefused(pod, `${kind}Probe has ${bad.join(', ')}: only httpGet probes are supported`);
  const g = p.httpGet;
  if (!g) throw new StaticPodRefused(pod, `${kind}Probe has no httpGet`);
  const badGet = unknownKeys(g, HTTP_GET_KEYS);
  if (badGet.length) throw new StaticPodRefused(pod, `${kind}Probe.httpGet has ${badGet.join(', ')}`);
  // With hostNetwork the pod's IP is the node's, which the runner does not know: refuse rather than guess.
  if (!g.host) throw new StaticPodRefused(pod, `${kind}Probe.httpGet has no host (the pod IP is not known to the runner)`);
  let port: number | undefined;
  if (typeof g.port === 'number') port = g.port;
  else if (typeof g.port === 'string' && /^\d+$/.test(g.port)) port = Number(g.port);
  else if (typeof g.port === 'string') port = ports.get(g.port);
  if (!port || port < 1 || port > 65535) throw new StaticPodRefused(pod, `${kind}Probe.httpGet.port ${JSON.stringify(g.port)} names no container port`);
  const scheme = String(g.scheme ?? 'HTTP').toUpperCase();
  if (scheme !== 'HTTP' && scheme !== 'HTTPS') throw new StaticPodRefused(pod, `${kind}Probe.httpGet.scheme ${g.scheme}`);
  const headers: Record<string, string> = {};
  for (const h of g.httpHeaders ?? []) headers[String(h.name)] = String(h.value);
  // The API's defaults (core/v1 SetDefaults_Probe).
  const seconds = (v: unknown, d: number) => (typeof v === 'number' ? v : d) * 1000;
  return {
    kind,
    host: String(g.host),
    port,
    path: String(g.path ?? '/'),
    scheme: scheme === 'HTTPS' ? 'https' : 'http',
    headers,
    initialDelayMs: seconds(p.initialDelaySeconds, 0),
    periodMs: seconds(p.periodSeconds, 10),
    timeoutMs: seconds(p.timeoutSeconds, 1),
    successThreshold: typeof p.successThreshold === 'number' ? p.successThreshold : 1,
    failureThreshold: typeof p.failureThreshold === 'number' ? p.failureThreshold : 3,
  };
}

/** The process a static pod manifest describes, with its paths inside `root`; throws StaticPodRefused. */
export function processSpec(manifest: Json, root: string, programs: ProgramTable): ProcessSpec {
  const pod = String(manifest?.metadata?.name ?? '(unnamed)');
  if (manifest?.apiVersion !== 'v1' || manifest?.kind !== 'Pod') throw new StaticPodRefused(pod, `not a v1 Pod (${manifest?.apiVersion}/${manifest?.kind})`);
  const badPod = unknownKeys(manifest, POD_KEYS);
  if (badPod.length) throw new StaticPodRefused(pod, `unknown top-level ${badPod.join(', ')}`);
  const spec = manifest.spec ?? {};
  if (spec.initContainers?.length) throw new StaticPodRefused(pod, 'initContainers are not supported');
  if (spec.ephemeralContainers?.length) throw new StaticPodRefused(pod, 'ephemeralContainers are not supported');
  const badSpec = unknownKeys(spec, SPEC_KEYS).filter((k) => k !== 'initContainers' && k !== 'ephemeralContainers');
  if (badSpec.length) throw new StaticPodRefused(pod, `spec has ${badSpec.join(', ')}, which this runner does not reproduce`);
  // Without the host network the pod would have its own addresses and loopback; a process has the node's.
  if (spec.hostNetwork !== true) throw new StaticPodRefused(pod, 'hostNetwork is not true');
  const containers: Json[] = spec.containers ?? [];
  if (containers.length !== 1) throw new StaticPodRefused(pod, `${containers.length} containers; exactly one is supported`);
  const c = containers[0];
  const badC = unknownKeys(c, CONTAINER_KEYS);
  if (badC.length) throw new StaticPodRefused(pod, `container ${c.name} has ${badC.join(', ')}, which this runner does not reproduce`);

  const image = String(c.image ?? '');
  const { name: imageName } = splitImage(image);
  const program = programs[image] ?? programs[imageName];
  if (!program) throw new StaticPodRefused(pod, `no program for image ${image} (have: ${Object.keys(programs).join(', ') || 'none'})`);
  const command: string[] = c.command ?? [];
  // Without a command the image's entrypoint runs, which the runner does not know.
  if (!command.length) throw new StaticPodRefused(pod, `container ${c.name} has no command (the image's entrypoint is unknown here)`);
  if (command[0] !== basename(program)) throw new StaticPodRefused(pod, `command ${JSON.stringify(command[0])} is not ${basename(program)}, the program of image ${image}`);

  const volumes = new Map<string, Json>();
  for (const v of spec.volumes ?? []) {
    const kinds = Object.keys(v).filter((k) => k !== 'name');
    if (kinds.length !== 1 || kinds[0] !== 'hostPath') throw new StaticPodRefused(pod, `volume ${v.name} is ${kinds.join('+') || 'empty'}; only hostPath volumes are supported`);
    const t = v.hostPath.type ?? '';
    if (!HOST_PATH_TYPES.has(t)) throw new StaticPodRefused(pod, `volume ${v.name} has hostPath type ${t}`);
    if (!posix.isAbsolute(v.hostPath.path)) throw new StaticPodRefused(pod, `volume ${v.name} hostPath ${v.hostPath.path} is not absolute`);
    volumes.set(v.name, v);
  }
  const mounts: Mount[] = [];
  const used: HostPathVolume[] = [];
  for (const m of c.volumeMounts ?? []) {
    const bad = unknownKeys(m, MOUNT_KEYS);
    if (bad.length) throw new StaticPodRefused(pod, `volumeMount ${m.name} has ${bad.join(', ')}`);
    const v = volumes.get(m.name);
    if (!v) throw new StaticPodRefused(pod, `volumeMount ${m.name} names no volume`);
    if (!posix.isAbsolute(m.mountPath)) throw new StaticPodRefused(pod, `volumeMount ${m.name} mountPath ${m.mountPath} is not absolute`);
    mounts.push({ mountPath: m.mountPath.replace(/(.)\/+$/, '$1'), hostPath: v.hostPath.path });
    used.push({ hostPath: v.hostPath.path, type: v.hostPath.type ?? '', readOnly: m.readOnly === true });
  }

  const args = [...command.slice(1), ...(c.args ?? [])].map((a: string) => mapArg(pod, String(a), root, mounts));
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.valueFrom) throw new StaticPodRefused(pod, `env ${e.name} uses valueFrom, which this runner does not resolve`);
    env[String(e.name)] = String(e.value ?? '');
  }
  const ports = new Map<string, number>();
  for (const p of c.ports ?? []) {
    if (p.protocol && p.protocol !== 'TCP') continue;
    if (p.name) ports.set(String(p.name), Number(p.containerPort));
  }
  const grace = typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : DEFAULT_GRACE_S;
  const probes: ProcessSpec['probes'] = {};
  const startup = probeSpec(pod, 'startup', c.startupProbe, ports);
  const readiness = probeSpec(pod, 'readiness', c.readinessProbe, ports);
  const liveness = probeSpec(pod, 'liveness', c.livenessProbe, ports);
  if (startup) probes.startup = startup;
  if (readiness) probes.readiness = readiness;
  if (liveness) probes.liveness = liveness;
  return { pod, image, program, args, env, volumes: used, probes, terminationGraceMs: grace * 1000 };
}
