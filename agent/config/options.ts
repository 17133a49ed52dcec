// Agent settings: options (all optional) -> defaults -> compiled config, validated once here.
// Sources, highest first: command-line flags, MUSTER_* environment variables, the config file
// (--config, default /etc/muster/agent.yaml when it exists), built-in defaults.
import { readFileSync, existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, UsageError } from '../../shared/errors/index.ts';
import { DEFAULT_AGENT_CONFIG_FILE, DEFAULT_AGENT_STATE_DIR, DEFAULT_PROBE_PORT, DEFAULT_RECONNECT_JITTER_MS, DEFAULT_STARTUP_JITTER_MS, DEFAULT_REPORT_INTERVAL_MS, DEFAULT_WATCH_HOLD_MS, TOKEN_RE } from '../../shared/constants.ts';
import type { LogLevel } from '../../shared/log/logger.ts';

/** What a user may set. Every field is optional; see compileAgentOptions for defaults. */
export interface AgentOptions {
  /** host:port of the coordinator. Required. */
  coordinator?: string;
  /** Bootstrap token; needed only until the node has joined. */
  token?: string;
  /** sha256:<hex> pin of the coordinator CA; required for the first join unless insecureSkipCaVerification. */
  caHash?: string;
  /** @default false */
  insecureSkipCaVerification?: boolean;
  /** @default /var/lib/muster-agent */
  stateDir?: string;
  /** Directory treated as the node's "/" for every file the agent writes. @default "/" */
  root?: string;
  /** @default the host name */
  nodeName?: string;
  /** Address other nodes use for this one. @default the default-route address */
  address?: string;
  /** Labels the node declares (k=v,k2=v2), e.g. topology.kubernetes.io/zone=a. */
  labels?: Record<string, string>;
  /** @default "info" */
  logLevel?: LogLevel;
  /** How long each WatchAssignment may be held by the coordinator. @default 30000 */
  watchHoldMs?: number;
  /** How often facts are re-collected and changes sent. @default 60000 */
  reportIntervalMs?: number;
  /** TCP port of the probe listener peers measure latency to (on --address); 0 picks a free one. @default 7444 */
  probePort?: number;
  /** The first contact after start waits a random time in [0, this) ms (full jitter). @default DEFAULT_STARTUP_JITTER_MS (2000) */
  startupJitterMs?: number;
  /** The first retry after the coordinator connection is lost waits a random time in [0, this) ms. @default DEFAULT_RECONNECT_JITTER_MS (5000) */
  reconnectJitterMs?: number;
  /**
   * After an apply that changed a master's kube-apiserver manifest, how long to wait for the local
   * API server to be ready at the new version (the same version: restarted) before reporting the apply (0: do not wait).
   * @default 300000 where systemd runs the node (a kubelet will start the pod), 0 otherwise
   */
  readyTimeoutMs?: number;
}

export interface CompiledAgentOptions {
  coordinator: string;
  token: string | null;
  caHash: string | null;
  insecureSkipCaVerification: boolean;
  stateDir: string;
  root: string;
  nodeName: string;
  address: string;
  labels: Record<string, string>;
  logLevel: LogLevel;
  watchHoldMs: number;
  reportIntervalMs: number;
  probePort: number;
  startupJitterMs: number;
  reconnectJitterMs: number;
  /** null: decided by the service manager (agent/loop/agent.ts). */
  readyTimeoutMs: number | null;
}

const FILE_KEYS: Record<string, keyof AgentOptions> = {
  coordinator: 'coordinator',
  token: 'token',
  ca_hash: 'caHash',
  insecure_skip_ca_verification: 'insecureSkipCaVerification',
  state_dir: 'stateDir',
  root: 'root',
  node_name: 'nodeName',
  address: 'address',
  labels: 'labels',
  log_level: 'logLevel',
  watch_hold_ms: 'watchHoldMs',
  report_interval_ms: 'reportIntervalMs',
  probe_port: 'probePort',
  startup_jitter_ms: 'startupJitterMs',
  reconnect_jitter_ms: 'reconnectJitterMs',
  ready_timeout_ms: 'readyTimeoutMs',
};

export const ENV_KEYS: Record<string, keyof AgentOptions> = {
  MUSTER_COORDINATOR: 'coordinator',
  MUSTER_TOKEN: 'token',
  MUSTER_CA_HASH: 'caHash',
  MUSTER_INSECURE_SKIP_CA_VERIFICATION: 'insecureSkipCaVerification',
  MUSTER_STATE_DIR: 'stateDir',
  MUSTER_ROOT: 'root',
  MUSTER_NODE_NAME: 'nodeName',
  MUSTER_ADDRESS: 'address',
  MUSTER_NODE_LABELS: 'labels',
  MUSTER_LOG_LEVEL: 'logLevel',
  MUSTER_PROBE_PORT: 'probePort',
  MUSTER_STARTUP_JITTER_MS: 'startupJitterMs',
  MUSTER_RECONNECT_JITTER_MS: 'reconnectJitterMs',
  MUSTER_READY_TIMEOUT_MS: 'readyTimeoutMs',
};

