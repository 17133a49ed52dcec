// A cheap simulated agent for bench/fleet.ts: the real agent's conversation with the coordinator
// and nothing of its work on the node. Each one still has its own key, sends its own CSR, joins
// through the same bootstrap channels (GetCA checked against the pin, then Join), holds its own
// mutual-TLS identity and one long poll, asks for the cluster certificates its roles need and
// reports every apply -- so the coordinator does for it exactly what it does for a real node.
// What it skips is the node side: no files rendered or written, no probe listener, no facts
// collection, no state dir (the real agent costs ~30 ms of CPU per node at join, most of it there).
// Its gRPC client is bench/h2-grpc.ts, not grpc-js: the same messages, headers and keepalive on
// the wire, without grpc-js's per-channel machinery, which was most of a simulated agent's CPU.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Metadata } from '@grpc/grpc-js';
import { H2Channel, type ChannelTls, type Method } from './h2-grpc.ts';
import { caPin, createCsr, createKey } from '../shared/pki/x509.ts';
import { kindsForRoles } from '../shared/pki/catalogue.ts';
import { checkCoordinatorIdentity } from '../shared/pki/coordinator-identity.ts';
import { musterV1 } from '../shared/wire/proto.ts';
import { isRetryable, fromServiceError, advisedReconnectMs } from '../shared/wire/status.ts';
import { compileRetry, reconnectDelayMs, sleep } from '../shared/retry.ts';
import type { Facts } from '../shared/wire/types.ts';
import { CaPinMismatchError, MusterError } from '../shared/errors/index.ts';

const CALL_TIMEOUT_MS = 15_000;
/** The real agent's default first-reconnect window (--reconnect-jitter-ms); the coordinator's advice can widen it. */
const RECONNECT_JITTER_MS = 5000;
const retry = compileRetry({ initialMs: 200, maxMs: 5000 });

const BOOTSTRAP = musterV1.Bootstrap.service;
const AGENT = musterV1.Agent.service;

// The bootstrap channels' TLS, shared by a process's agents (as in agent/client/channels.ts, but
// one secure context for all: a bootstrap connection presents no client certificate, so the
// context says only what is trusted). GetCA verifies nothing (its answer is checked against the
// pin); Join trusts the CA that passed the pin and checks the coordinator's identity.
const untrustedTls: ChannelTls = { secureContext: createSecureContext({}), rejectUnauthorized: false, checkServerIdentity: () => undefined };
const pinnedContexts = new Map<string, SecureContext>();
const pinnedTls = (caCertPem: string): ChannelTls => {
  let secureContext = pinnedContexts.get(caCertPem);
  if (!secureContext) pinnedContexts.set(caCertPem, (secureContext = createSecureContext({ ca: caCertPem })));
  return { secureContext, rejectUnauthorized: true, checkServerIdentity: checkCoordinatorIdentity };
};

// The pin of each CA PEM answered, computed once: every agent's answer is still compared.
const pins = new Map<string, string>();
const pinOf = (pem: string): string => pins.get(pem) ?? pins.set(pem, caPin(pem)).get(pem)!;

/** One call on a channel that lives for it, closed after (the real agent's bootstrap channels). */
async function oneShot<Req, Res>(target: string, t: ChannelTls, m: Method<Req, Res>, req: Req, signal: AbortSignal): Promise<Res> {
  const ch = new H2Channel(target, t);
  try {
    return await ch.call(m, req, CALL_TIMEOUT_MS, signal);
  } finally {
    ch.close();
  }
}

export interface SimAgentOptions {
  coordinator: string;
  token: string;
  caHash: string;
  name: string;
  address: string;
  /** Report interval (a small facts update each time, as a live node sends). */
  reportIntervalMs: number;
  watchHoldMs: number;
  /** Held from key generation until the first report is answered: bounds joins in flight. */
  joinSlot: () => Promise<() => void>;
}

export interface SimEvents {
  joined(at: number): void;
  /** A WatchAssignment answer carried assignment `revision`. */
  received(revision: number, at: number): void;
  /** ReportApply for `revision` was acknowledged. */
  applied(revision: number, at: number): void;
  /** A call failed for good or was retried (counted by call and error kind, not fatal). */
  error(what: string, kind: string, message: string): void;
}

function facts(address: string, availableBytes: number): Facts {
  return {
    cpu: { model: 'sim', physical_cores: 2, logical_cores: 2, speed_mhz: 2000, architecture: 'amd64' },
    memory: { total_bytes: 4 * 2 ** 30, available_bytes: availableBytes, swap_total_bytes: 0, swap_used_bytes: 0 },
    network: { hostname: 'sim', fqdn: 'sim', interfaces: [], default_interface: 'lo', default_address: address },
  };
}

/** Epoch milliseconds with sub-millisecond resolution: comparable across processes. */
export const now = (): number => performance.timeOrigin + performance.now();

