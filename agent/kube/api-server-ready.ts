// After an apply that changed a master's kube-apiserver manifest, the agent waits for its own API
// server to come back ready at the assignment's version before it reports the apply (kubeadm
// upgrade does the same for each static pod): the coordinator rolls a version change over the
// masters one at a time on those reports (coordinator/assign/rollout.ts), so "applied" must mean
// "serving again", not "files written". Read with the super-admin kubeconfig (the node's own API
// server at 127.0.0.1).
import type { Logger } from '../../shared/log/logger.ts';
import { errorMessage, UnavailableError } from '../../shared/errors/index.ts';
import { sleep } from '../../shared/retry.ts';
import { getText } from './api-client.ts';
import { readKubeconfig } from './credentials.ts';
import { superAdminKubeconfig } from './cluster-objects.ts';

export const API_SERVER_MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';

/** Resolves once /readyz says ok and /version is `version`; rejects after `timeoutMs` with the last thing seen. */
export async function waitForApiServer(o: { root: string; version: string; timeoutMs: number; log: Logger; signal?: AbortSignal; everyMs?: number; clock?: () => number }): Promise<void> {
  const clock = o.clock ?? Date.now;
  const deadline = clock() + o.timeoutMs;
  let last = 'no answer yet';
  o.log.info(`waiting for the local kube-apiserver to be ready at ${o.version} (up to ${Math.round(o.timeoutMs / 1000)} s)`);
  for (;;) {
    try {
      const creds = await readKubeconfig(superAdminKubeconfig(o.root));
      const ready = await getText(creds, '/readyz', o.signal);
      if (ready.status !== 200) last = `/readyz ${ready.status}: ${ready.body.slice(0, 300)}`;
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
    }
    if (clock() >= deadline) throw new UnavailableError(`the local kube-apiserver did not come back ready at ${o.version} within ${Math.round(o.timeoutMs / 1000)} s; last: ${last}`);
    await sleep(o.everyMs ?? 1000, o.signal);
  }
}
