// The coordinator's side of preflight: for every node with roles, the latest preflight report,
// the probe plan it should run and the probe results it sent, and the gate that holds back its
// assignment while preflight has unignored errors or is still waiting for facts or probes.
//
// In memory only. Reports derive from what is stored (facts, plan, assignments, the operator's
// ignore list) plus probe results, which a node re-sends when asked: after a coordinator restart
// every node still in preflight gets a new probe plan (ids come from the clock, so they only grow).
//
// Cost: evaluating a node is skipped when none of its inputs changed (a key of cheap values), and
// hostname uniqueness uses an index, so one node's update never walks the fleet. Probe plans are
// rebuilt in one coalesced pass over the nodes still in preflight.
//
// Probes are noisy, so neither one round nor one missing answer is final: latency is judged over
// each target's last few rounds (shared/preflight/latency-rounds.ts; a slow verdict needs
// LATENCY_ROUNDS of them, asked for at once), and a node that stays blocked, or waits for results
// that do not come, is asked to probe again with backoff (shared/probe/reprobe.ts) until it
// passes, installs or leaves preflight. Time comes from the injected clock and timers.
import type { Role } from '../../shared/constants.ts';
import type { Plan } from '../../shared/plan/index.ts';
import { runPreflight, IGNORE_ALL, addLatencyRound, withRounds, judgeLatency, LATENCY_ROUNDS, type PreflightReport, type LatencyHistory, type PeerLatency } from '../../shared/preflight/index.ts';
import { MAX_NAMED } from '../../shared/preflight/checks/hostname.ts';
import { buildProbeRing, buildProbePlan, type ProbeMember } from '../../shared/probe/targets.ts';
import type { FactsRecord } from '../state/records.ts';
import type { ProbePlanOut, ProbeResultsOut, Facts } from '../../shared/wire/types.ts';
import { stableStringify } from '../../shared/json.ts';
import { PROBE_LISTEN_HOLD_MS } from '../../shared/constants.ts';
import { realTimers, type Timers } from '../../shared/probe/timers.ts';
import { ReprobeSchedule, compileReprobeOptions, type ReprobeKind, type ReprobeOptions } from '../../shared/probe/reprobe.ts';

/**
 * passed: no unignored errors; blocked: errors hold back the assignment; pending: waiting for
 * facts or probe results; failing: errors on a node already installed with these roles (drift:
 * shown, but does not hold back updates); "": the node has no role to check.
 */

/** A planning pass waits at least this many times the last one's duration (see #schedulePlanning). */
const PLANNING_SPACING = 4;
export type PreflightState = 'passed' | 'blocked' | 'pending' | 'failing' | '';

/** What the tracker needs to know about one node; the cluster state supplies it. */
export interface PreflightNodeInput {
  name: string;
  address: string;
  /** Roles of the node's assignment (delivered or held back); empty: not checked. */
  roles: readonly Role[];
  /** The node applied an assignment with all of these roles before: preflight no longer gates it. */
  installed: boolean;
  facts: FactsRecord | undefined;
}

export interface NodePreflight {
  node: string;
  address: string;
  roles: readonly Role[];
  state: PreflightState;
  detail: string;
  /** The assignment is held back. */
  gated: boolean;
  report: PreflightReport | null;
  probes: ProbeResultsOut | null;
  atMs: number;
  /** When the node will be asked to probe again (clock ms), while it is held back; absent: not planned. */
  reprobeAtMs?: number;
}

interface Entry {
  input: PreflightNodeInput;
  /** Inputs of the last evaluation; equal keys skip re-running the checks. */
  key: string;
  report: PreflightReport | null;
  state: PreflightState;
  detail: string;
  atMs: number;
  hostname: string;
  probePort: number;
  clockEstimateMs: number | undefined;
  /** sinceId: the first id issued with this content; re-probes re-issue it under newer ids. */
  probePlan: { id: number; sinceId: number; content: string; plan: ProbePlanOut } | null;
  results: ProbeResultsOut | null;
  /** The plan id the results answer (the current plan's id when they answered an earlier id of the same targets). */
  resultsFor: number;
  /** The plan id the results carried: a repeat of it (or an older id) is not a new round. */
  resultsId: number;
  resultsAtMs: number;
  /** Each latency target's last rounds. */
  latencyRounds: LatencyHistory;
  /** What the node waits for, when a new probe round would help: see #evaluate. */
  reprobe: ReprobeKind | null;
  /** Roles of the last assignment handed to the agent: it closes its temporary listeners then. */
  deliveredRoles: readonly Role[] | null;
}