export function parseLabels(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new UsageError(`${where}: label "${part}" must be key=value`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

function coerce(key: keyof AgentOptions, value: unknown, where: string): unknown {
  switch (key) {
    case 'insecureSkipCaVerification':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0' || value === '') return false;
      throw new UsageError(`${where}: expected true or false, got ${JSON.stringify(value)}`);
    case 'watchHoldMs':
    case 'reportIntervalMs':
    case 'startupJitterMs':
    case 'reconnectJitterMs':
    case 'readyTimeoutMs': {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new UsageError(`${where}: expected a number of milliseconds, got ${JSON.stringify(value)}`);
      return n;
    }
    case 'probePort': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${where}: expected a TCP port (0-65535, 0 picks a free one), got ${JSON.stringify(value)}`);
      return n;
    }
    case 'labels':
      if (typeof value === 'string') return parseLabels(value, where);
      if (value && typeof value === 'object' && !Array.isArray(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
      throw new UsageError(`${where}: expected a map of labels or "k=v,k2=v2"`);
    default:
      if (typeof value !== 'string') throw new UsageError(`${where}: expected a string, got ${JSON.stringify(value)}`);
      return value;
  }
}

/** Reads the config file; missing default file is fine, a missing explicit one is an error. */
export function readAgentConfigFile(path: string | undefined): AgentOptions {
  const file = path ?? DEFAULT_AGENT_CONFIG_FILE;
  if (!path && !existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read agent config ${file}: ${(err as Error).message}`);
  }
  if (raw == null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`agent config ${file}: expected a YAML map of settings`);
  const out: AgentOptions = {};
  for (const [k, v] of Object.entries(raw)) {
    const key = FILE_KEYS[k];
    if (!key) throw new ConfigError(`agent config ${file}: unknown setting "${k}"; known: ${Object.keys(FILE_KEYS).join(', ')}`);
    (out as Record<string, unknown>)[key] = coerce(key, v, `agent config ${file}: ${k}`);
  }
  return out;
}

export function optionsFromEnv(env: Record<string, string | undefined>): AgentOptions {
  const out: AgentOptions = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v !== undefined && v !== '') (out as Record<string, unknown>)[key] = coerce(key, v, `environment variable ${name}`);
  }
  return out;
}

export function compileAgentOptions(o: AgentOptions): CompiledAgentOptions {
  if (!o.coordinator) throw new UsageError('no coordinator: pass --coordinator HOST:PORT (or set MUSTER_COORDINATOR, or coordinator: in the config file); a node that has joined remembers it');
  if (!/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(o.coordinator)) throw new UsageError(`--coordinator ${o.coordinator}: expected HOST:PORT`);
  if (o.token && !TOKEN_RE.test(o.token)) {
    throw new UsageError('--token is malformed: a bootstrap token looks like abcdef.0123456789abcdef ([a-z0-9]{6}.[a-z0-9]{16})');
  }
  if (o.caHash && !/^sha256:[0-9a-f]{64}$/.test(o.caHash)) throw new UsageError(`--ca-hash ${o.caHash}: expected sha256:<64 hex digits>, as printed by the coordinator`);
  if (o.address && !isIP(o.address)) throw new UsageError(`--address ${o.address}: expected an IP address`);
  const probePort = o.probePort === undefined ? DEFAULT_PROBE_PORT : (coerce('probePort', o.probePort, '--probe-port') as number);
  const level = o.logLevel ?? 'info';
  if (!['error', 'warn', 'info', 'debug'].includes(level)) throw new UsageError(`--log-level ${level}: expected error, warn, info or debug`);
  return {
    coordinator: o.coordinator,
    token: o.token ?? null,
    caHash: o.caHash ?? null,
    insecureSkipCaVerification: o.insecureSkipCaVerification ?? false,
    stateDir: resolve(o.stateDir ?? DEFAULT_AGENT_STATE_DIR),
    root: resolve(o.root ?? '/'),
    nodeName: (o.nodeName ?? hostname()).toLowerCase(),
    address: o.address ?? '',
    labels: o.labels ?? {},
    logLevel: level,
    watchHoldMs: o.watchHoldMs ?? DEFAULT_WATCH_HOLD_MS,
    reportIntervalMs: o.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS,
    probePort,
    startupJitterMs: o.startupJitterMs === undefined ? DEFAULT_STARTUP_JITTER_MS : (coerce('startupJitterMs', o.startupJitterMs, '--startup-jitter-ms') as number),
    reconnectJitterMs: o.reconnectJitterMs === undefined ? DEFAULT_RECONNECT_JITTER_MS : (coerce('reconnectJitterMs', o.reconnectJitterMs, '--reconnect-jitter-ms') as number),
    readyTimeoutMs: o.readyTimeoutMs === undefined ? null : (coerce('readyTimeoutMs', o.readyTimeoutMs, '--ready-timeout-ms') as number),
  };
}
