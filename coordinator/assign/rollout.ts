// A change to the control plane reaches it one node at a time: a node's new assignment is held
// until the one before it applied its own (an ok apply report of that very revision, which an
// agent sends only once what it restarted serves again: a master's API server, an etcd member's
// etcd, agent/kube/). A control-plane change is a new Kubernetes version or new node settings
// (image registry, runtime, proxy and overlay modes; a master's API server shutdown delay):
// either restarts the static pods, and all masters at once would take the API down, all etcd
// members at once lose quorum, and a wrong registry would break every one of them together.
//
// The order: a node that has not applied its current assignment (down, or failing) goes first,
// since restarting it costs nothing and restarting a healthy etcd member while another is down
// is what loses quorum (for an etcd member that is not a master, this is the one exception to
// the version order below: its kubelet may be a minor ahead of the API servers until they follow);
// then the masters, then the etcd members that are not masters (the etcd image follows the
// Kubernetes minor, shared/render/versions.ts), each in name order. While a master has not
// applied its committed body, no control-plane change goes; while an etcd member has not, no
// change goes to another etcd member (a master without etcd may then go ahead of the stacked ones).
//
// Then the other nodes: a kubelet may not be newer than the API servers (Kubernetes version skew
// policy), so a non-master's version change waits until every master applied the new version
// (their settings changes are not held). A node that is new (no previous body), that takes up a
// role it did not have, or whose version and settings are unchanged is never held.
// Pure: the state layer passes the bodies and the apply reports, and keeps a held node's previous
// body; the recomputation after the next report lets the next one go.
import { jsonEqual } from '../../shared/json.ts';
import { compareText } from './order.ts';

export interface RolloutBody {
  roles: readonly string[];
  kubernetes_version: string;
  /** NodeSettings: what a node's static pods and runtime are configured with besides the version. */
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
  /** The node being waited for. */
  waitingFor: string;
  /** What that node is to the held one: "master" or "etcd member". */
  waitingForRole: 'master' | 'etcd member';
  /** What the held change is: "Kubernetes v1.35.4 -> v1.36.3", "settings (apiserver_shutdown_delay)", or both. */
  change: string;
}

/** Settings only a master's components read: a change of them alone holds no other node. */
export const MASTER_ONLY_SETTINGS: readonly string[] = ['apiserver_shutdown_delay'];

const isMaster = (b: RolloutBody) => b.roles.includes('master');
const isEtcd = (b: RolloutBody) => b.roles.includes('etcd');

/** The top-level settings fields that differ, in name order. */
function settingsChanged(a: unknown, b: unknown): string[] {
  if (jsonEqual(a ?? null, b ?? null)) return [];
  const x = (a && typeof a === 'object' ? a : {}) as Record<string, unknown>;
  const y = (b && typeof b === 'object' ? b : {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => !jsonEqual(x[k] ?? null, y[k] ?? null)).sort(compareText);
}

/** The sentence a held node's status shows. */
export function holdReason(h: RolloutHold): string {
  return `${h.change} waits for ${h.waitingForRole} ${h.waitingFor} to apply its assignment first (the control plane takes a new version or settings one node at a time: masters, then etcd members; the other nodes' version follows the masters')`;
}

/**
 * The nodes whose new assignment must wait, and for whom. Of the control-plane nodes whose change
 * is due, only the first may go, and only while no master (and, for an etcd member, no other
 * etcd member) has yet to apply its committed body; the others wait for it. Non-masters changing
 * version wait for the masters.
 */
export function rolloutHolds<B extends RolloutBody>(i: RolloutInputs<B>): RolloutHold[] {
  const names = [...i.next.keys()].sort(compareText);
  const prevOf = (n: string) => i.previous.get(n)?.body;
  const role = (n: string): 'master' | 'etcd member' => (isMaster(i.next.get(n) ?? prevOf(n)!) ? 'master' : 'etcd member');
  // The group a node is rolled with: a master that was one, an etcd member (not a master) that was one.
  const group = (n: string): 'master' | 'etcd' | null => {
    const prev = prevOf(n);
    const next = i.next.get(n)!;
    if (!prev) return null;
    if (isMaster(next)) return isMaster(prev) ? 'master' : null;
    return isEtcd(next) && isEtcd(prev) ? 'etcd' : null;
  };
  const describe = (n: string, settings: 'all' | 'node' | 'none'): string => {
    const prev = prevOf(n)!;
    const next = i.next.get(n)!;
    const parts = prev.kubernetes_version !== next.kubernetes_version ? [`Kubernetes ${prev.kubernetes_version} -> ${next.kubernetes_version}`] : [];
    const fields = settings === 'none' ? [] : settingsChanged(prev.settings, next.settings).filter((f) => settings === 'all' || !MASTER_ONLY_SETTINGS.includes(f));
    if (fields.length) parts.push(`settings (${fields.join(', ')})`);
    return parts.join(' and ');
  };
  const changeOf = (n: string): string => {
    const g = group(n);
    return g ? describe(n, g === 'master' ? 'all' : 'node') : '';
  };
  const notApplied = (n: string) => {
    const prev = i.previous.get(n);
    if (!prev) return false;
    const r = i.applied(n);
    return !r || !r.ok || r.revision < prev.revision;
  };
  // The ones not applied first; masters before etcd members; then by name.
  const rank = (n: string) => (notApplied(n) ? 0 : 2) + (group(n) === 'master' ? 0 : 1);
  const changing = names.filter((n) => changeOf(n) !== '').sort((a, b) => rank(a) - rank(b) || compareText(a, b));
  // Nodes whose committed body is not applied and that are not changing again (those go first, above).
  const busy = (pred: (b: RolloutBody) => boolean) => names.find((n) => !changing.includes(n) && prevOf(n) && pred(prevOf(n)!) && notApplied(n));
  const busyMaster = busy(isMaster);
  const busyEtcd = busy(isEtcd);
  const holds: RolloutHold[] = [];
  const hold = (name: string, waitingFor: string, change: string) => holds.push({ name, waitingFor, waitingForRole: role(waitingFor), change });
  // A master waits for a master that has not applied; an etcd member for an etcd member too.
  const blockerOf = (n: string) => busyMaster ?? (isEtcd(i.next.get(n)!) || isEtcd(prevOf(n)!) ? busyEtcd : undefined);
  // The one that goes: the first nothing blocks (a master without etcd may pass a stacked one
  // that waits for a down etcd member; an applied etcd member never passes a master, as both
  // wait for whatever blocks the master).
  const goes = changing.find((n) => !blockerOf(n));
  for (const n of changing) {
    const blocker = blockerOf(n) ?? (n === goes ? undefined : goes);
    if (blocker) hold(n, blocker, changeOf(n));
  }
  // Non-masters' versions wait for the masters: one that has not applied, or the first still changing.
  const waitFor = busyMaster ?? changing.find((n) => group(n) === 'master');
  if (waitFor) {
    for (const n of names) {
      if (changing.includes(n) || isMaster(i.next.get(n)!) || !prevOf(n)) continue;
      const change = describe(n, 'none');
      if (change) hold(n, waitFor, change);
    }
  }
  return holds;
}