export async function runSimAgent(o: SimAgentOptions, ev: SimEvents, signal: AbortSignal): Promise<void> {
  const withRetry = async <T>(what: string, attempt: () => Promise<T>): Promise<T> => {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        const e = err instanceof MusterError ? err : fromServiceError(err, o.coordinator);
        ev.error(what, e.kind, e.message);
        if (!isRetryable(e)) throw e;
        // As the real agent (agent/loop/agent.ts): a lost coordinator's first retry is spread
        // over the reconnect window, then backoff with full jitter, never sooner than a hint.
        await sleep(reconnectDelayMs(retry, n, e, e.kind === 'unavailable' ? Math.max(RECONNECT_JITTER_MS, advisedMs) : 0), signal);
      }
    }
  };

  // The coordinator's advised reconnect window, from its watch headers (as the real agent).
  let advisedMs = 0;
  const noteHeaders = (h: Metadata) => (advisedMs = advisedReconnectMs(h) ?? advisedMs);
  let ch!: H2Channel;
  const call = <Req, Res>(what: string, m: Method<Req, Res>, req: Req, timeout = CALL_TIMEOUT_MS, onHeaders?: (h: Metadata) => void) =>
    withRetry(what, () => ch.call(m, req, timeout, signal, onHeaders));
  let available = 3 * 2 ** 30;
  const report = (full: boolean) => {
    available -= 4096; // a live node's memory moves: every report carries a (small) change
    const f = facts(o.address, available);
    return call('Report', AGENT.Report, { facts: full ? f : { memory: f.memory }, full, sent_at_ms: Date.now(), labels: {}, address: o.address, agent_version: 'bench', probe_port: 0, probes: null });
  };

  const release = await o.joinSlot();
  let needFull: boolean;
  let keyPem: string;
  try {
    keyPem = await createKey();
    // agent/client/join.ts, on these channels: GetCA checked against the pin, then Join with the
    // token and a CSR for this agent's key (made again on each attempt, as there).
    const { caCertPem, certPem } = await withRetry('join', async () => {
      const { ca_cert_pem: caCertPem } = await oneShot(o.coordinator, untrustedTls, BOOTSTRAP.GetCA, {}, signal);
      const actual = pinOf(caCertPem);
      if (actual !== o.caHash) throw new CaPinMismatchError(o.caHash, actual, o.coordinator);
      const { csrPem } = await createCsr(o.name, keyPem);
      const req = { token: o.token, node_name: o.name, csr_pem: csrPem, machine_id: '', agent_version: 'bench', labels: {}, address: o.address };
      const res = await oneShot(o.coordinator, pinnedTls(caCertPem), BOOTSTRAP.Join, req, signal);
      return { caCertPem, certPem: res.cert_pem };
    });
    // The identity channel: mutual TLS with this agent's own key and certificate.
    ch = new H2Channel(o.coordinator, { secureContext: createSecureContext({ ca: caCertPem, key: keyPem, cert: certPem }), rejectUnauthorized: true, checkServerIdentity: checkCoordinatorIdentity });
    signal.addEventListener('abort', () => ch.close(), { once: true });
    needFull = (await report(true)).need_full_facts;
  } finally {
    release();
  }
  ev.joined(now());
  // Reports start at a random point of the first interval, as a fleet started at once spreads out.
  let nextReportAt = Date.now() + Math.random() * o.reportIntervalMs;
  let applied = 0;
  let certsFor = '';
  let probeRan = 0;
  while (!signal.aborted) {
    if (needFull || Date.now() >= nextReportAt) {
      needFull = (await report(needFull)).need_full_facts;
      nextReportAt = Date.now() + o.reportIntervalMs;
    }
    const hold = Math.max(0, Math.min(o.watchHoldMs, nextReportAt - Date.now()));
    const res = await call('WatchAssignment', AGENT.WatchAssignment, { applied_revision: applied, hold_ms: hold, probe_plan_id: probeRan, probe_port: 0 }, hold + CALL_TIMEOUT_MS, noteHeaders);
    if (res.probe_plan) probeRan = Number(res.probe_plan.id); // nothing to probe from: port 0, peers skip us
    if (!res.changed || !res.assignment) continue;
    const a = res.assignment;
    const revision = Number(a.revision);
    ev.received(revision, now());
    // The cluster certificates the roles need, once per set of roles (the real agent asks again
    // only when one is due or its signer changes, which a bench never does).
    const kinds = kindsForRoles(a.roles);
    const want = kinds.map((k) => k.kind).join(',');
    if (want && want !== certsFor) {
      const requests = [];
      for (const k of kinds) requests.push({ kind: k.kind, csr_pem: (await createCsr(k.cn(o.name), keyPem)).csrPem });
      await call('IssueCertificates', AGENT.IssueCertificates, { requests });
      certsFor = want;
    }
    await call('ReportApply', AGENT.ReportApply, { revision, ok: true, error: '', files: [], duration_ms: 0, roles: a.roles, drift: [], removed: [] });
    applied = revision;
    ev.applied(revision, now());
  }
}
