// agent/kube: the objects a master's agent makes through its own API server with the
// super-admin kubeconfig. A real HTTPS server with mutual TLS on the file's loopback block stands
// for the API server (the real one is in test/k8s/control-plane.test.ts): the binding is POSTed
// where the API expects it, AlreadyExists counts as done, a refusal is an error that names the
// server and its answer, the server's certificate must come from the kubeconfig's CA, a client
// without the certificate is not served, and the background task retries until the server answers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:https';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createCa, issueLeaf, type CertAndKey } from '../../shared/pki/x509.ts';
import { renderKubeconfig } from '../../shared/render/kubeconfig.ts';
import { certKind } from '../../shared/pki/catalogue.ts';
import { ConfigError } from '../../shared/errors/index.ts';
import { CLUSTER_OBJECTS, ClusterObjectsTask, ensureClusterObjects, superAdminKubeconfig } from '../../agent/kube/cluster-objects.ts';
import { KubeApiError } from '../../agent/kube/api-client.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { captureLogger, tempDir, waitFor } from '../helpers/cluster.ts';

const net = addressBlock(import.meta.url);
const HOST = net.host(7);

interface Seen { method: string; url: string; body: string; cn: string }

async function pki() {
  const ca = await createCa('kube-ca', 1);
  const server = await issueLeaf(ca, { cn: 'kube-apiserver', ips: [HOST], usages: ['server'], days: 1 });
  const k = certKind('super-admin')!;
  const client = await issueLeaf(ca, { cn: k.cn('m1'), orgs: [...k.orgs], usages: ['client'], days: 1 });
  return { ca, server, client };
}

/** An API server stand-in answering each POST with the next status in `statuses` (then the last). */
async function apiServer(ca: CertAndKey, leaf: CertAndKey, statuses: number[], port = 0): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer({ ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const peer = (req.socket as any).getPeerCertificate();
      seen.push({ method: req.method!, url: req.url!, body, cn: peer.subject?.CN });
      const status = statuses[Math.min(seen.length - 1, statuses.length - 1)]!;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', message: status === 403 ? 'forbidden: User "x" cannot create resource' : 'ok' }));
    });
  });
  server.listen(port, HOST);
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, seen };
}

function nodeRoot(caPem: string, client: CertAndKey, port: number): string {
  const root = tempDir('muster-kube-');
  const file = superAdminKubeconfig(root);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderKubeconfig({ clusterName: 'c', server: `https://${HOST}:${port}`, caPem, userName: 'kubernetes-super-admin', certPem: client.certPem, keyPem: client.keyPem }), { mode: 0o600 });
  return root;
}

test('the super-admin kind is system:masters, masters only, and its kubeconfig names the node\'s own API server', () => {
  const k = certKind('super-admin')!;
  assert.equal([...k.orgs], ['system:masters']);
  assert.equal([...k.roles], ['master']);
  assert.is(k.kubeconfig?.server, 'local');
  assert.is(k.kubeconfig?.path, 'etc/kubernetes/super-admin.conf');
});

