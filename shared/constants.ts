// One place for the names, paths, ports and defaults that both the coordinator and the agent use.
// Paths are relative to a node root ("/" on a real node, a directory in tests and the demo); join
// them with the root through shared/fs/node-root.ts, never by hand.

export const PRODUCT = 'muster';
export const API_PACKAGE = 'muster.v1';

/** Default coordinator gRPC port (agents, admin CLI). */
export const DEFAULT_COORDINATOR_PORT = 7443;
/**
 * Default address of the coordinator's plain-HTTP metrics and health listener (/metrics, /healthz,
 * /readyz): loopback, so nothing is exposed unless the operator says so. 9464 is the OpenTelemetry
 * Prometheus exporter's default port, clear of muster's 7443/7444.
 */
export const DEFAULT_METRICS_PORT = 9464;
export const DEFAULT_METRICS_ADDRESS = `127.0.0.1:${DEFAULT_METRICS_PORT}`;
/** /healthz fails when the event loop was blocked for longer than this. */
export const METRICS_STALL_MS = 10_000;
/**
 * An agent's first contact waits a random time in [0, this) (full jitter): a fleet booted
 * together does not join in one burst. Small, so one node started by hand is not kept waiting;
 * large fleets set it to their size over the coordinator's join rate (--startup-jitter).
 */
export const DEFAULT_STARTUP_JITTER_MS = 2_000;
/**
 * After an established coordinator connection fails (a restart), the first retry waits a random
 * time in [0, this): the fleet's reconnects are spread over the window instead of landing in
 * the first 500 ms of backoff together.
 */
export const DEFAULT_RECONNECT_JITTER_MS = 5_000;
/**
 * Reconnections a coordinator takes back per second after a restart, for the window it advises
 * its agents (the fleet's size over this rate; an agent uses the larger of that and its own
 * --reconnect-jitter-ms). Each is a new mutual-TLS connection and a watch: `node
 * bench/grpc-floor.ts` measured 3.7 ms of server CPU for a new connection with one call on a
 * 2-core machine, about 270 a second on one core; 200 leaves room for the calls that follow.
 */
export const RECONNECTS_PER_SECOND = 200;
/** The advised reconnect window is at most this (an agent also never waits longer). */
export const MAX_RECONNECT_WINDOW_MS = 300_000;

/** Default port an agent listens on for latency and reachability probes from its peers. */
export const DEFAULT_PROBE_PORT = 7444;
/**
 * How long an agent keeps its temporary role-port listeners open after its last probe plan (it
 * closes them earlier when it applies its assignment: the real components need the ports). The
 * coordinator sends peers a node's role ports to probe only within this window.
 */
export const PROBE_LISTEN_HOLD_MS = 10 * 60_000;

// ---- Kubernetes ports (REFERENCE.md section 3) ----
export const PORTS = {
  apiserver: 6443,
  etcdClient: 2379,
  etcdPeer: 2380,
  kubeletApi: 10250,
  kubeletHealthz: 10248,
  kubeProxyHealth: 10256,
  kubeProxyMetrics: 10249,
  controllerManager: 10257,
  scheduler: 10259,
  bgp: 179,
  vxlanUdp: 4789,
  nodePortFirst: 30000,
  nodePortLast: 32767,
  ssh: 22,
} as const;

// ---- Files on a node (kubeadm's layout), relative to the node root ----
export const NODE_PATHS = {
  musterDir: 'etc/muster',
  assignmentFile: 'etc/muster/assignment.yaml',
  kubernetesDir: 'etc/kubernetes',
  manifestsDir: 'etc/kubernetes/manifests',
  pkiDir: 'etc/kubernetes/pki',
  kubeletConfig: 'var/lib/kubelet/config.yaml',
  dockerDaemonJson: 'etc/docker/daemon.json',
} as const;

// ---- Agent state directory layout (relative to --state-dir) ----
export const AGENT_STATE = {
  /** The CA that signs the coordinator's serving certificate: what the agent pinned. */
  caCert: 'ca.crt',
  /** The node's identity: certificate followed by its private key, one file (0600) so that a
   * renewal replaces both in one atomic rename. */
  identity: 'identity.pem',
  /** A key made for a join that has not completed yet; a retried join reuses it, so the
   * coordinator sees the same (token, name, key) and does not count the token twice. */
  joinKey: 'join.key',
  nodeFile: 'node.json',
  appliedFile: 'applied.json',
  /** Every file muster wrote on the node (its manifest): what stale-file removal and decommissioning remove. */
  ownedFiles: 'owned-files.json',
} as const;
export const DEFAULT_AGENT_STATE_DIR = '/var/lib/muster-agent';
export const DEFAULT_AGENT_CONFIG_FILE = '/etc/muster/agent.yaml';

