// A change to the masters' control plane reaches them one at a time: the next master's new
// assignment is held until the one before it applied its own (an ok apply report of that very
// revision, which a master's agent sends only once its API server serves again). A control-plane
// change is a new Kubernetes version or new node settings (image registry, API server shutdown
// delay, runtime, proxy and overlay modes): either restarts the static pods, and all masters at
// once would take the API down, or, with a wrong registry, break every API server together.
// Masters go in name order. Pure: the state layer passes the bodies and the apply reports, and
// keeps a held node's previous body; the recomputation after the next report lets the next one go.
// Then the other nodes: a kubelet may not be newer than the API servers (Kubernetes version skew
// policy), so a non-master's version change waits until every master applied the new version
// (their settings changes are not held). A node that is new (no previous body), that becomes a
// master, or whose version and settings are unchanged is never held.
import { jsonEqual } from '../../shared/json.ts';
import { compareText } from './order.ts';

export interface RolloutBody {
  roles: readonly string[];
  kubernetes_version: string;
  /** NodeSettings: what a master's static pods and runtime are configured with besides the version. */
  settings?: unknown;
}

export interface RolloutInputs<B extends RolloutBody> {
  /** Each node's committed body with its revision. */
  previous: ReadonlyMap<string, { body: B; revision: number }>;
  /** What the engine gives each node now. */
  next: ReadonlyMap<string, B>;
  /** The node's last apply report: the revision and whether it applied. */
  applied: (name: string) => { revision: number; ok: boolean } | undefined;
}

export interface RolloutHold {
  name: string;
  /** The master being waited for. */
  waitingFor: string;
  /** What the held change is: "Kubernetes v1.35.4 -> v1.36.3", "settings (apiserver_shutdown_delay)", or both. */
  change: string;
}

const isMaster = (b: RolloutBody) => b.roles.includes('master');

/** The top-level settings fields that differ, in name order. */
function settingsChanged(a: unknown, b: unknown): string[] {
  if (jsonEqual(a ?? null, b ?? null)) return [];
  const x = (a && typeof a === 'object' ? a : {}) as Record<string, unknown>;
  const y = (b && typeof b === 'object' ? b : {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => !jsonEqual(x[k] ?? null, y[k] ?? null)).sort(compareText);
}

/**
 * The nodes whose new assignment must wait, and for whom. While any master has not applied its
 * committed body (mid-rollout, or failing), every master whose control plane changes waits for
 * it; otherwise the first changing master goes and the others wait for it. Non-masters changing
 * version wait for that same master.
 */
export function rolloutHolds<B extends RolloutBody>(i: RolloutInputs<B>): RolloutHold[] {
  const names = [...i.next.keys()].sort(compareText);
  const masters = names.filter((n) => isMaster(i.next.get(n)!));
  const versionChanges = (n: string) => {
    const prev = i.previous.get(n);
    return !!prev && prev.body.kubernetes_version !== i.next.get(n)!.kubernetes_version;
  };
  const describe = (n: string, master: boolean): string => {
    const prev = i.previous.get(n)!.body;
    const next = i.next.get(n)!;
    const parts = prev.kubernetes_version !== next.kubernetes_version ? [`Kubernetes ${prev.kubernetes_version} -> ${next.kubernetes_version}`] : [];
    const fields = master ? settingsChanged(prev.settings, next.settings) : [];
    if (fields.length) parts.push(`settings (${fields.join(', ')})`);
    return parts.join(' and ');
  };
  const changing = masters.filter((n) => {
    const prev = i.previous.get(n);
    return !!prev && isMaster(prev.body) && describe(n, true) !== '';
  });
  const others = names.filter((n) => !masters.includes(n) && versionChanges(n));
  const notApplied = (n: string) => {
    const prev = i.previous.get(n);
    if (!prev || !isMaster(prev.body)) return false;
    const r = i.applied(n);
    return !r || !r.ok || r.revision < prev.revision;
  };
  const hold = (name: string, waitingFor: string, master: boolean): RolloutHold => ({ name, waitingFor, change: describe(name, master) });
  const busy = masters.find((m) => !changing.includes(m) && notApplied(m));
  const masterHolds = busy ? changing.map((n) => hold(n, busy, true)) : changing.slice(1).map((n) => hold(n, changing[0]!, true));
  // Non-masters wait for the masters: one still changing, or one that has not applied.
  const waitFor = busy ?? changing[0];
  return [...masterHolds, ...(waitFor ? others.map((n) => hold(n, waitFor, false)) : [])];
}
