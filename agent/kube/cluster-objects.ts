// The objects a cluster needs that no component creates by itself, and which kubeadm creates after
// `init` (its phase "bootstrap-token" and the cluster-admins binding): one declarative list, made by
// every master's agent once its own API server answers, with the super-admin kubeconfig
// (system:masters). Creating is idempotent: AlreadyExists is success, so two masters racing is fine
// and a binding an operator changed is left as it is.
//
// Without the first row the admin kubeconfig (O=kubeadm:cluster-admins) can authenticate but do
// nothing: kubeadm since 1.29 gives that group its rights through this binding rather than through
// system:masters, so an admin credential can be cut off by deleting a binding.
import { join } from 'node:path';
import { certKind } from '../../shared/pki/catalogue.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { compileRetry, retryDelayMs, sleep } from '../../shared/retry.ts';
import { errorMessage } from '../../shared/errors/index.ts';
import { createObject, type CreateResult } from './api-client.ts';
import { readKubeconfig } from './credentials.ts';

export interface ClusterObject {
  /** What the log calls it. */
  name: string;
  collectionPath: string;
  body: object;
}

export const CLUSTER_OBJECTS: readonly ClusterObject[] = [
  {
    name: 'ClusterRoleBinding kubeadm:cluster-admins',
    collectionPath: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'kubeadm:cluster-admins', labels: { 'app.kubernetes.io/managed-by': 'muster' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kubeadm:cluster-admins' }],
    },
  },
];

/** The super-admin kubeconfig's path under the node root. */
export function superAdminKubeconfig(root: string): string {
  return join(root, certKind('super-admin')!.kubeconfig!.path);
}

/** Creates every object once; resolves with what happened to each. */
export async function ensureClusterObjects(root: string, signal?: AbortSignal): Promise<Array<{ name: string; result: CreateResult }>> {
  const creds = await readKubeconfig(superAdminKubeconfig(root));
  const out: Array<{ name: string; result: CreateResult }> = [];
  for (const o of CLUSTER_OBJECTS) out.push({ name: o.name, result: await createObject(creds, o.collectionPath, o.body, signal) });
  return out;
}

export interface ClusterObjectsOptions {
  root: string;
  log: Logger;
  /** Attempts log at debug level until this one, then warn (the API server is expected to take a while). @default 20 */
  quietAttempts?: number;
  random?: () => number;
}

/**
 * Runs ensureClusterObjects in the background until it succeeds or the signal aborts: a master's
 * agent starts it after each apply, and its API server comes up some time later (its static pod).
 */
export class ClusterObjectsTask {
  readonly #o: ClusterObjectsOptions;
  #running: Promise<void> | null = null;
  #done = false;

  constructor(o: ClusterObjectsOptions) {
    this.#o = o;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Starts the task unless it is running or done. Never rejects; `settled` resolves when it ends. */
  start(signal: AbortSignal): void {
    if (this.#done || this.#running) return;
    this.#running = this.#run(signal).finally(() => {
      this.#running = null;
    });
  }

  get settled(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  async #run(signal: AbortSignal): Promise<void> {
    const retry = compileRetry({ initialMs: 500, maxMs: 15_000, random: this.#o.random });
    const quiet = this.#o.quietAttempts ?? 20;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        const r = await ensureClusterObjects(this.#o.root, signal);
        this.#done = true;
        this.#o.log.info(`cluster objects: ${r.map((x) => `${x.name} ${x.result === 'created' ? 'created' : 'already there'}`).join('; ')}`);
        return;
      } catch (err) {
        if (signal.aborted) return;
        const line = `cluster objects not made yet (attempt ${attempt}; the local API server may still be starting): ${errorMessage(err)}`;
        if (attempt < quiet) this.#o.log.debug(line);
        else this.#o.log.warn(line);
        await sleep(retryDelayMs(retry, attempt), signal).catch(() => undefined);
      }
    }
  }
}