// ---- Coordinator data directory layout (relative to --data-dir) ----
// Three trust domains, three CAs (docs/ARCHITECTURE.md "Trust domains"): the server CA signs only
// the coordinator's serving certificate and is what agents and admins pin; the node CA signs
// node identities (client auth only); the admin CA signs admin credentials.
export const COORDINATOR_DATA = {
  serverCaCert: 'pki/server-ca.crt',
  serverCaKey: 'pki/server-ca.key',
  nodeCaCert: 'pki/node-ca.crt',
  nodeCaKey: 'pki/node-ca.key',
  adminCaCert: 'pki/admin-ca.crt',
  adminCaKey: 'pki/admin-ca.key',
  serverCert: 'pki/server.crt',
  serverKey: 'pki/server.key',
  adminCert: 'pki/admin.crt',
  adminKey: 'pki/admin.key',
  /** Present only while a first start is creating the CAs and the state (a crash then resumes). */
  initialising: 'pki/.initialising',
  /** The single-CA layout of muster before the trust domains were split. */
  legacyCaCert: 'pki/ca.crt',
  adminConfig: 'admin.yaml',
  database: 'state.db',
} as const;
export const DEFAULT_COORDINATOR_DATA_DIR = '/var/lib/muster';

// ---- The cluster's PKI in the coordinator data dir (relative to --data-dir) ----
// Separate from muster's own identity CAs above: these sign what Kubernetes and etcd trust
// (docs/ARCHITECTURE.md "Trust domains"). kubeadm's file names, so an operator bringing CAs from
// a kubeadm cluster (`muster certs import-ca`) recognises them. Keys 0600; they never leave here.
export const CLUSTER_PKI = {
  dir: 'cluster-pki',
  kubernetes: { cert: 'cluster-pki/ca.crt', key: 'cluster-pki/ca.key' },
  etcd: { cert: 'cluster-pki/etcd/ca.crt', key: 'cluster-pki/etcd/ca.key' },
  'front-proxy': { cert: 'cluster-pki/front-proxy-ca.crt', key: 'cluster-pki/front-proxy-ca.key' },
  /** The service-account signing key pair every master shares. */
  serviceAccountKey: 'cluster-pki/sa.key',
  serviceAccountPub: 'cluster-pki/sa.pub',
} as const;
/** Subject CNs of the cluster CAs muster creates (kubeadm's). */
export const CLUSTER_CA_CNS = { kubernetes: 'kubernetes', etcd: 'etcd-ca', 'front-proxy': 'front-proxy-ca' } as const;

// ---- Identity certificates ----
/** Organization (O) of node identity certificates; CN is the node name. */
export const NODE_ORG = 'muster:nodes';
/** Organization (O) of admin client certificates. */
export const ADMIN_ORG = 'muster:admins';
/** Organization (O) of the coordinator's serving certificate; agents and admins require it. */
export const COORDINATOR_ORG = 'muster:coordinators';
export const ADMIN_CN = 'muster-admin';
export const COORDINATOR_CN = 'muster-coordinator';
export const CA_CNS = { server: 'muster-server-ca', node: 'muster-node-ca', admin: 'muster-admin-ca' } as const;
/** CA lifetime: 10 years, like kubeadm's CAs. */
export const IDENTITY_CA_DAYS = 3650;
/** Node, admin and server identity certificates: 1 year, renewed at 70-90% of their lifetime. */
export const IDENTITY_CERT_DAYS = 365;
/**
 * kube-apiserver's --shutdown-delay-duration by default, in seconds (the plan's
 * master.apiserver_shutdown_delay sets another). On SIGTERM (the kubelet stopping the pod
 * for a new manifest: an upgrade, a renewed certificate, a CA rotation stage) it keeps serving this
 * long while /readyz fails, so a load balancer that checks /readyz takes it out of rotation before
 * it stops listening. kubeadm sets none, and the connections a load balancer still sends a
 * restarting API server are reset (test/k8s/upgrade.test.ts saw it). 15 s covers health checks
 * up to 5 s apart with three failures to mark a server down (HAProxy's defaults are 2 s and 3);
 * a slower one (AWS NLB: 10 s x 3) needs its own value. The pod's grace period adds the drain:
 * requests in flight get the API server's default request timeout (APISERVER_REQUEST_TIMEOUT_S).
 */
