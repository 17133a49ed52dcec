// After an apply that changed a master's kube-apiserver manifest, the agent waits for its own API
// server to come back ready at the assignment's version before it reports the apply (kubeadm
// upgrade does the same for each static pod): the coordinator rolls version and settings changes
// over the masters one at a time on those reports (coordinator/assign/rollout.ts), so "applied"
// must mean "serving again", not "files written". Read with the super-admin kubeconfig (the
// node's own API server at 127.0.0.1).
//
// A new version tells the new server from the old one by /version. When the version stays (new
// settings, a renewed certificate), the old server answers just like the new one until the
// kubelet replaces it, so a ready answer counts only once the old one was seen going: its /readyz
// fails from the moment it is told to stop (--shutdown-delay-duration serves on, unready), and a
// new server is unready for seconds while it starts, so a poll a second cannot miss both.
import type { Logger } from '../../shared/log/logger.ts';
import { errorMessage, UnavailableError } from '../../shared/errors/index.ts';
import { sleep } from '../../shared/retry.ts';
import { getText } from './api-client.ts';
import { readKubeconfig } from './credentials.ts';
import { superAdminKubeconfig } from './cluster-objects.ts';

export const API_SERVER_MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';

export interface WaitForApiServerOptions {
  root: string;
  version: string;
  timeoutMs: number;
  log: Logger;
  /**
   * The server running before the apply is at `version` already (the manifest changed in
   * something else): only a ready answer after an unready or missing one counts.
   */
  restart?: boolean;
  signal?: AbortSignal;
  everyMs?: number;
  clock?: () => number;
}

/** Resolves once /readyz says ok and /version is `version` (after the old server went, with `restart`); rejects after `timeoutMs` with the last thing seen. */
export async function waitForApiServer(o: WaitForApiServerOptions): Promise<void> {
  const clock = o.clock ?? Date.now;
  const deadline = clock() + o.timeoutMs;
  let last = 'no answer yet';
  let gone = !o.restart;
  o.log.info(`waiting for the local kube-apiserver to be ${o.restart ? 'restarted and ' : ''}ready at ${o.version} (up to ${Math.round(o.timeoutMs / 1000)} s)`);
  for (;;) {
    let asked = false;
    try {
      const creds = await readKubeconfig(superAdminKubeconfig(o.root));
      asked = true;
      const ready = await getText(creds, '/readyz', o.signal);
      if (ready.status !== 200) {
        last = `/readyz ${ready.status}: ${ready.body.slice(0, 300)}`;
        gone = true;
      } else if (!gone) last = 'ready, but not yet restarted (the old one still runs)';
      else {
        const v = await getText(creds, '/version', o.signal);
        const got = v.status === 200 ? (JSON.parse(v.body) as { gitVersion?: string }).gitVersion : undefined;
        if (got === o.version) {
          o.log.info(`the local kube-apiserver is ready at ${got}`);
          return;
        }
        last = `ready, but /version is ${got ?? `${v.status} ${v.body.slice(0, 200)}`} (the old one still runs)`;
      }
    } catch (err) {
      if (o.signal?.aborted) throw err;
      last = errorMessage(err);
      // No answer from the server is the old one gone; no kubeconfig to ask with says nothing.
      if (asked) gone = true;
    }
    if (clock() >= deadline) throw new UnavailableError(`the local kube-apiserver did not come back ${o.restart && !gone ? 'restarted (it still runs as before the change) and ' : ''}ready at ${o.version} within ${Math.round(o.timeoutMs / 1000)} s; last: ${last}`);
    await sleep(o.everyMs ?? 1000, o.signal);
  }
}
