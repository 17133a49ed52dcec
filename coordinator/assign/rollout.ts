// A change to the control plane reaches it one node at a time: a node's new assignment is held
// until the one before it applied its own (an ok apply report of that very revision, which an
// agent sends only once what it restarted serves again: a master's API server, an etcd member's
// etcd, agent/kube/). A control-plane change is a new Kubernetes version, new node settings
// (image registry, runtime, proxy and overlay modes; a master's API server shutdown delay), new
// etcd members or networking (CONTROL_PLANE_FIELDS), or an operator's certificate renewal
// (`muster certs renew --all`): each restarts the static pods, and all masters at once would
// take the API down, all etcd members at once lose quorum, and a wrong registry would break
// every one of them together. (A CA rotation admits nodes by its own stages, ../pki/rotation.ts.)
//
// The order: a node that has not applied its current assignment (down, or failing) goes first,
// since restarting it costs nothing and restarting a healthy etcd member while another is down
// is what loses quorum (for an etcd member that is also a worker, this is the one exception to
// the version order below: its kubelet may be a minor ahead of the API servers until they follow;
// a member that is only that runs a standalone kubelet, which talks to no API server);
// then the masters, then the etcd members that are not masters (the etcd image follows the
// Kubernetes minor, shared/render/versions.ts), each in name order. While a master has not
// applied its committed body, no control-plane change goes; while an etcd member has not, no
// change goes to another etcd member (a master without etcd may then go ahead of the stacked ones).
//
// Then the other nodes, once every master applied the change: a kubelet may not be newer than
// the API servers (Kubernetes version skew policy), and a change that breaks masters must not go
// on to the rest. They take a new version or settings a batch at a time, a tenth of them (at
// least one, shared/constants.ts): a node handed it holds its place until it applied it, so a
// bad registry or runtime option stops at one batch of failing nodes (kubeadm's advice, one node
// at a time, is a batch of one below eleven). A node that is offline takes no place: it gets its
// body at once and applies it when it is back (else an offline node would stop every rollout);
// the state layer recomputes when a node in a batch goes silent. Settings only masters read
// (MASTER_ONLY_SETTINGS) hold no other node.
//
// A node whose version and settings are unchanged is never held, nor is one that takes up a role
// it did not have (unless it stays an etcd member), nor a new one (no previous body) -- except a
// new worker while the masters change version, which waits for them with no body yet. Pure: the state layer passes the bodies, the apply
// reports and who is online, and keeps a held node's previous body; the recomputation after the
// next report lets the next one go.
import { jsonEqual } from '../../shared/json.ts';
import { workerBatchSize } from '../../shared/constants.ts';
import { compareText } from './order.ts';

export interface RolloutBody {
  roles: readonly string[];
  kubernetes_version: string;
  /** NodeSettings: what a node's static pods and runtime are configured with besides the version. */
  settings?: unknown;
  /** What else a control-plane node's static pods are made from (CONTROL_PLANE_FIELDS). */
  etcd_members?: unknown;
  networking?: unknown;
  /** The cluster PKI's part of the body (coordinator/pki/targets.ts): an operator's renewal request restarts what uses the new certificates. */
  pki?: { renew_before_ms?: number } | null;
}

export interface RolloutInputs<B extends RolloutBody> {
  /** Each node's committed body with its revision. */
  previous: ReadonlyMap<string, { body: B; revision: number }>;
  /** What the engine gives each node now. */
  next: ReadonlyMap<string, B>;
  /** The node's last apply report: the revision and whether it applied. */
  applied: (name: string) => { revision: number; ok: boolean } | undefined;
  /** Whether the node is online (seen within OFFLINE_AFTER_MS). @default every node is */
  live?: (name: string) => boolean;
}

/** The batch a held node outside the control plane waits for a place in. */
export interface RolloutBatch {
  /** How many nodes may hold an unapplied change at once. */
  size: number;
  /** The online nodes holding one now, in name order: a place frees when one applies or goes offline. */
  inFlight: readonly string[];
}

export interface RolloutHold {
  name: string;
  /** The node being waited for. */
  waitingFor: string;
  /** What that node is to the held one: a master or etcd member before it, or one of the batch in flight. */
  waitingForRole: 'master' | 'etcd member' | 'node';
  /** For a node outside the control plane waiting for a place in its batch. */
  batch?: RolloutBatch;
  /** What the held change is: "Kubernetes v1.35.4 -> v1.36.3", "settings (apiserver_shutdown_delay)", or both. */
  change: string;
}

/**
 * Besides version and settings, what restarts a control-plane node's static pods: etcd's
 * initial cluster and the API server's --etcd-servers (a member added or removed), the service
 * range and the proxy variables every static pod carries.
 */
const CONTROL_PLANE_FIELDS: readonly (readonly ['etcd_members' | 'networking', string])[] = [
  ['etcd_members', 'etcd members'],
  ['networking', 'networking'],
];

/**
 * Settings only a master's components read (its API server, the Calico manifests it applies): a
 * change of them alone holds no other node.
 */
export const MASTER_ONLY_SETTINGS: readonly string[] = ['apiserver_shutdown_delay', 'calico_image_repository', 'overlay_mode'];

/**
 * What an etcd member that is nothing else reads of the settings: its standalone kubelet and
 * runtime run only the etcd static pod (shared/render/node/kubelet.ts), with no kube-proxy or pod
 * network: the image repository and the runtime.
 */
const STANDALONE_KUBELET_SETTINGS: readonly string[] = ['kubernetes_image_repository', 'runtime'];

