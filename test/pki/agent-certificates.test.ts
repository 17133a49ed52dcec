// The agent's side of the cluster PKI against a fake coordinator (a real mutual-TLS grpc-js
// server that signs by the catalogue): keys made on the node and never sent, one call for what
// is missing, nothing asked twice, renewal at the window with the key kept, recovery after
// expiry, and refusals that name the kind. Time is a test clock shared with the fake signer, so
// "a day later" takes no time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { addressBlock } from '../helpers/addresses.ts';
import { captureLogger, tempDir } from '../helpers/cluster.ts';
import { rejects } from '../helpers/assert.ts';
import { startFakeCoordinator, type FakeCoordinator } from './agent-fake-coordinator.ts';
import { assignment, modeOf, opensslVerifies } from './agent-helpers.ts';
import { ClusterCertificates, ClusterPkiError, type IssueFn } from '../../agent/pki/index.ts';
import { agentClient } from '../../agent/client/channels.ts';
import { unary } from '../../shared/wire/status.ts';
import { certInfo, parseCsr, publicKeyId } from '../../shared/pki/x509.ts';
import { CERT_KINDS, CLUSTER_CA_PATHS, SERVICE_ACCOUNT_PATHS, certKind, kindsForRoles } from '../../shared/pki/catalogue.ts';
import type { AssignmentOut } from '../../shared/wire/types.ts';

const net = addressBlock(import.meta.url);
const HOUR = 3600_000;
const DAY = 24 * HOUR;

interface Node {
  root: string;
  fake: FakeCoordinator;
  pki: ClusterCertificates;
  issue: IssueFn;
  log: ReturnType<typeof captureLogger>;
  clock: { now: number };
  a: AssignmentOut;
  at(path: string): string;
  read(path: string): string;
  close(): Promise<void>;
}

async function node(roles: string[], nodeName: string, ip: string, random = () => 0.5): Promise<Node> {
  const root = tempDir('muster-agent-pki-');
  const fake = await startFakeCoordinator(net.host(1));
  const clock = { now: Date.now() };
  fake.knobs.now = () => clock.now;
  fake.knobs.addresses = [ip];
  const a = assignment({ node_name: nodeName, roles, node_ip: ip, api_server_endpoint: `${net.host(100)}:6443` });
  fake.knobs.assignment = a;
  const client = agentClient(fake.address, await fake.identity(nodeName));
  const log = captureLogger('agent');
  const at = (p: string) => join(root, p);
  return {
    root,
    fake,
    log,
    clock,
    a,
    at,
    read: (p) => readFileSync(at(p), 'utf8'),
    issue: (req) => unary(fake.address, client, 'IssueCertificates', req, 10_000),
    pki: new ClusterCertificates({ root, log, clock: () => clock.now, random }),
    async close() {
      client.close();
      await fake.close();
    },
  };
}

const requested = (n: Node, call = n.fake.issued.length - 1) => n.fake.issued[call]!.requests.map((r) => r.kind).sort();

