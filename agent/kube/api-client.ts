// The smallest Kubernetes API client the agent needs: create an object, and treat "it is already
// there" as done. Mutual TLS from a kubeconfig's embedded credentials, the API server's
// certificate checked against the kubeconfig's CA (and its name against the URL's host), one
// bounded request at a time. Everything else about the cluster is the components' business.
import { request } from 'node:https';
import { MusterError } from '../../shared/errors/index.ts';
import type { KubeCredentials } from './credentials.ts';

const REQUEST_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 1 << 20;

/** The API server answered with a status other than success or AlreadyExists. */
export class KubeApiError extends MusterError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(status === 403 || status === 401 ? 'permission-denied' : 'unavailable', `kube-api-${status || 'no-answer'}`, message);
    this.status = status;
  }
}

export type CreateResult = 'created' | 'exists';

/** One bounded request; resolves with the status and the body's text, whatever the status. */
function send(creds: KubeCredentials, method: 'GET' | 'POST', path: string, payload: Buffer | null, signal?: AbortSignal): Promise<{ status: number; body: string; where: string }> {
  const url = new URL(path, creds.server);
  const where = `${method} ${url.origin}${url.pathname}`;
  const headers = payload ? { 'content-type': 'application/json', accept: 'application/json', 'content-length': payload.length } : { accept: 'application/json' };
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: creds.ca, cert: creds.cert, key: creds.key, headers, timeout: REQUEST_TIMEOUT_MS, signal, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new KubeApiError(res.statusCode ?? 0, `${where}: answer larger than ${MAX_RESPONSE_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), where }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new KubeApiError(0, `${where}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(payload ?? undefined);
  });
}

/** GETs `path`; resolves with the status and the body's text (bounded), whatever the status. */
export async function getText(creds: KubeCredentials, path: string, signal?: AbortSignal): Promise<{ status: number; body: string }> {
  const r = await send(creds, 'GET', path, null, signal);
  return { status: r.status, body: r.body };
}

/** POSTs `body` to `collectionPath` (e.g. /apis/rbac.authorization.k8s.io/v1/clusterrolebindings). */
export async function createObject(creds: KubeCredentials, collectionPath: string, body: object, signal?: AbortSignal): Promise<CreateResult> {
  const r = await send(creds, 'POST', collectionPath, Buffer.from(JSON.stringify(body)), signal);
  if (r.status >= 200 && r.status < 300) return 'created';
  if (r.status === 409) return 'exists';
  let message = r.body.slice(0, 500);
  try {
    message = JSON.parse(message).message ?? message;
  } catch {
    // not a Status object: keep the text
  }
  throw new KubeApiError(r.status, `${r.where}: ${r.status} ${message}`);
}