test('the cluster-admins binding is POSTed to the RBAC API with the super-admin certificate; AlreadyExists is done', async () => {
  const p = await pki();
  const api = await apiServer(p.ca, p.server, [201, 409]);
  try {
    const root = nodeRoot(p.ca.certPem, p.client, api.port);
    assert.equal(await ensureClusterObjects(root), [{ name: 'ClusterRoleBinding kubeadm:cluster-admins', result: 'created' }]);
    assert.equal(await ensureClusterObjects(root), [{ name: 'ClusterRoleBinding kubeadm:cluster-admins', result: 'exists' }]);
    assert.is(api.seen.length, 2);
    assert.is(api.seen[0]!.method, 'POST');
    assert.is(api.seen[0]!.url, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings');
    assert.is(api.seen[0]!.cn, 'kubernetes-super-admin');
    const body = JSON.parse(api.seen[0]!.body);
    assert.equal(body, CLUSTER_OBJECTS[0]!.body);
    assert.equal(body.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' });
    assert.equal(body.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kubeadm:cluster-admins' }]);
    assert.equal([...certKind('admin')!.orgs], ['kubeadm:cluster-admins'], 'the group bound is the admin certificate\'s');
  } finally {
    api.server.close();
  }
});

test('a refusal is an error naming the server, the status and the API server\'s message', async () => {
  const p = await pki();
  const api = await apiServer(p.ca, p.server, [403]);
  try {
    const root = nodeRoot(p.ca.certPem, p.client, api.port);
    const err = await ensureClusterObjects(root).then(() => null, (e: unknown) => e);
    assert.instance(err, KubeApiError);
    assert.is((err as KubeApiError).status, 403);
    assert.match((err as Error).message, `POST https://${HOST}:${api.port}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings: 403 forbidden`);
  } finally {
    api.server.close();
  }
});

test('an API server whose certificate is not from the kubeconfig\'s CA is not trusted, and nothing is sent', async () => {
  const p = await pki();
  const other = await createCa('other-ca', 1);
  const impostor = await issueLeaf(other, { cn: 'kube-apiserver', ips: [HOST], usages: ['server'], days: 1 });
  const api = await apiServer(p.ca, impostor, [201]);
  try {
    const root = nodeRoot(p.ca.certPem, p.client, api.port);
    const err = await ensureClusterObjects(root).then(() => null, (e: unknown) => e as Error);
    assert.ok(err, 'the impostor was trusted');
    assert.match(err!.message, /certificate|self.signed|issuer/i);
    assert.is(api.seen.length, 0);
  } finally {
    api.server.close();
  }
});

test('a client certificate from another CA is refused by the API server (nothing is created)', async () => {
  const p = await pki();
  const other = await createCa('other-ca', 1);
  const stranger = await issueLeaf(other, { cn: 'kubernetes-super-admin', orgs: ['system:masters'], usages: ['client'], days: 1 });
  const api = await apiServer(p.ca, p.server, [201]);
  try {
    const root = nodeRoot(p.ca.certPem, stranger, api.port);
    const err = await ensureClusterObjects(root).then(() => null, (e: unknown) => e);
    assert.ok(err, 'a stranger was served');
    assert.is(api.seen.length, 0);
  } finally {
    api.server.close();
  }
});

test('a kubeconfig without embedded credentials is a clear error naming the file and field', async () => {
  const root = tempDir('muster-kube-');
  const file = superAdminKubeconfig(root);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, 'apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", certificate-authority: /etc/ca.crt}}]\nusers: [{name: u, user: {}}]\n');
  const err = await ensureClusterObjects(root).then(() => null, (e: unknown) => e);
  assert.instance(err, ConfigError);
  assert.match((err as Error).message, `${file}: certificate-authority-data is missing`);
});

test('the background task retries until the API server answers, then stops', async () => {
  const p = await pki();
  // A port that nothing listens on yet: bind, note it, close.
  const probe = await apiServer(p.ca, p.server, [201]);
  const port = probe.port;
  probe.server.close();
  await once(probe.server, 'close');
  const root = nodeRoot(p.ca.certPem, p.client, port);
  const log = captureLogger('agent', 'debug');
  const task = new ClusterObjectsTask({ root, log, random: () => 0 });
  const ac = new AbortController();
  task.start(ac.signal);
  task.start(ac.signal); // a second start while running is a no-op
  await waitFor('a failed attempt', () => log.lines.find((l) => l.includes('cluster objects not made yet (attempt 2')));
  const api = await apiServer(p.ca, p.server, [201], port);
  try {
    await waitFor('the task to finish', () => task.done);
    await task.settled;
    assert.is(api.seen.length, 1, 'one POST once the server was there');
    assert.ok(log.lines.some((l) => l.includes('cluster objects: ClusterRoleBinding kubeadm:cluster-admins created')), log.lines.join('\n'));
    task.start(ac.signal); // done: starting again sends nothing
    await task.settled;
    assert.is(api.seen.length, 1);
  } finally {
    ac.abort();
    api.server.close();
  }
});

test('an aborted task stops retrying', async () => {
  const root = tempDir('muster-kube-'); // no kubeconfig at all: every attempt fails
  const log = captureLogger('agent', 'debug');
  const task = new ClusterObjectsTask({ root, log, random: () => 0.5 });
  const ac = new AbortController();
  task.start(ac.signal);
  await waitFor('a failed attempt', () => log.lines.find((l) => l.includes('attempt 1')));
  ac.abort();
  await task.settled;
  assert.not.ok(task.done);
  const attempts = log.lines.filter((l) => l.includes('cluster objects not made yet')).length;
  await new Promise((r) => setImmediate(r));
  assert.is(log.lines.filter((l) => l.includes('cluster objects not made yet')).length, attempts, 'no attempt after the abort');
});

test.run();