export interface PreflightTrackerOptions {
  clock: () => number;
  /** Wakes the nodes' pending WatchAssignment calls (gate opened, new probe plan). */
  notify: (names: string[]) => void;
  /** Coalescing window for re-planning probes. @default 50 */
  planDelayMs?: number;
  /** Timers for re-planning and re-probing; tests pass fake ones driven with their clock. @default realTimers (unref'd) */
  timers?: Timers;
  /** Backoff of re-probes of held-back nodes. @default 5 s doubling to 5 min, equal jitter; confirming rounds after 1 s */
  reprobe?: ReprobeOptions;
}

const PEER_CHECKS = ['peer-latency', 'peer-reach'];

/**
 * Nodes sharing a hostname. A finding names at most MAX_NAMED namesakes ("and others" after),
 * so a node's view is the first few names of its group: `first` keeps them (sorted) without
 * re-sorting the group on every join, and a join that does not change them re-checks nobody.
 * A fleet of clones all named "localhost" stays linear.
 */
interface HostnameGroup {
  members: Set<string>;
  first: string[];
}
const FIRST = MAX_NAMED + 2;

export class PreflightTracker {
  readonly #o: PreflightTrackerOptions;
  readonly #entries = new Map<string, Entry>();
  /** lower-case hostname -> the nodes reporting it, and the first few of them by name. */
  readonly #byHostname = new Map<string, HostnameGroup>();
  #plan: Plan | null = null;
  #planKey = '';
  #operatorIgnore: string[] = [];
  #lastProbeId = 0;
  readonly #timers: Timers;
  #cancelPlanning: (() => void) | null = null;
  readonly #reprobes: ReprobeSchedule;

  constructor(o: PreflightTrackerOptions) {
    this.#o = o;
    this.#timers = o.timers ?? realTimers;
    this.#reprobes = new ReprobeSchedule({ options: compileReprobeOptions(o.reprobe), timers: this.#timers, clock: o.clock, fire: (name) => this.#reprobe(name) });
  }

  // ------------------------------------------------------------------ inputs

