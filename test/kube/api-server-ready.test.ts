// agent/kube/api-server-ready.ts: when a master's apply changed its kube-apiserver manifest, what
// the agent waits for before it reports. A real HTTPS server with mutual TLS on the file's
// loopback block stands for the local API server (the real ones: test/k8s/upgrade.test.ts); the
// test scripts what it answers to each poll, so each case is decided by answers, not by timing.
//   - a new version: the first ready answer at that version counts, an old version's does not;
//   - the same version (new settings, a renewed certificate): the old server answers ready until
//     the kubelet replaces it, so a ready answer counts only after an unready or missing one;
//   - a server that never goes away: the wait ends in an error that says it still runs as before.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:https';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createCa, issueLeaf } from '../../shared/pki/x509.ts';
import { renderKubeconfig } from '../../shared/render/kubeconfig.ts';
import { certKind } from '../../shared/pki/catalogue.ts';
import { superAdminKubeconfig } from '../../agent/kube/cluster-objects.ts';
import { waitForApiServer } from '../../agent/kube/api-server-ready.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { captureLogger, tempDir } from '../helpers/cluster.ts';

const net = addressBlock(import.meta.url);
const HOST = net.host(9);

/** One poll's answer: /readyz's status and /version's gitVersion, or 'down' (connection refused-like: the socket is destroyed). */
type Answer = { ready: number; version: string } | 'down';

interface Api {
  server: Server;
  root: string;
  /** /readyz requests seen. */
  polls: () => number;
}

/** An API server stand-in: the n-th /readyz poll gets answers[n] (then the last), /version the same poll's version. */
async function apiServer(answers: Answer[]): Promise<Api> {
  const ca = await createCa('kube-ca', 1);
  const leaf = await issueLeaf(ca, { cn: 'kube-apiserver', ips: [HOST], usages: ['server'], days: 1 });
  const k = certKind('super-admin')!;
  const client = await issueLeaf(ca, { cn: k.cn('m1'), orgs: [...k.orgs], usages: ['client'], days: 1 });
  let polls = 0;
  const current = () => answers[Math.min(polls - 1, answers.length - 1)]!;
  const server = createServer({ ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    if (req.url === '/readyz') polls++;
    const a = current();
    if (a === 'down') return req.socket.destroy();
    if (req.url === '/readyz') {
      res.writeHead(a.ready);
      res.end(a.ready === 200 ? 'ok' : '[-]shutdown failed: process is shutting down\nreadyz check failed');
    } else if (req.url === '/version') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ gitVersion: a.version }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const root = tempDir('muster-ready-');
  const file = superAdminKubeconfig(root);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderKubeconfig({ clusterName: 'c', server: `https://${HOST}:${port}`, caPem: ca.certPem, userName: 'kubernetes-super-admin', certPem: client.certPem, keyPem: client.keyPem }), { mode: 0o600 });
  return { server, root, polls: () => polls };
}

const ready = (version: string): Answer => ({ ready: 200, version });
const unready = (version: string): Answer => ({ ready: 500, version });

async function wait(api: Api, o: { version: string; restart?: boolean; timeoutMs?: number }): Promise<string | null> {
  try {
    await waitForApiServer({ root: api.root, log: captureLogger(), timeoutMs: o.timeoutMs ?? 30_000, everyMs: 1, version: o.version, restart: o.restart });
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    api.server.close();
  }
}

test('a new version: the old version answering ready does not count; the first ready answer at the new one does', async () => {
  const api = await apiServer([ready('v1.35.4'), ready('v1.35.4'), unready('v1.35.4'), 'down', ready('v1.36.3'), ready('v1.36.3')]);
  assert.is(await wait(api, { version: 'v1.36.3' }), null);
  assert.is(api.polls(), 5, 'done at the first ready answer at v1.36.3');
});

test('the same version: ready answers before the old server went do not count; the first after it does', async () => {
  const api = await apiServer([ready('v1.36.3'), ready('v1.36.3'), ready('v1.36.3'), unready('v1.36.3'), unready('v1.36.3'), ready('v1.36.3'), ready('v1.36.3')]);
  assert.is(await wait(api, { version: 'v1.36.3', restart: true }), null);
  assert.is(api.polls(), 6, 'done at the first ready answer after the unready ones');
  // Without `restart` the very first answer would have counted: that is the case it exists for.
  const eager = await apiServer([ready('v1.36.3'), unready('v1.36.3'), ready('v1.36.3')]);
  assert.is(await wait(eager, { version: 'v1.36.3' }), null);
  assert.is(eager.polls(), 1);
});

test('the same version: a server that stops answering (replaced without a shutdown delay) counts as gone', async () => {
  const api = await apiServer([ready('v1.36.3'), 'down', 'down', ready('v1.36.3')]);
  assert.is(await wait(api, { version: 'v1.36.3', restart: true }), null);
  assert.is(api.polls(), 4);
});

test('the same version: a server never replaced ends the wait in an error saying the old one still runs', async () => {
  const api = await apiServer([ready('v1.36.3')]);
  const err = await wait(api, { version: 'v1.36.3', restart: true, timeoutMs: 300 });
  assert.ok(err, 'the wait fails');
  assert.match(err!, 'did not come back restarted (it still runs as before the change) and ready at v1.36.3');
  assert.ok(api.polls() > 1, 'it polled more than once');
});

test.run();