export const APISERVER_SHUTDOWN_DELAY_S = 15;
/** The longest shutdown delay a plan may set: every restart holds a master out of rotation this long. */
export const APISERVER_SHUTDOWN_DELAY_MAX_S = 600;
/** kube-apiserver's default --request-timeout: what requests in flight get to finish after the delay. */
export const APISERVER_REQUEST_TIMEOUT_S = 60;
/**
 * Nodes outside the control plane take a change that restarts their components (a CA rotation
 * stage, a new version or settings) in batches of this fraction of them, at least one: a bad
 * change stops at one batch (coordinator/assign/rollout.ts, coordinator/pki/rotation.ts).
 */
export const WORKER_BATCH_DIVISOR = 10;

/** How many of `n` workers take such a change at once. */
export function workerBatchSize(n: number): number {
  return Math.max(1, Math.ceil(n / WORKER_BATCH_DIVISOR));
}
/** Renewal happens at a random point in this fraction of a certificate's lifetime (kubelet's rule). */
export const RENEW_WINDOW = [0.7, 0.9] as const;

// ---- Bootstrap tokens (kubeadm's format) ----
export const TOKEN_ID_RE = /^[a-z0-9]{6}$/;
export const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const DEFAULT_TOKEN_TTL_MS = 24 * 3600_000;

// ---- Long poll and retry ----
/** Longest time the coordinator holds a WatchAssignment call open before answering "unchanged". */
export const MAX_WATCH_HOLD_MS = 60_000;
export const DEFAULT_WATCH_HOLD_MS = 30_000;
/** How often an agent re-sends its facts (only changed sections) while idle. */
export const DEFAULT_REPORT_INTERVAL_MS = 60_000;
/**
 * A node silent for longer than this shows as `offline` in status: three report intervals, so one
 * lost report (or a coordinator restart) is not an outage. Agents also touch "last seen" with each
 * long poll (at most MAX_WATCH_HOLD_MS apart), so a live agent is seen well inside it.
 */
export const OFFLINE_AFTER_MS = 3 * DEFAULT_REPORT_INTERVAL_MS;
/** How often the coordinator writes in-memory "last seen" times to the store. */
export const LAST_SEEN_FLUSH_MS = 5_000;

// ---- Roles ----
export const ROLES = ['etcd', 'master', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export const NODE_ROLE_LABELS = {
  controlPlane: 'node-role.kubernetes.io/control-plane',
  masterLegacy: 'node-role.kubernetes.io/master',
  node: 'node-role.kubernetes.io/node',
} as const;

/** Environment variable prefix for agent and CLI settings (MUSTER_COORDINATOR, MUSTER_TOKEN, ...). */
export const ENV_PREFIX = 'MUSTER_';

/**
 * V8 flags the coordinator runs with (the bundle's shebang, tests and benchmarks), measured with
 * `node bench/fleet.ts`:
 * - old space grows by at most 30% over what survived the last full GC (V8 picks 10-300% from its
 *   GC speed): right after a plan change reaches the fleet it held 70 MB for 26 MB live. Five runs
 *   at 1,000 agents: RSS 281-294 -> 264-274 MB, coordinator CPU 6.9-7.7 -> 8.4-9.7 s.
 * - a 16 MiB young-generation semi-space (V8's default on 64-bit), not 1 MiB: with 256 joins in
 *   flight a 1 MiB nursery promotes most of their short-lived objects, which the old-space GC then
 *   marks and compacts. At 1,000 agents (two runs each, a quiet machine): coordinator CPU per join
 *   26.2-27.1 -> 24.1-24.7 ms, RSS 291-300 -> 305-316 MB; `--heap-growing-percent=100` on top
 *   measured 20.8-24.4 ms for 327-334 MB (not taken: within the noise for 7% more memory). 1 MiB
 *   had been chosen for memory at a time when a join cost far less CPU; it is a constant ~30 MB.
 */
export const COORDINATOR_NODE_FLAGS = ['--max-semi-space-size=16', '--heap-growing-percent=30'] as const;

/**
 * V8 flags the agent runs with (the bundle's shebang, its single executable, bench/apply.ts),
 * measured with `node bench/apply.ts` (idle RSS of a master+etcd node / a worker, load 10-12):
 * - a 1 MiB young-generation semi-space instead of up to 16 MiB: 136/135 -> 117/105 MB;
 * - lite mode (no optimising compilers, feedback allocated lazily): 117/105 -> 80/76 MB, at the
 *   same pass CPU (20 ms on the master): the agent waits on the network and the disk, and its
 *   hot work (hashing, TLS, X.509) is native. It also leaves out WebAssembly, which the agent
 *   does not use (long.js falls back to JavaScript). `--no-opt --no-maglev --no-sparkplug`,
 *   which keeps it, measured 82/82 MB.
 */
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=1', '--lite-mode'] as const;
