// One HTTP(S) GET as the kubelet's prober makes it (pkg/probe/http): a status from 200 to 399 is
// success, anything else or no answer within the timeout is failure; HTTPS certificates are not
// verified (the kubelet's probe transport sets InsecureSkipVerify); redirects are not followed
// (a 3xx already counts as success). Run directly as a script it is the probe agent: one JSON
// probe per stdin line, one JSON result per stdout line -- the runner starts it inside a network
// namespace (`ip netns exec`) so that "127.0.0.1" means the node's loopback, not the test's.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface HttpProbeTarget {
  host: string;
  port: number;
  path: string;
  scheme: 'http' | 'https';
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface ProbeResult {
  ok: boolean;
  /** "200", "503: <body start>", or the connection error. */
  detail: string;
}

/** The kubelet reads at most 10 KiB of a probe's body; the detail keeps its start for messages. */
const BODY_KEEP = 200;

export function httpProbe(t: HttpProbeTarget): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const request = t.scheme === 'https' ? httpsRequest : httpRequest;
    const req = request({
      host: t.host,
      port: t.port,
      path: t.path,
      method: 'GET',
      headers: { 'User-Agent': 'kube-probe/static-pod-runner', Accept: '*/*', ...t.headers },
      agent: false,
      ...(t.scheme === 'https' ? { rejectUnauthorized: false } : {}),
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < BODY_KEEP) body += d; });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        done({ ok: code >= 200 && code < 400, detail: code >= 200 && code < 400 ? String(code) : `${code}: ${body.slice(0, BODY_KEEP).trim()}` });
      });
      res.on('error', (err) => done({ ok: false, detail: err.message }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, detail: `no answer within ${t.timeoutMs} ms` });
    }, t.timeoutMs);
    req.on('error', (err) => done({ ok: false, detail: err.message }));
    req.end();
  });
}

/** The probe agent's loop: answers in request order, one line each, until stdin closes. */
async function agent(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const r = await httpProbe(JSON.parse(line) as HttpProbeTarget);
    process.stdout.write(`${JSON.stringify(r)}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await agent();
