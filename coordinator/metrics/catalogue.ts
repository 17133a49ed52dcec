// Every metric the coordinator exports, in one place (served by ./http.ts on --metrics-address).
// Labels are bounded sets only -- gRPC method names and status codes, node states and roles,
// certificate kinds from the catalogue, error kinds -- never node names, addresses, tokens or
// anything a caller chooses. Gauges over the state (nodes by state and role, watches held, the
// certificate horizon) are computed when scraped, O(nodes) once per scrape; the event paths
// only bump counters and histograms, whose cost does not grow with the fleet.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkBudgetStats } from '../server/admission/work-budget.ts';

/** What the scrape-time gauges read; bound once the coordinator has its state (before that they read empty). */
export interface MetricSources {
  /** Every registered node's state and roles (status rows). */
  nodes(): Iterable<{ state: string; roles: readonly string[] }>;
  /** WatchAssignment calls held open now. */
  watchesHeld(): number;
  /** TLS connections past their handshake, open now and accepted since start, by class (anonymous, node, admin). */
  connections(): { open: Record<string, number>; accepted: Record<string, number> };
  /** The expensive-work budget (admission/work-budget.ts). */
  work(): WorkBudgetStats;
  /** ms since the epoch of the earliest expiry known, per scope; Infinity when none. */
  earliestExpiryMs(): { identity: number; cluster: number };
  /** ms since the epoch. */
  now(): number;
}

const NO_ROLE = 'none';
/** RPC latency buckets, seconds: unary calls take ms; a held watch up to MAX_WATCH_HOLD_MS. */
const RPC_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Store commit buckets, seconds: one fsync is ~0.1-10 ms. */
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class CoordinatorMetrics {
  readonly registry = new Registry();
  #sources: MetricSources | null = null;

  readonly joins = new Counter({ name: 'muster_joins_total', help: 'Join calls answered, by result ("joined" or the gRPC status code).', labelNames: ['result'] as const, registers: [this.registry] });
  readonly signatures = new Counter({
    name: 'muster_signatures_total',
    help: 'Certificates signed by the coordinator (or refused), by kind (node-identity, admin-identity, admin-kubeconfig, or the cluster certificate kind) and result.',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  readonly rpcDuration = new Histogram({
    name: 'muster_rpc_duration_seconds',
    help: 'gRPC calls served, by method and status code, from the handler starting to its answer.',
    labelNames: ['method', 'code'] as const,
    buckets: RPC_BUCKETS,
    registers: [this.registry],
  });
  readonly commitDuration = new Histogram({ name: 'muster_store_commit_duration_seconds', help: 'Store group commits, from the commit to durable and shown (sqlite: COMMIT, then the WAL fdatasync off the event loop), by duration.', buckets: COMMIT_BUCKETS, registers: [this.registry] });
  readonly commitTransactions = new Counter({ name: 'muster_store_committed_transactions_total', help: 'Transactions committed by the store (several per group commit).', registers: [this.registry] });

  constructor() {
    const self = this;
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'muster_nodes',
      help: 'Registered nodes, by state and role (a node with two roles is counted under each; "none" before it has one).',
      labelNames: ['state', 'role'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const n of self.#sources?.nodes() ?? []) {
          if (!n.roles.length) this.inc({ state: n.state, role: NO_ROLE });
          for (const r of n.roles) this.inc({ state: n.state, role: r });
        }
      },
    });
    new Gauge({
      name: 'muster_connections',
      help: 'TLS connections open past their handshake, by class: anonymous (bootstrap: GetCA and Join), node or admin (by the verified client certificate).',
      labelNames: ['class'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [c, n] of Object.entries(self.#sources?.connections().open ?? {})) this.set({ class: c }, n);
      },
    });
    new Counter({
      name: 'muster_connections_accepted_total',
      help: 'TLS connections accepted past their handshake since start, by class (a join costs one anonymous and one node connection).',
      labelNames: ['class'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [c, n] of Object.entries(self.#sources?.connections().accepted ?? {})) this.inc({ class: c }, n);
      },
    });
    new Gauge({ name: 'muster_watches_held', help: 'WatchAssignment long polls held open.', registers: [this.registry], collect() { this.set(self.#sources?.watchesHeld() ?? 0); } });
    new Gauge({ name: 'muster_expensive_work_running', help: 'Expensive calls (Join, RenewIdentity, IssueCertificates) running in the work budget.', registers: [this.registry], collect() { this.set(self.#sources?.work().running ?? 0); } });
    new Gauge({ name: 'muster_expensive_work_queue_depth', help: 'Expensive calls waiting for the work budget.', registers: [this.registry], collect() { this.set(self.#sources?.work().queued ?? 0); } });
    new Counter({
      name: 'muster_expensive_work_rejected_total',
      help: 'Expensive calls answered RESOURCE_EXHAUSTED because the work queue was full.',
      registers: [this.registry],
      collect() {
        const total = self.#sources?.work().rejected ?? 0;
        this.reset();
        this.inc(total);
      },
    });
    new Gauge({
      name: 'muster_certificate_expiry_horizon_seconds',
      help: 'Seconds until the earliest expiry among the certificates the coordinator knows: scope "identity" (its own CAs and serving certificate), "cluster" (cluster CAs and the leaves it issued). Absent while none is known.',
      labelNames: ['scope'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        const s = self.#sources;
        if (!s) return;
        const at = s.earliestExpiryMs();
        const now = s.now();
        for (const scope of ['identity', 'cluster'] as const) if (Number.isFinite(at[scope])) this.set({ scope }, (at[scope] - now) / 1000);
      },
    });
  }

  bind(sources: MetricSources): void {
    this.#sources = sources;
  }

  /** One store group commit: its duration and how many transactions it carried. */
  commit(ms: number, transactions: number): void {
    this.commitDuration.observe(ms / 1000);
    this.commitTransactions.inc(transactions);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