test('a worker gets kubelet-client, kubelet-serving and kube-proxy: keys made on the node (0600), only CSRs on the wire, kubeconfigs that parse back', async () => {
  const n = await node(['worker'], 'node-w', net.host(10));
  try {
    const r = await n.pki.ensure(n.a, n.issue);
    assert.is(r.calls, 1);
    assert.is(n.fake.issued.length, 1);
    assert.equal(requested(n), ['kube-proxy', 'kubelet-client', 'kubelet-serving']);
    // What crossed the wire: a kind and a CSR per entry, no private key anywhere.
    for (const req of n.fake.issued[0]!.requests) {
      assert.equal(Object.keys(req).sort(), ['csr_pem', 'kind']);
      assert.ok(req.csr_pem.startsWith('-----BEGIN CERTIFICATE REQUEST-----'));
    }
    assert.not.match(JSON.stringify(n.fake.issued), /PRIVATE KEY/);

    for (const k of kindsForRoles(['worker'])) {
      assert.is(modeOf(n.at(k.keyPath)), 0o600, k.keyPath);
      assert.is(modeOf(n.at(k.certPath)), 0o644, k.certPath);
      const keyPem = n.read(k.keyPath);
      const certPem = n.read(k.certPath);
      // The CSR was for the key on disk, and the certificate is for it too.
      const csr = await parseCsr(n.fake.issued[0]!.requests.find((q) => q.kind === k.kind)!.csr_pem);
      assert.is(csr.keyId, publicKeyId(keyPem), k.kind);
      assert.is(certInfo(certPem).keyId, publicKeyId(keyPem), k.kind);
      assert.is(certInfo(certPem).subjectCN, k.cn('node-w'));
      assert.ok(opensslVerifies(n.at(CLUSTER_CA_PATHS.kubernetes), n.at(k.certPath)), `openssl verify ${k.kind}`);
      assert.not.ok(opensslVerifies(n.at(k.keyPath), n.at(k.certPath)), 'openssl verify fails against a non-CA file');
    }
    // Its own SANs on the serving certificate.
    const serving = new X509Certificate(n.read(certKind('kubelet-serving')!.certPath));
    assert.ok(serving.checkHost('node-w', { subject: 'never' }));
    assert.is(serving.checkIP(net.host(10)), net.host(10));

    // Only the Kubernetes CA, no service-account key on a worker.
    assert.is(n.read(CLUSTER_CA_PATHS.kubernetes), n.fake.cas.kubernetes.certPem);
    assert.is(modeOf(n.at(CLUSTER_CA_PATHS.kubernetes)), 0o644);
    assert.not.ok(existsSync(n.at(CLUSTER_CA_PATHS.etcd)));
    assert.not.ok(existsSync(n.at(CLUSTER_CA_PATHS['front-proxy'])));
    assert.not.ok(existsSync(n.at(SERVICE_ACCOUNT_PATHS.privateKey)));

    // Kubeconfigs: parsed back, embedded CA, certificate and key that belong together.
    for (const kind of ['kubelet-client', 'kube-proxy']) {
      const k = certKind(kind)!;
      const path = k.kubeconfig!.path;
      assert.is(modeOf(n.at(path)), 0o600, path);
      const doc = parse(n.read(path));
      assert.is(doc.apiVersion, 'v1');
      assert.is(doc.kind, 'Config');
      assert.is(doc.clusters.length, 1);
      assert.is(doc.clusters[0].name, 'pki-test');
      assert.is(doc.clusters[0].cluster.server, `https://${net.host(100)}:6443`);
      assert.is(Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), n.fake.cas.kubernetes.certPem);
      assert.is(doc.users[0].name, k.kubeconfig!.user);
      const certPem = Buffer.from(doc.users[0].user['client-certificate-data'], 'base64').toString();
      const keyPem = Buffer.from(doc.users[0].user['client-key-data'], 'base64').toString();
      assert.is(certInfo(certPem).keyId, publicKeyId(keyPem));
      assert.is(certPem, n.read(k.certPath));
      assert.equal(doc.contexts, [{ name: doc['current-context'], context: { cluster: 'pki-test', user: k.kubeconfig!.user } }]);
    }

    // The result: every file (changed), the kinds, the components to restart, the renewal point.
    assert.equal(r.changedKinds, ['kubelet-client', 'kubelet-serving', 'kube-proxy']);
    assert.equal(r.restart, ['kube-proxy', 'kubelet']);
    assert.ok(r.files.every((f) => f.changed));
    assert.equal(r.files.map((f) => f.path).sort(), [
      '/etc/kubernetes/kubelet.conf',
      '/etc/kubernetes/pki/ca.crt',
      '/var/lib/kube-proxy/client.crt',
      '/var/lib/kube-proxy/client.key',
      '/var/lib/kube-proxy/kubeconfig.conf',
      '/var/lib/kubelet/pki/kubelet-client.crt',
      '/var/lib/kubelet/pki/kubelet-client.key',
      '/var/lib/kubelet/pki/kubelet.crt',
      '/var/lib/kubelet/pki/kubelet.key',
    ]);
    const c = certInfo(n.read(certKind('kube-proxy')!.certPath));
    // random 0.5: at 80% of the lifetime.
    assert.is(r.renewAt, c.notBefore.getTime() + Math.floor((c.notAfter.getTime() - c.notBefore.getTime()) * 0.8));
    assert.is(n.pki.renewAt, r.renewAt);
  } finally {
    await n.close();
  }
});