/** Whether a node of these roles reads a settings field (a changed one it does not read restarts nothing there). */
function settingsRead(b: RolloutBody): (field: string) => boolean {
  if (isMaster(b)) return () => true;
  if (!b.roles.includes('worker')) return (f) => STANDALONE_KUBELET_SETTINGS.includes(f);
  return (f) => !MASTER_ONLY_SETTINGS.includes(f);
}

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
  if (h.batch) {
    const shown = h.batch.inFlight.slice(0, 5).join(', ') + (h.batch.inFlight.length > 5 ? ` and ${h.batch.inFlight.length - 5} more` : '');
    return `${h.change} waits for a place in the batch: ${shown} ${h.batch.inFlight.length === 1 ? 'has' : 'have'} yet to apply theirs (nodes outside the control plane take a new version, settings or certificates ${h.batch.size} at a time, a tenth of them; a node that fails keeps its place, one that goes offline frees it)`;
  }
  return `${h.change} waits for ${h.waitingForRole} ${h.waitingFor} to apply its assignment first (the control plane takes a new version, settings or certificates one node at a time: masters, then etcd members; the other nodes follow the masters, a batch at a time)`;
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
  // The lane a node is rolled in: a master that was one; else an etcd member that was one,
  // whatever else its roles do (a member made a master, or a master that stays a member, still
  // restarts its etcd, so it waits its turn among the members).
  const group = (n: string): 'master' | 'etcd' | null => {
    const prev = prevOf(n);
    const next = i.next.get(n)!;
    if (!prev) return null;
    if (isMaster(next) && isMaster(prev)) return 'master';
    return isEtcd(next) && isEtcd(prev) ? 'etcd' : null;
  };
  // What a node's change is, as its status says it; '' when nothing in it restarts components.
  const describe = (n: string, who: 'master' | 'etcd' | 'other'): string => {
    const prev = prevOf(n)!;
    const next = i.next.get(n)!;
    const parts = prev.kubernetes_version !== next.kubernetes_version ? [`Kubernetes ${prev.kubernetes_version} -> ${next.kubernetes_version}`] : [];
    const reads = settingsRead(next);
    const fields = settingsChanged(prev.settings, next.settings).filter(reads);
    if (fields.length) parts.push(`settings (${fields.join(', ')})`);
    if ((next.pki?.renew_before_ms ?? 0) > (prev.pki?.renew_before_ms ?? 0)) parts.push('certificate renewal');
    if (who !== 'other') {
      for (const [f, label] of CONTROL_PLANE_FIELDS) if (!jsonEqual(prev[f] ?? null, next[f] ?? null)) parts.push(label);
    }
    return parts.join(' and ');
  };
  const changeOf = (n: string): string => {
    const g = group(n);
    return g ? describe(n, g) : '';
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
  const changingSet = new Set(changing);
  // Nodes whose committed body is not applied and that get nothing new: a node changing again
  // (roles, or what restarts components) is never waited for, as what it waits for is its new body.
  const movesOn = (n: string) => changingSet.has(n) || (!!prevOf(n) && (prevOf(n)!.roles.join() !== i.next.get(n)!.roles.join() || describe(n, 'master') !== ''));
  const busy = (pred: (b: RolloutBody) => boolean) => names.find((n) => prevOf(n) && pred(prevOf(n)!) && notApplied(n) && !movesOn(n));
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
  // The other nodes wait for the masters: one that has not applied, or the first still changing.
  const others = names.filter((n) => !changingSet.has(n) && !isMaster(i.next.get(n)!) && group(n) === null);
  const change = new Map<string, string>();
  for (const n of others) {
    const c = prevOf(n) ? describe(n, 'other') : '';
    if (c) change.set(n, c);
  }
  const waitFor = busyMaster ?? changing.find((n) => group(n) === 'master');
  if (waitFor) {
    for (const [n, c] of change) hold(n, waitFor, c);
    // A node that joins meanwhile would start a kubelet newer than the API servers that are still
    // at the old version: it waits with them (with no body yet, like a member of a forming etcd).
    const masterVersions = new Set(names.filter((n) => prevOf(n) && isMaster(prevOf(n)!)).map((n) => prevOf(n)!.kubernetes_version));
    for (const n of names) {
      const next = i.next.get(n)!;
      if (prevOf(n) || isMaster(next) || !next.roles.includes('worker')) continue;
      if ([...masterVersions].some((v) => v !== next.kubernetes_version)) hold(n, waitFor, `Kubernetes ${next.kubernetes_version} (a new node)`);
    }
    return holds;
  }
  // Then a batch at a time: places are taken by online nodes holding a body they have not applied.
  const live = i.live ?? (() => true);
  const size = workerBatchSize(others.length);
  const inFlight = others.filter((n) => !change.has(n) && prevOf(n) && live(n) && notApplied(n));
  let free = size - inFlight.length;
  const waiting: string[] = [];
  // Those that have not applied what they hold first (restarting them costs nothing), then by name.
  const order = [...change.keys()].sort((a, b) => Number(!notApplied(a)) - Number(!notApplied(b)) || compareText(a, b));
  for (const n of order) {
    if (!live(n)) continue; // offline: its body now, no place taken
    if (free > 0) {
      free--;
      inFlight.push(n);
    } else waiting.push(n);
  }
  if (waiting.length) {
    const batch: RolloutBatch = { size, inFlight: inFlight.sort(compareText) };
    for (const n of waiting) holds.push({ name: n, waitingFor: batch.inFlight[0] ?? '', waitingForRole: 'node', change: change.get(n)!, batch });
  }
  return holds;
}