  /** The plan in force; re-evaluates every node when it changed. */
  setPlan(plan: Plan | null, revision: number): void {
    if (plan === this.#plan) return;
    this.#plan = plan;
    this.#planKey = `${revision}`;
    this.#reevaluateAll();
  }

  /** The operator's ignore list (`muster preflight --ignore`), stored by the cluster state. */
  setOperatorIgnore(names: readonly string[]): void {
    const next = [...new Set(names.map((n) => n.trim().toLowerCase()).filter(Boolean))].sort();
    if (stableStringify(next) === stableStringify(this.#operatorIgnore)) return;
    this.#operatorIgnore = next;
    this.#reevaluateAll();
  }

  get operatorIgnore(): readonly string[] {
    return this.#operatorIgnore;
  }

  /** The plan's ignore list plus the operator's. */
  ignored(): string[] {
    return [...new Set([...(this.#plan?.cluster.preflight.ignore ?? []).map((n) => n.toLowerCase()), ...this.#operatorIgnore])].sort();
  }

  /** Peer checks are not both ignored: nodes must probe before they pass. */
  probesNeeded(): boolean {
    const ig = new Set(this.ignored());
    return !ig.has(IGNORE_ALL) && !PEER_CHECKS.every((c) => ig.has(c));
  }

  /** From each Report: the node's probe port and the clock offset estimated from sent_at_ms. */
  noteReport(name: string, probePort: number, clockEstimateMs: number | undefined): void {
    const e = this.#entries.get(name);
    if (!e) return;
    // A port peers would echo back in their results goes into plans only when it is one.
    if (!isPort(probePort) && probePort !== 0) probePort = 0;
    const portChanged = e.probePort !== probePort;
    e.probePort = probePort;
    // Only a change that matters to the clock check is worth a re-evaluation.
    const before = e.clockEstimateMs;
    e.clockEstimateMs = clockEstimateMs;
    if (before === undefined || clockEstimateMs === undefined || Math.abs(before - clockEstimateMs) > 100) this.#evaluate(e);
    if (portChanged) this.#schedulePlanning();
  }

  /**
   * From each WatchAssignment: the probe port alone. A node whose facts do not change may not
   * report for a long time (after a coordinator restart, never), but it always watches.
   */
  notePort(name: string, probePort: number): void {
    const e = this.#entries.get(name);
    if (!e || e.probePort === probePort || !isPort(probePort)) return;
    e.probePort = probePort;
    this.#schedulePlanning();
  }

  /**
   * Adds or updates nodes (after a recompute, a facts change, an apply). Nodes not named keep
   * their entries; `forget` drops one.
   */
  update(inputs: Iterable<PreflightNodeInput>): void {
    for (const input of inputs) {
      let e = this.#entries.get(input.name);
      if (!e) {
        e = { input, key: '', report: null, state: '', detail: '', atMs: 0, hostname: '', probePort: 0, clockEstimateMs: undefined, probePlan: null, results: null, resultsFor: 0, resultsId: 0, resultsAtMs: 0, latencyRounds: new Map(), reprobe: null, deliveredRoles: null };
        this.#entries.set(input.name, e);
      }
      const rolesChanged = stableStringify(e.input.roles) !== stableStringify(input.roles) || e.input.installed !== input.installed || e.input.address !== input.address;
      e.input = input;
      this.#evaluate(e);
      if (rolesChanged) this.#schedulePlanning();
    }
  }

  /** The node's assignment was handed out: it leaves preflight (closes its role-port listeners). */
  noteDelivered(name: string, roles: readonly Role[]): void {
    const e = this.#entries.get(name);
    if (!e) return;
    e.deliveredRoles = roles;
    this.#syncReprobe(e);
    this.#schedulePlanning();
  }

  /** Installed, or handed its assignment for these roles: its role ports are not ours to probe. */
  #leftPreflight(e: Entry): boolean {
    return e.input.installed || (e.deliveredRoles !== null && e.input.roles.every((r) => e.deliveredRoles!.includes(r)));
  }

  forget(name: string): void {
    const e = this.#entries.get(name);
    if (!e) return;
    this.#entries.delete(name);
    this.#reprobes.reset(name);
    this.#setHostname(name, e.hostname, '');
    this.#schedulePlanning();
  }

  /**
   * Results of a probe plan; ignored unless they answer the node's current plan: its id, or an
   * earlier id of the same targets (a re-probe went out while the agent was running that one).
   * Each taken result is one round of latency history.
   */
  recordProbeResults(name: string, results: ProbeResultsOut): boolean {
    const e = this.#entries.get(name);
    const p = e?.probePlan;
    const id = Number(results.plan_id);
    if (!e || !p || id < p.sinceId || id > p.id || id <= e.resultsId) return false;
    e.results = results;
    e.resultsFor = p.id;
    e.resultsId = id;
    e.resultsAtMs = this.#o.clock();
    e.latencyRounds = addLatencyRound(e.latencyRounds, results.latency);
    this.#evaluate(e);
    // This node's role ports are open now: peers that must reach them get them in their plans.
    this.#schedulePlanning();
    return true;
  }

  // ------------------------------------------------------------------ outputs

  get(name: string): NodePreflight | null {
    const e = this.#entries.get(name);
    return e ? this.#view(e) : null;
  }

  all(): NodePreflight[] {
    return [...this.#entries.values()].sort((a, b) => (a.input.name < b.input.name ? -1 : 1)).map((e) => this.#view(e));
  }

  /** Why the node's assignment is held back, or null when it may be delivered. */
  gateReason(name: string): string | null {
    const e = this.#entries.get(name);
    if (!e || e.input.installed || e.state === 'passed' || e.state === 'failing') return null;
    if (!e.input.roles.length) return null;
    return `preflight ${e.state}: ${e.detail}`;
  }

  /** The probe plan the node should run when it has not run it yet (its last id is older). */
  probePlanFor(name: string, lastRunId: number): ProbePlanOut | null {
    const p = this.#entries.get(name)?.probePlan;
    return p && p.id > lastRunId ? p.plan : null;
  }

  close(): void {
    this.#cancelPlanning?.();
    this.#cancelPlanning = null;
    this.#reprobes.close();
  }

  // ------------------------------------------------------------------ evaluation

  #view(e: Entry): NodePreflight {
    return {
      node: e.input.name,
      address: e.input.address,
      roles: e.input.roles,
      state: e.state,
      detail: e.detail,
      gated: this.gateReason(e.input.name) !== null,
      report: e.report,
      probes: e.results,
      atMs: e.atMs,
      ...(this.#reprobes.due(e.input.name) ? { reprobeAtMs: this.#reprobes.due(e.input.name)!.atMs } : {}),
    };
  }

  #reevaluateAll(): void {
    for (const e of this.#entries.values()) this.#evaluate(e);
    this.#schedulePlanning();
  }

  #setHostname(name: string, before: string, after: string): void {
    if (before === after) return;
    const affected: string[] = [];
    if (before) {
      const g = this.#byHostname.get(before);
      if (g) {
        g.members.delete(name);
        if (g.members.size === 0) this.#byHostname.delete(before);
        else if (g.first.includes(name)) {
          // Rare: rebuild the first few with one scan, and let every member re-check.
          g.first = smallest([...g.members], FIRST);
          affected.push(...g.members);
        }
      }
    }
    if (after) {
      let g = this.#byHostname.get(after);
      if (!g) this.#byHostname.set(after, (g = { members: new Set(), first: [] }));
      g.members.add(name);
      if (g.first.length < FIRST || name < g.first[g.first.length - 1]!) {
        g.first = [...g.first, name].sort().slice(0, FIRST);
        affected.push(...[...g.members].filter((n) => n !== name));
      }
    }
    // Nodes whose namesakes (as a finding names them) changed re-run their uniqueness check.
    for (const n of affected) {
      const pe = this.#entries.get(n);
      if (pe && pe.input.name !== name) this.#evaluate(pe);
    }
  }

  /**
   * Reach results towards peers still in preflight. A peer handed its assignment since the probe
   * closed its temporary listeners (its real components take the ports), so a failure towards it
   * says nothing about the path; the next probe plan leaves it out.
   */
  #preInstallReach(results: ProbeResultsOut): ProbeResultsOut['reach'] {
    return results.reach.filter((r) => {
      const peer = this.#entries.get(r.target?.node_name ?? '');
      return r.ok || !peer || !this.#leftPreflight(peer);
    });
  }

  /** The namesakes a node's finding names: up to MAX_NAMED + 1 (one more says "and others"). */
  #namesakes(name: string, hostname: string): string[] {
    const g = hostname ? this.#byHostname.get(hostname) : undefined;
    if (!g) return [];
    return g.first.filter((n) => n !== name).slice(0, MAX_NAMED + 1);
  }

  #evaluate(e: Entry): void {
    const { input } = e;
    const facts = input.facts;
    const hostname = (facts?.facts.network?.hostname ?? '').toLowerCase();
    if (hostname !== e.hostname) {
      const before = e.hostname;
      e.hostname = hostname;
      this.#setHostname(input.name, before, hostname);
    }
    const namesakes = this.#namesakes(input.name, hostname);
    const probeId = e.probePlan?.id ?? 0;
    const resultsId = e.resultsId;
    const clockBucket = e.clockEstimateMs === undefined ? 'x' : Math.round(e.clockEstimateMs / 100);
    const key = [this.#planKey, this.#operatorIgnore.join(','), input.roles.join(','), input.installed, facts?.atMs ?? 0, facts?.complete ?? false, namesakes.join(','), probeId, resultsId, clockBucket].join('|');
    if (key === e.key) {
      this.#syncReprobe(e);
      return;
    }
    e.key = key;
    const gateBefore = this.gateReason(input.name);

    e.reprobe = null;
    if (!this.#plan || input.roles.length === 0) {
      e.report = null;
      e.state = '';
      e.detail = this.#plan ? 'no role assigned' : 'no plan';
    } else if (!facts || !facts.complete) {
      e.report = null;
      e.state = 'pending';
      e.detail = 'waiting for the node\'s first full facts report';
    } else {
      const latency = e.results ? withRounds(e.results.latency, e.latencyRounds) : null;
      const report = runPreflight(
        {
          node: input.name,
          roles: input.roles,
          facts: facts.facts as unknown as Facts,
          plan: this.#plan,
          peers: latency ? { latency, reach: this.#preInstallReach(e.results!) } : undefined,
          // The agent's NTP-style measurement (facts.clock) is better; the estimate from the
          // report's send time covers the first report, which cannot carry one yet.
          clockOffsetMs: facts.facts.clock ? undefined : e.clockEstimateMs,
          clusterHostnames: namesakes.map((n) => ({ node: n, hostname })),
        },
        undefined,
        this.#operatorIgnore,
      );
      e.report = report;
      const errors = report.results.filter((r) => r.severity === 'error');
      const awaitingProbes = !input.installed && this.probesNeeded() && (!e.probePlan || e.resultsFor !== e.probePlan.id);
      const unconfirmed = input.installed ? [] : this.#unconfirmedLatency(latency ?? []);
      // What another round would settle: results that did not come (or a blocked node's, which
      // may be stale), or a slow latency seen on fewer rounds than a verdict needs.
      e.reprobe = awaitingProbes ? 'backoff' : unconfirmed.length ? 'confirm' : errors.length && !input.installed ? 'backoff' : null;
      if (errors.length) {
        e.state = input.installed ? 'failing' : 'blocked';
        const names = [...new Set(errors.map((r) => r.check))];
        e.detail = `${errors.length} ${errors.length === 1 ? 'error' : 'errors'}: ${names.join(', ')}${input.installed ? ' (after install: not holding back updates)' : ''}`;
      } else if (awaitingProbes) {
        e.state = 'pending';
        e.detail = e.probePlan ? `waiting for the node's probe results (plan ${e.probePlan.id})` : 'waiting for a probe plan';
      } else if (unconfirmed.length) {
        e.state = 'pending';
        const max = this.#plan.cluster.preflight.max_peer_latency_ms;
        e.detail = `confirming peer latency: ${unconfirmed.map((u) => `${u.node} over ${max} ms in ${u.slow} of ${u.rounds} probe ${u.rounds === 1 ? 'round' : 'rounds'}`).join(', ')}; ${LATENCY_ROUNDS} rounds decide`;
      } else {
        e.state = 'passed';
        const warnings = report.results.filter((r) => r.severity === 'warning').length;
        const ignored = report.results.filter((r) => r.severity === 'ignored').length;
        e.detail = [warnings && `${warnings} ${warnings === 1 ? 'warning' : 'warnings'}`, ignored && `${ignored} ignored`].filter(Boolean).join(', ');
      }
    }
    e.atMs = this.#o.clock();
    this.#syncReprobe(e);
    // Wake the node's watch when its gate opens, or when why it is closed changed (its log says why).
    if (gateBefore !== this.gateReason(input.name)) this.#o.notify([input.name]);
  }

  /**
   * Control-plane targets whose latency looks slow on fewer rounds than a verdict needs (the
   * check only warns about them): the node stays pending and probes again soon.
   */
  #unconfirmedLatency(latency: readonly PeerLatency[]): Array<{ node: string; slow: number; rounds: number }> {
    const ig = new Set(this.ignored());
    if (!this.#plan || ig.has(IGNORE_ALL) || ig.has('peer-latency')) return [];
    const max = this.#plan.cluster.preflight.max_peer_latency_ms;
    const out: Array<{ node: string; slow: number; rounds: number }> = [];
    for (const l of latency) {
      if (l.target?.sample) continue;
      const v = judgeLatency(l, max);
      if (v.slow && !v.settled) out.push({ node: l.target?.node_name || '?', slow: v.rounds.filter((r) => r.median_ms < 0 || r.median_ms > max).length, rounds: v.rounds.length });
    }
    return out;
  }

  // ------------------------------------------------------------------ re-probing

  /** Arms or cancels the node's re-probe after a change: wanted while it is held back in preflight. */
  #syncReprobe(e: Entry): void {
    if (e.reprobe && e.probePlan && !this.#leftPreflight(e)) this.#reprobes.arm(e.input.name, e.reprobe);
    else this.#reprobes.reset(e.input.name);
  }

  /** A re-probe is due: the same targets under a new plan id, and the node's watch woken to fetch it. */
  #reprobe(name: string): void {
    const e = this.#entries.get(name);
    if (!e?.probePlan || !e.reprobe || this.#leftPreflight(e)) return;
    const id = this.#nextProbeId();
    e.probePlan = { ...e.probePlan, id, plan: { ...e.probePlan.plan, id } };
    this.#evaluate(e);
    this.#o.notify([name]);
  }

  /** Ids only grow, also across coordinator restarts: an agent runs a plan newer than its last. */
  #nextProbeId(): number {
    return (this.#lastProbeId = Math.max(this.#lastProbeId + 1, this.#o.clock()));
  }

  // ------------------------------------------------------------------ probe planning

  /** How long the last planning pass took, ms. */
  #lastPlanningMs = 0;

  /**
   * Planning passes over every node, so they are spaced by at least PLANNING_SPACING times the
   * last one's duration: a join storm (every delivery schedules one) then costs a bounded share
   * of the coordinator instead of one pass over the fleet per planDelayMs.
   */
  #schedulePlanning(): void {
    if (this.#cancelPlanning) return;
    this.#cancelPlanning = this.#timers.after(Math.max(this.#o.planDelayMs ?? 50, PLANNING_SPACING * this.#lastPlanningMs), () => {
      this.#cancelPlanning = null;
      // On the tracker's clock, so tests with a fake one see no spacing.
      const t0 = this.#o.clock();
      this.#planProbes();
      this.#lastPlanningMs = this.#o.clock() - t0;
    });
  }

  /** One pass: every node still in preflight gets the plan for the current membership. */
  #planProbes(): void {
    const plan = this.#plan;
    const now = this.#o.clock();
    const needed = plan !== null && this.probesNeeded();
    const members: ProbeMember[] = [];
    for (const e of this.#entries.values()) {
      if (!e.input.roles.length || !e.input.address) continue;
      const ranPlanWithPorts = e.results !== null && (e.probePlan?.plan.listen_ports.length ?? 0) > 0;
      members.push({
        name: e.input.name,
        address: e.input.address,
        roles: e.input.roles,
        probePort: e.probePort,
        // Role ports are open only while the node is in preflight and its listeners still run.
        listening: !this.#leftPreflight(e) && ranPlanWithPorts && now - e.resultsAtMs < PROBE_LISTEN_HOLD_MS,
      });
    }
    const ring = needed ? buildProbeRing(members) : null;
    const woken: string[] = [];
    for (const e of this.#entries.values()) {
      const inPreflight = needed && !e.input.installed && e.input.roles.length > 0 && e.input.address !== '';
      if (!inPreflight) {
        if (e.probePlan) {
          e.probePlan = null;
          this.#evaluate(e);
        }
        continue;
      }
      const p = buildProbePlan(e.input.name, ring!, { id: 0, networking: plan!.cluster.networking.type, timeoutMs: plan!.cluster.preflight.probe_timeout_ms });
      const content = stableStringify({ ...p, id: 0 });
      if (e.probePlan?.content === content) continue;
      const id = this.#nextProbeId();
      e.probePlan = { id, sinceId: id, content, plan: { ...p, id } };
      this.#evaluate(e);
      woken.push(e.input.name);
    }
    if (woken.length) this.#o.notify(woken);
  }
}

/** The k smallest strings, sorted (one pass; k is tiny). */
function smallest(names: string[], k: number): string[] {
  const out: string[] = [];
  for (const n of names) {
    if (out.length < k) out.push(n);
    else if (n < out[k - 1]!) out[k - 1] = n;
    else continue;
    out.sort();
  }
  return out.sort();
}

function isPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}
