// What an apply must see serving again before the agent reports it (the coordinator moves a
// rollout to the next control-plane node on that report, coordinator/assign/rollout.ts): an etcd
// member whose manifest changed, restarted and ready (agent/kube/etcd-ready.ts); a master's API
// server whose manifest changed, ready at the assignment's version (agent/kube/api-server-ready.ts).
//
// A wait that failed is owed: the apply is reported failed and retried, and the retry changes no
// file (the first pass wrote them all), so "the manifest changed" alone would report the retry ok
// unseen -- and let the next member restart while this one may still be down. So does the next
// revision's apply, which may change nothing either (a new label). The next pass waits again, for
// readiness only (the restart happened, or will not: either way the process now running is the
// one to wait for), until a wait succeeds. Pure: the agent keeps what is owed.
import { API_SERVER_MANIFEST } from '../kube/api-server-ready.ts';
import { ETCD_MANIFEST } from '../../shared/render/static-pods/etcd.ts';

export interface ReadyWaitsInput {
  roles: readonly string[];
  kubernetesVersion: string;
  /** The files the apply wrote, and whether each changed. */
  files: readonly { path: string; changed: boolean }[];
  /** The assignment applied before this one, if any. */
  before: { roles: readonly string[]; kubernetes_version: string } | undefined;
  /** When the etcd member running before the apply started (etcdStartTime), if it was read: undefined when not (no etcd before). */
  etcdStartedBefore: number | null | undefined;
  /** What a failed wait left owed, from the last pass. */
  owed: ReadyWaitsOwed | null;
}

/** Waits that have not yet succeeded since the manifest changed. */
export interface ReadyWaitsOwed {
  etcd: boolean;
  apiServer: boolean;
}

export interface ReadyWaits {
  /** Wait for the etcd member: started after `before` (null: any member) and ready. */
  etcd: { before: number | null } | null;
  /** Wait for the API server at the version; `restart`: only after the old one was seen going. */
  apiServer: { restart: boolean } | null;
  /** What is owed until both succeed (null: nothing to wait for). */
  owed: ReadyWaitsOwed | null;
}

/**
 * Whether an apply of a node with `roles`, after one with `beforeRoles`, can owe an etcd wait: a
 * member that was one before (a first apply forms etcd: no member to wait for yet). Every member
 * runs a kubelet to run its manifest (a standalone one on a member that is nothing else,
 * shared/render/node/kubelet.ts).
 */
export function etcdWaitApplies(roles: readonly string[], beforeRoles: readonly string[] | undefined): boolean {
  return roles.includes('etcd') && !!beforeRoles?.includes('etcd');
}

export function readyWaits(i: ReadyWaitsInput): ReadyWaits {
  const changed = (path: string) => i.files.some((f) => f.changed && f.path === path);
  const owed = i.owed;
  let etcd: ReadyWaits['etcd'] = null;
  if (etcdWaitApplies(i.roles, i.before?.roles)) {
    if (changed(ETCD_MANIFEST)) etcd = { before: i.etcdStartedBefore ?? null };
    else if (owed?.etcd) etcd = { before: null };
  }
  let apiServer: ReadyWaits['apiServer'] = null;
  if (i.roles.includes('master')) {
    if (changed(API_SERVER_MANIFEST)) apiServer = { restart: !!i.before?.roles.includes('master') && i.before.kubernetes_version === i.kubernetesVersion };
    else if (owed?.apiServer) apiServer = { restart: false };
  }
  return { etcd, apiServer, owed: etcd || apiServer ? { etcd: !!etcd, apiServer: !!apiServer } : null };
}
