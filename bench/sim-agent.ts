// A cheap simulated agent for bench/fleet.ts: the real agent's conversation with the coordinator
// and nothing of its work on the node. Each one still has its own key, sends its own CSR, joins
// through the same bootstrap channels (GetCA checked against the pin, then Join), holds its own
// mutual-TLS identity and one long poll, asks for the cluster certificates its roles need and
// reports every apply -- so the coordinator does for it exactly what it does for a real node.
// What it skips is the node side: no files rendered or written, no probe listener, no facts
// collection, no state dir (the real agent costs ~30 ms of CPU per node at join, most of it there).
import { join } from '../agent/client/join.ts';
import { agentClient } from '../agent/client/channels.ts';
import { createCsr, createKey } from '../shared/pki/x509.ts';
import { kindsForRoles } from '../shared/pki/catalogue.ts';
import { unary, isRetryable, fromServiceError, advisedReconnectMs } from '../shared/wire/status.ts';
import type { Metadata } from '@grpc/grpc-js';
import { compileRetry, reconnectDelayMs, sleep } from '../shared/retry.ts';
import { silentLogger } from '../shared/log/logger.ts';
import type { AgentClient } from '../shared/wire/proto.ts';
import type { Facts } from '../shared/wire/types.ts';
import { MusterError } from '../shared/errors/index.ts';

const CALL_TIMEOUT_MS = 15_000;
/** The real agent's default first-reconnect window (--reconnect-jitter-ms); the coordinator's advice can widen it. */
const RECONNECT_JITTER_MS = 5000;
const log = silentLogger();
const retry = compileRetry({ initialMs: 200, maxMs: 5000 });

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
  let client!: AgentClient;
  const call = <K extends 'Report' | 'ReportApply' | 'WatchAssignment' | 'IssueCertificates'>(what: K, req: Parameters<typeof unary<AgentClient, K>>[3], timeout = CALL_TIMEOUT_MS) =>
    withRetry(what, () => unary(o.coordinator, client, what, req, timeout, signal));
  let available = 3 * 2 ** 30;
  const report = (full: boolean) => {
    available -= 4096; // a live node's memory moves: every report carries a (small) change
    const f = facts(o.address, available);
    return call('Report', { facts: full ? f : { memory: f.memory }, full, sent_at_ms: Date.now(), labels: {}, address: o.address, agent_version: 'bench', probe_port: 0, probes: null });
  };

  const release = await o.joinSlot();
  let needFull: boolean;
  let keyPem: string;
  try {
    keyPem = await createKey();
    const id = await withRetry('join', () =>
      join({ coordinator: o.coordinator, token: o.token, caHash: o.caHash, insecureSkipCaVerification: false, nodeName: o.name, keyPem, machineId: '', address: o.address, labels: {}, agentVersion: 'bench' }, log, signal),
    );
    client = agentClient(o.coordinator, id);
    signal.addEventListener('abort', () => client.close(), { once: true });
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
    const res = await withRetry('WatchAssignment', () => unary(o.coordinator, client, 'WatchAssignment', { applied_revision: applied, hold_ms: hold, probe_plan_id: probeRan, probe_port: 0 }, hold + CALL_TIMEOUT_MS, signal, noteHeaders));
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
      await call('IssueCertificates', { requests });
      certsFor = want;
    }
    await call('ReportApply', { revision, ok: true, error: '', files: [], duration_ms: 0, roles: a.roles, drift: [], removed: [] });
    applied = revision;
    ev.applied(revision, now());
  }
}
