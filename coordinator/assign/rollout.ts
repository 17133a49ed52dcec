// A Kubernetes version change reaches the masters one at a time: the next master's new assignment
// is held until the one before it applied its own (an ok apply report of that very revision).
// Masters go in name order. Pure: the state layer passes the bodies and the apply reports, and
// keeps a held node's previous body; the recomputation after the next report lets the next one go.
// Then the other nodes: a kubelet may not be newer than the API servers (Kubernetes version skew
// policy), so a non-master's version change waits until every master applied the new version. A
// node that is new (no previous body) or whose version is unchanged is never held.
import { compareText } from './order.ts';

export interface RolloutBody {
  roles: readonly string[];
  kubernetes_version: string;
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
  from: string;
  to: string;
}

const isMaster = (b: RolloutBody) => b.roles.includes('master');

/**
 * The nodes whose new assignment must wait, and for whom. While any master has not applied its
 * committed body (mid-upgrade, or failing), every master changing version waits for it; otherwise
 * the first changing master goes and the others wait for it. Non-masters changing version wait
 * for that same master.
 */
export function rolloutHolds<B extends RolloutBody>(i: RolloutInputs<B>): RolloutHold[] {
  const names = [...i.next.keys()].sort(compareText);
  const masters = names.filter((n) => isMaster(i.next.get(n)!));
  const changes = (n: string) => {
    const prev = i.previous.get(n);
    return !!prev && prev.body.kubernetes_version !== i.next.get(n)!.kubernetes_version;
  };
  const changing = masters.filter((n) => changes(n) && isMaster(i.previous.get(n)!.body));
  const others = names.filter((n) => !masters.includes(n) && changes(n));
  const notApplied = (n: string) => {
    const prev = i.previous.get(n);
    if (!prev || !isMaster(prev.body)) return false;
    const r = i.applied(n);
    return !r || !r.ok || r.revision < prev.revision;
  };
  const hold = (name: string, waitingFor: string): RolloutHold => ({ name, waitingFor, from: i.previous.get(name)!.body.kubernetes_version, to: i.next.get(name)!.kubernetes_version });
  const busy = masters.find((m) => !changing.includes(m) && notApplied(m));
  const masterHolds = busy ? changing.map((n) => hold(n, busy)) : changing.slice(1).map((n) => hold(n, changing[0]!));
  // Non-masters wait for the masters: one still changing, or one that has not applied.
  const waitFor = busy ?? changing[0];
  return [...masterHolds, ...(waitFor ? others.map((n) => hold(n, waitFor)) : [])];
}
