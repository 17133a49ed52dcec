// The shapes of preflight: a check is a small named object (kubeadm's model), the runner stamps
// each finding with the check's name and the node, and a report says whether the node may be
// installed. The check name is the key users put in cluster.preflight.ignore.
import type { Role } from '../constants.ts';
import type { ClusterSpec, ContainerRuntimeSpec } from '../plan/types.ts';
import type { Facts } from '../../proto/gen/types/muster/v1/Facts.ts';
import type { LatencyResult } from '../../proto/gen/types/muster/v1/LatencyResult.ts';
import type { ReachResult } from '../../proto/gen/types/muster/v1/ReachResult.ts';

/** "ignored" is set only by the runner, for an error whose check is in the ignore list. */
export type CheckSeverity = 'error' | 'warning' | 'ignored';

export interface CheckResult {
  /** Stable kebab-case check name (docs/preflight.md). */
  check: string;
  node: string;
  severity: CheckSeverity;
  /** What the node has, e.g. "1.0 GiB of RAM". */
  found: string;
  /** What it should have, e.g. "at least 2 GiB of RAM (production master)". */
  required: string;
  /** What the operator (or the agent) should do about it. */
  fix: string;
  /** The agent could fix this itself (a sysctl, a kernel module) when allowed to. */
  fixableByAgent: boolean;
}

/** What a check returns; the runner adds the check name and the node. */
export interface Finding {
  severity: 'error' | 'warning';
  found: string;
  required: string;
  fix: string;
  fixableByAgent?: boolean;
}

/**
 * The parts of a plan preflight reads. A whole Plan fits; so does a hand-made object in tests
 * or in `muster-agent inspect` without a plan file.
 */
export interface PreflightPlan {
  cluster: Pick<ClusterSpec, 'preflight' | 'networking' | 'version'>;
  container_runtime: Pick<ContainerRuntimeSpec, 'type'>;
}

/** Latency and reachability measured by this node towards its peers (a ProbeResults message). */
export interface PeerProbes {
  latency?: PeerLatency[];
  reach?: ReachResult[];
}

/**
 * One target's latency: this round's result and, from the coordinator, the target's last few
 * rounds (shared/preflight/latency-rounds.ts), which peer-latency judges instead of one round.
 */
export interface PeerLatency extends LatencyResult {
  /** This target's round medians, oldest first, this round's last. Absent: judge this round alone. */
  rounds?: readonly LatencyRound[];
}

/** One probe round towards one target: its median (-1: every try failed), tries and error. */
export interface LatencyRound {
  median_ms: number;
  tries: number;
  error: string;
}

/** Another node of the cluster and its hostname, for the uniqueness check. */
export interface ClusterHostname {
  node: string;
  hostname: string;
}

export interface PreflightContext {
  /** The node's name (as registered; messages name it). */
  node: string;
  /** The roles the node is (or would be) assigned; checks run for the union of these. */
  roles: readonly Role[];
  /**
   * The node's facts. The input shape of the proto message, so that both the decoded message
   * (Facts__Output) and what the agent collects locally fit. A missing section means "not reported".
   */
  facts: Facts;
  plan: PreflightPlan;
  /** Probe results from this node, when it ran a probe plan. */
  peers?: PeerProbes;
  /** Node clock minus coordinator clock; overrides facts.clock.offset_ms when given. */
  clockOffsetMs?: number;
  /** Hostnames of the cluster's nodes (this node's own entry, if present, is skipped). */
  clusterHostnames?: readonly ClusterHostname[];
}

export interface Check {
  /** Stable kebab-case name; the key of cluster.preflight.ignore. */
  name: string;
  /** The roles the check applies to; it runs when the node has at least one of them. */
  roles: readonly Role[] | 'all';
  /** One-line description for docs and `inspect`. */
  description: string;
  /**
   * "cluster" when the check needs what only the coordinator knows (peer probes, the other nodes,
   * its clock); `muster-agent inspect` skips those instead of reporting them as passed.
   */
  scope?: 'node' | 'cluster';
  run(ctx: PreflightContext): Finding[];
}

export interface PreflightReport {
  node: string;
  /** True when no result has severity "error" (ignored errors and warnings do not block). */
  ok: boolean;
  /** Names of the checks that ran for this node's roles, in order. */
  checks: string[];
  results: CheckResult[];
}
