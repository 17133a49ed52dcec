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

/** GETs `path`; resolves with the status and the body's text (bounded), whatever the status. */
export function getText(creds: KubeCredentials, path: string, signal?: AbortSignal): Promise<{ status: number; body: string }> {
  const url = new URL(path, creds.server);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ca: creds.ca, cert: creds.cert, key: creds.key, timeout: REQUEST_TIMEOUT_MS, signal, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new KubeApiError(res.statusCode ?? 0, `GET ${url.pathname}: answer larger than ${MAX_RESPONSE_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new KubeApiError(0, `GET ${url.origin}${url.pathname}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** POSTs `body` to `collectionPath` (e.g. /apis/rbac.authorization.k8s.io/v1/clusterrolebindings). */
export function createObject(creds: KubeCredentials, collectionPath: string, body: object, signal?: AbortSignal): Promise<CreateResult> {
  const url = new URL(collectionPath, creds.server);
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: creds.ca,
        cert: creds.cert,
        key: creds.key,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': payload.length },
        timeout: REQUEST_TIMEOUT_MS,
        signal,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new KubeApiError(res.statusCode ?? 0, `POST ${url.pathname}: answer larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve('created');
          if (status === 409) return resolve('exists');
          let message = Buffer.concat(chunks).toString('utf8').slice(0, 500);
          try {
            message = JSON.parse(message).message ?? message;
          } catch {
            // not a Status object: keep the text
          }
          reject(new KubeApiError(status, `POST ${url.origin}${url.pathname}: ${status} ${message}`));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new KubeApiError(0, `POST ${url.origin}${url.pathname}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