test('a master+etcd node gets every kind, its three CA bundles and the service-account pair (0600); each certificate verifies against its own CA only', async () => {
  const n = await node(['etcd', 'master'], 'node-m', net.host(11));
  try {
    const r = await n.pki.ensure(n.a, n.issue);
    assert.is(r.calls, 1);
    assert.equal(requested(n), CERT_KINDS.map((k) => k.kind).sort());
    assert.not.match(JSON.stringify(n.fake.issued), /PRIVATE KEY/);
    for (const ca of ['kubernetes', 'etcd', 'front-proxy'] as const) assert.is(n.read(CLUSTER_CA_PATHS[ca]), n.fake.cas[ca].certPem);
    assert.is(n.read(SERVICE_ACCOUNT_PATHS.privateKey), n.fake.serviceAccount.privatePem);
    assert.is(n.read(SERVICE_ACCOUNT_PATHS.publicKey), n.fake.serviceAccount.publicPem);
    assert.is(modeOf(n.at(SERVICE_ACCOUNT_PATHS.privateKey)), 0o600);
    assert.is(modeOf(n.at(SERVICE_ACCOUNT_PATHS.publicKey)), 0o644);
    for (const k of CERT_KINDS) {
      assert.is(modeOf(n.at(k.keyPath)), 0o600, k.keyPath);
      assert.is(certInfo(n.read(k.certPath)).keyId, publicKeyId(n.read(k.keyPath)), k.kind);
      assert.ok(opensslVerifies(n.at(CLUSTER_CA_PATHS[k.ca]), n.at(k.certPath)), `openssl verify ${k.kind} against the ${k.ca} CA`);
      const other = k.ca === 'etcd' ? 'kubernetes' : 'etcd';
      assert.not.ok(opensslVerifies(n.at(CLUSTER_CA_PATHS[other]), n.at(k.certPath)), `${k.kind} must not verify against the ${other} CA`);
      if (k.kubeconfig) {
        const doc = parse(n.read(k.kubeconfig.path));
        assert.is(doc.clusters[0].cluster.server, k.kubeconfig.server === 'local' ? 'https://127.0.0.1:6443' : `https://${net.host(100)}:6443`, k.kind);
        assert.is(modeOf(n.at(k.kubeconfig.path)), 0o600);
      }
    }
    const etcdServer = new X509Certificate(n.read(certKind('etcd-server')!.certPath));
    assert.is(etcdServer.checkIP(net.host(11)), net.host(11));
    assert.equal(r.restart, ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-proxy', 'kube-scheduler', 'kubelet']);
    assert.is(r.changedKinds.length, CERT_KINDS.length);

    // The second apply asks for nothing and changes nothing.
    const again = await n.pki.ensure(n.a, n.issue);
    assert.is(again.calls, 0);
    assert.is(n.fake.issued.length, 1);
    assert.ok(again.files.length === r.files.length && again.files.every((f) => !f.changed), JSON.stringify(again.files.filter((f) => f.changed)));
    assert.equal(again.changedKinds, []);
    assert.equal(again.restart, []);
  } finally {
    await n.close();
  }
});

test('a certificate renews at its point of the 70-90% window, keeping its key; earlier, nothing is asked', async () => {
  const n = await node(['worker'], 'node-r', net.host(12));
  try {
    n.fake.knobs.ttlMs['kube-proxy'] = HOUR; // the others live a day
    await n.pki.ensure(n.a, n.issue);
    const proxy = certKind('kube-proxy')!;
    const before = certInfo(n.read(proxy.certPath));
    const keyBefore = n.read(proxy.keyPath);
    const kubeconfigBefore = n.read(proxy.kubeconfig!.path);
    const renewAt = n.pki.renewAt;
    assert.is(renewAt, before.notBefore.getTime() + Math.floor((before.notAfter.getTime() - before.notBefore.getTime()) * 0.8), 'the earliest point is the short-lived certificate, at 80% of its lifetime');
    assert.ok(before.notAfter.getTime() - before.notBefore.getTime() <= HOUR + 60_000);

    n.clock.now = renewAt - 1;
    assert.is((await n.pki.ensure(n.a, n.issue)).calls, 0, 'nothing is due a millisecond before');

    n.clock.now = renewAt;
    const r = await n.pki.ensure(n.a, n.issue);
    assert.is(r.calls, 1);
    assert.equal(requested(n), ['kube-proxy'], 'only the due certificate');
    const after = certInfo(n.read(proxy.certPath));
    assert.not.equal(after.serial, before.serial);
    assert.ok(after.notAfter.getTime() > before.notAfter.getTime());
    assert.is(n.read(proxy.keyPath), keyBefore, 'the key is kept');
    assert.not.equal(n.read(proxy.kubeconfig!.path), kubeconfigBefore, 'the kubeconfig embeds the new certificate');
    assert.equal(r.changedKinds, ['kube-proxy']);
    assert.equal(r.restart, ['kube-proxy']);
    assert.equal(r.files.filter((f) => f.changed).map((f) => f.path).sort(), ['/var/lib/kube-proxy/client.crt', '/var/lib/kube-proxy/kubeconfig.conf']);
    assert.ok(n.log.lines.some((l) => l.includes('requesting cluster certificates: kube-proxy (due for renewal since')), n.log.lines.join('\n'));
  } finally {
    await n.close();
  }
});

test('the renewal point is drawn once per issue (certificates issued together share it), inside 70-90% of each one\'s lifetime', async () => {
  let draws = 0;
  const n = await node(['worker'], 'node-j', net.host(13), () => {
    draws++;
    return Math.random();
  });
  try {
    await n.pki.ensure(n.a, n.issue);
    const first = n.pki.renewAt;
    const drawn = draws;
    assert.is(drawn, 1, 'one draw for the three certificates of one call');
    for (let i = 0; i < 3; i++) await n.pki.ensure(n.a, n.issue);
    assert.is(draws, drawn, 'checks do not re-roll');
    assert.is(n.pki.renewAt, first);
    for (const k of kindsForRoles(['worker'])) {
      const c = certInfo(n.read(k.certPath));
      const life = c.notAfter.getTime() - c.notBefore.getTime();
      assert.ok(first >= c.notBefore.getTime() + life * 0.7 && first <= c.notBefore.getTime() + life * 0.9);
    }
  } finally {
    await n.close();
  }
});

test('certificates renew together: those issued together at their shared point, and one issued apart goes along once in its own window; one not yet in it waits', async () => {
  let draws = 0;
  const n = await node(['worker'], 'node-t', net.host(18), () => {
    draws++;
    return 0.9; // 70% + 0.9 x 20% = 88% of the lifetime
  });
  try {
    const worker = kindsForRoles(['worker']);
    const proxy = certKind('kube-proxy')!;
    const serials = () => new Map(worker.map((k) => [k.kind, certInfo(n.read(k.certPath)).serial]));
    await n.pki.ensure(n.a, n.issue);
    const c0 = certInfo(n.read(certKind('kubelet-client')!.certPath));
    const life = c0.notAfter.getTime() - c0.notBefore.getTime();
    const t0 = c0.notBefore.getTime();
    assert.is(n.pki.renewAt, t0 + Math.floor(life * 0.88));

    // kube-proxy issued apart, a tenth into the others' life (its key replaced): its own draw.
    n.clock.now = t0 + life / 10;
    writeFileSync(n.at(proxy.keyPath), 'garbage\n');
    await n.pki.ensure(n.a, n.issue);
    assert.equal(requested(n), ['kube-proxy']);
    assert.is(draws, 2);
    const before = serials();

    // The others' point: they are due, and kube-proxy, at 78% of its own life, goes along.
    n.clock.now = n.pki.renewAt;
    assert.is(n.clock.now, t0 + Math.floor(life * 0.88), 'the earliest point is the others\'');
    const r = await n.pki.ensure(n.a, n.issue);
    assert.is(r.calls, 1, 'one call for all three');
    assert.equal(requested(n), ['kube-proxy', 'kubelet-client', 'kubelet-serving']);
    assert.equal(r.restart, ['kube-proxy', 'kubelet'], 'each component once');
    for (const k of worker) assert.not.equal(certInfo(n.read(k.certPath)).serial, before.get(k.kind), k.kind);
    const asked = n.log.lines.filter((l) => l.includes('requesting cluster certificates:')).at(-1)!;
    assert.match(asked, /kubelet-client \(due for renewal since /);
    assert.match(asked, /kube-proxy \(renewed with the others: past 70% of its lifetime, expires /);
    assert.is(draws, 3, 'the three issued together now share one draw');

    // kube-proxy issued apart again, half-way this time: at the others' next point it is at 38%
    // of its own life, so it is left alone.
    const t2 = certInfo(n.read(certKind('kubelet-client')!.certPath)).notBefore.getTime();
    n.clock.now = t2 + life / 2;
    writeFileSync(n.at(proxy.keyPath), 'garbage\n');
    await n.pki.ensure(n.a, n.issue);
    assert.equal(requested(n), ['kube-proxy']);
    n.clock.now = n.pki.renewAt;
    assert.is(n.clock.now, t2 + Math.floor(life * 0.88));
    const later = await n.pki.ensure(n.a, n.issue);
    assert.is(later.calls, 1);
    assert.equal(requested(n), ['kubelet-client', 'kubelet-serving'], 'kube-proxy is not in its window yet');
    assert.equal(later.restart, ['kubelet']);
  } finally {
    await n.close();
  }
});

test('only the first call of a pass takes certificates along: with a clock far ahead, a second call asks for what is wrong, and the error blames only that', async () => {
  // The agent 45 s ahead of the coordinator and 60 s leaves (its floor when a CA is about to
  // expire): every fresh certificate is at 77% of its life to the agent, inside its window. The
  // coordinator signs kubelet-serving for another address, so every answer is wrong for it.
  const n = await node(['worker'], 'node-s', net.host(19), () => 0.9);
  try {
    n.fake.knobs.now = () => n.clock.now - 45_000;
    n.fake.knobs.addresses = [net.host(99)];
    for (const k of CERT_KINDS) n.fake.knobs.ttlMs[k.kind] = 60_000;
    const e = await rejects(() => n.pki.ensure(n.a, n.issue), 'are still not right for this node');
    assert.ok(e instanceof ClusterPkiError);
    assert.ok(n.fake.issued.length >= 2, 'it asked again');
    for (let call = 1; call < n.fake.issued.length; call++) assert.equal(requested(n, call), ['kubelet-serving'], `call ${call + 1} asks only for the certificate that is wrong`);
    assert.equal(e.kinds, ['kubelet-serving'], e.message);
    assert.not.match(e.message, /renewed with the others/);
  } finally {
    await n.close();
  }
});

test('a node offline past expiry asks again for everything by itself', async () => {
  const n = await node(['worker'], 'node-o', net.host(14));
  try {
    await n.pki.ensure(n.a, n.issue);
    n.clock.now += 3 * DAY;
    const r = await n.pki.ensure(n.a, n.issue);
    assert.is(r.calls, 1);
    assert.equal(requested(n), ['kube-proxy', 'kubelet-client', 'kubelet-serving']);
    assert.ok(n.log.lines.some((l) => /kubelet-client \(expired at /.test(l)), n.log.lines.join('\n'));
    for (const k of kindsForRoles(['worker'])) assert.ok(certInfo(n.read(k.certPath)).notAfter.getTime() > n.clock.now, k.kind);
  } finally {
    await n.close();
  }
});

test('what no longer matches is asked again: a replaced key, a missing CA bundle, a new node address; a key left readable gets 0600 back', async () => {
  const n = await node(['worker'], 'node-x', net.host(15));
  try {
    await n.pki.ensure(n.a, n.issue);
    const client = certKind('kubelet-client')!;

    // A key that is not a key: replaced (made here), and its certificate asked for again.
    writeFileSync(n.at(client.keyPath), 'garbage\n');
    let r = await n.pki.ensure(n.a, n.issue);
    assert.equal(requested(n), ['kubelet-client']);
    assert.ok(n.log.lines.some((l) => l.includes('warn') && l.includes('is not an ECDSA P-256 private key')));
    assert.is(certInfo(n.read(client.certPath)).keyId, publicKeyId(n.read(client.keyPath)));
    assert.is(modeOf(n.at(client.keyPath)), 0o600);
    assert.ok(r.files.find((f) => f.path === `/${client.keyPath}`)!.changed, 'the new key is reported changed');
    assert.equal(r.restart, ['kubelet']);

    // The CA bundle gone: every kind under that CA is asked again, and the bundle comes back.
    rmSync(n.at(CLUSTER_CA_PATHS.kubernetes));
    r = await n.pki.ensure(n.a, n.issue);
    assert.equal(requested(n), ['kube-proxy', 'kubelet-client', 'kubelet-serving']);
    assert.ok(n.log.lines.some((l) => l.includes('(the kubernetes CA bundle is missing)')));
    assert.is(n.read(CLUSTER_CA_PATHS.kubernetes), n.fake.cas.kubernetes.certPem);

    // The node's address changed: only the kind with the node's SANs.
    const moved = { ...n.a, node_ip: net.host(16) };
    n.fake.knobs.addresses = [net.host(16)];
    r = await n.pki.ensure(moved, n.issue);
    assert.equal(requested(n), ['kubelet-serving']);
    assert.ok(n.log.lines.some((l) => l.includes(`kubelet-serving (SANs lack the node address ${net.host(16)})`)));
    assert.is(new X509Certificate(n.read(certKind('kubelet-serving')!.certPath)).checkIP(net.host(16)), net.host(16));

    // A key made readable by all: no call, its mode restored, and that is a change.
    const calls = n.fake.issued.length;
    chmodSync(n.at(client.keyPath), 0o644);
    r = await n.pki.ensure(moved, n.issue);
    assert.is(n.fake.issued.length, calls);
    assert.is(modeOf(n.at(client.keyPath)), 0o600);
    assert.ok(r.files.find((f) => f.path === `/${client.keyPath}`)!.changed);
  } finally {
    await n.close();
  }
});

test('a refusal fails with the kind named; no certificate is written, the keys made stay for the next try', async () => {
  const n = await node(['worker'], 'node-f', net.host(17));
  try {
    n.fake.knobs.refuse.add('kube-proxy');
    const e = await rejects(() => n.pki.ensure(n.a, n.issue), 'kube-proxy: not allowed for node node-f');
    assert.ok(e instanceof ClusterPkiError);
    assert.match(e.message, /^the coordinator did not issue the cluster certificates kubelet-client, kubelet-serving, kube-proxy: /);
    for (const k of kindsForRoles(['worker'])) {
      assert.not.ok(existsSync(n.at(k.certPath)), k.certPath);
      assert.is(modeOf(n.at(k.keyPath)), 0o600);
    }
    assert.not.ok(existsSync(n.at(CLUSTER_CA_PATHS.kubernetes)));
    // Next try, allowed: the same keys are used.
    const keys = kindsForRoles(['worker']).map((k) => n.read(k.keyPath));
    n.fake.knobs.refuse.clear();
    await n.pki.ensure(n.a, n.issue);
    assert.equal(kindsForRoles(['worker']).map((k) => n.read(k.keyPath)), keys);
  } finally {
    await n.close();
  }
});

test('an answer that does not fit is refused before anything is written', async () => {
  const n = await node(['worker'], 'node-b', net.host(18));
  try {
    // A certificate for a key the node did not send (here: another kind's CSR answered twice).
    const wrongKey: IssueFn = async (req) => {
      const res = await n.issue(req);
      return { ...res, certificates: res.certificates.map((c) => (c.kind === 'kube-proxy' ? { ...c, cert_pem: res.certificates[0]!.cert_pem } : c)) };
    };
    await rejects(() => n.pki.ensure(n.a, wrongKey), "the coordinator's answer for kube-proxy is unusable: the certificate is not for the key the node sent");
    const missing: IssueFn = async (req) => {
      const res = await n.issue(req);
      return { ...res, certificates: res.certificates.filter((c) => c.kind !== 'kubelet-serving') };
    };
    await rejects(() => n.pki.ensure(n.a, missing), "the coordinator's answer lacks the requested certificates kubelet-serving");
    for (const k of kindsForRoles(['worker'])) assert.not.ok(existsSync(n.at(k.certPath)), k.certPath);
    // A master without the service-account pair.
    const m = assignment({ ...n.a, roles: ['master'] });
    const noSa: IssueFn = async (req) => ({ ...(await n.issue(req)), service_account_private_pem: '', service_account_public_pem: '' });
    await rejects(() => n.pki.ensure(m, noSa), 'lacks a usable service-account key pair');
  } finally {
    await n.close();
  }
});

test('a worker that joined before any master gets its certificates; its kubeconfigs come with the revision that names an API server, without another call', async () => {
  const n = await node(['worker'], 'node-e', net.host(19));
  try {
    const early = { ...n.a, api_server_endpoint: '' };
    const r = await n.pki.ensure(early, n.issue);
    assert.is(r.calls, 1);
    for (const k of kindsForRoles(['worker'])) assert.ok(existsSync(n.at(k.certPath)), k.certPath);
    assert.not.ok(existsSync(n.at('etc/kubernetes/kubelet.conf')));
    assert.not.ok(existsSync(n.at('var/lib/kube-proxy/kubeconfig.conf')));
    assert.ok(n.log.lines.some((l) => l.includes('not writing /etc/kubernetes/kubelet.conf, /var/lib/kube-proxy/kubeconfig.conf yet: the assignment names no API server endpoint')));
    const later = await n.pki.ensure(n.a, n.issue);
    assert.is(later.calls, 0);
    assert.equal(later.files.filter((f) => f.changed).map((f) => f.path).sort(), ['/etc/kubernetes/kubelet.conf', '/var/lib/kube-proxy/kubeconfig.conf']);
    assert.equal(later.restart, ['kube-proxy', 'kubelet']);
    assert.is(parse(n.read('etc/kubernetes/kubelet.conf')).clusters[0].cluster.server, `https://${net.host(100)}:6443`);
  } finally {
    await n.close();
  }
});

test.run();
