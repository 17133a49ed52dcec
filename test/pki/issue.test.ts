// Cluster certificates over real gRPC from real node identities: the CAs made with the first plan
// and kept; every kind a master+etcd node and a worker hold, checked by openssl against its own CA
// only; the SA key for masters only; refusals that change nothing; CertificateExpirations and
// the two CLI commands on top of it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { tempDir, testCoordinator, captureLogger, waitFor } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { rejects } from '../helpers/assert.ts';
import { join as joinCoordinator } from '../../agent/client/join.ts';
import { agentClient } from '../../agent/client/channels.ts';
import { unary } from '../../shared/wire/status.ts';
import { createCsr, certInfo } from '../../shared/pki/x509.ts';
import { CLUSTER_CA_PATHS, kindsForRoles, type ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { CLUSTER_PKI, COORDINATOR_DATA } from '../../shared/constants.ts';
import { main } from '../../coordinator/cli/main.ts';
import { memoryIO } from '../../shared/cli/io.ts';
import type { Coordinator } from '../../coordinator/server/coordinator.ts';
import type { AgentIdentity } from '../../agent/identity/identity-store.ts';
import { EXTRA_SANS, LB, openssl, opensslText, opensslVerifies, pkiPlanText } from './fixtures.ts';

const net = addressBlock(import.meta.url);
const planText = pkiPlanText([net.host(2), net.host(3), net.host(4)]);
const CA_KINDS: ClusterCaKind[] = ['kubernetes', 'etcd', 'front-proxy'];

async function joinNode(c: Coordinator, name: string, address: string): Promise<AgentIdentity> {
  const { token } = await c.state.tokens.create({});
  return joinCoordinator({ coordinator: c.address, token, caHash: c.identity.caPin, insecureSkipCaVerification: false, nodeName: name, machineId: `m-${name}`, address, labels: {}, agentVersion: 't' }, captureLogger());
}

async function issue(c: Coordinator, id: AgentIdentity, requests: { kind: string; csr_pem: string }[]) {
  const client = agentClient(c.address, id);
  try {
    return await unary(c.address, client, 'IssueCertificates', { requests }, 15_000);
  } finally {
    client.close();
  }
}

/** One CSR per kind, as an agent makes them: a fresh key each, the catalogue's subject. */
async function requestsFor(name: string, roles: string[]) {
  return Promise.all(kindsForRoles(roles).map(async (k) => ({ kind: k.kind, csr_pem: (await createCsr(k.cn(name), undefined, { orgs: k.orgs })).csrPem })));
}

test('the cluster CAs appear with the first plan (not before), keys 0600, subject from the plan, and a restart rewrites none', async () => {
  const dir = tempDir();
  const data = join(dir, 'coord');
  let c = await testCoordinator(data, { listen: `${net.host(1)}:0` });
  try {
    assert.not.ok(existsSync(join(data, CLUSTER_PKI.dir)), 'no plan, no cluster CAs');
    const n1 = await joinNode(c, 'node-1', net.host(2));
    const e = await rejects(() => issue(c, n1, []));
    assert.is(e.reason, 'no-plan');
    await c.state.applyPlan(planText, 'pki.yaml');
    for (const kind of CA_KINDS) {
      assert.is(statSync(join(data, CLUSTER_PKI[kind].key)).mode & 0o777, 0o600, kind);
      assert.is(statSync(join(data, CLUSTER_PKI[kind].cert)).mode & 0o777, 0o644, kind);
    }
    assert.is(statSync(join(data, CLUSTER_PKI.serviceAccountKey)).mode & 0o777, 0o600);
    const text = opensslText(readFileSync(join(data, CLUSTER_PKI.kubernetes.cert), 'utf8'));
    assert.match(text, /Subject: C ?= ?US, ST ?= ?NY, L ?= ?Troy, CN ?= ?kubernetes/);
    assert.match(text, /CA:TRUE/);
    const ca = certInfo(readFileSync(join(data, CLUSTER_PKI.etcd.cert)));
    assert.ok(Math.abs(ca.notAfter.getTime() - ca.notBefore.getTime() - 87_600 * 3_600_000) < 120_000, 'ca_expiry 87600h');
  } finally {
    await c.close();
  }
  const before = [...CA_KINDS.flatMap((k) => [CLUSTER_PKI[k].cert, CLUSTER_PKI[k].key]), CLUSTER_PKI.serviceAccountKey, CLUSTER_PKI.serviceAccountPub].map((f) => ({
    f,
    bytes: readFileSync(join(data, f), 'utf8'),
    mtime: statSync(join(data, f)).mtimeMs,
  }));
  c = await testCoordinator(data, { listen: `${net.host(1)}:0` });
  try {
    for (const b of before) {
      assert.is(readFileSync(join(data, b.f), 'utf8'), b.bytes, b.f);
      assert.is(statSync(join(data, b.f)).mtimeMs, b.mtime, `${b.f} not rewritten`);
    }
    assert.is(c.clusterCas.current()!.cas.kubernetes.certPem, before[0]!.bytes, 'loaded at start because a plan exists');
  } finally {
    await c.close();
  }
});

// One coordinator with node-1 (etcd + master) and node-2 (worker) for the rest of the file.
const dir = tempDir();
const data = join(dir, 'coord');
let c: Coordinator & { log: { lines: string[] } };
let n1: AgentIdentity;
let n2: AgentIdentity;
const issued = new Map<string, Map<string, string>>();
let caPems: Record<ClusterCaKind, string>;

test.before(async () => {
  writeFileSync(join(dir, 'pki.yaml'), planText);
  c = await testCoordinator(data, { listen: `${net.host(1)}:0`, planFile: join(dir, 'pki.yaml') });
  n1 = await joinNode(c, 'node-1', net.host(2));
  n2 = await joinNode(c, 'node-2', net.host(3));
  await waitFor('assignments', () => c.state.assignments.get('node-1')?.body.roles.includes('master') && c.state.assignments.get('node-2')?.body.roles.includes('worker'));
  caPems = { kubernetes: readFileSync(join(data, CLUSTER_PKI.kubernetes.cert), 'utf8'), etcd: readFileSync(join(data, CLUSTER_PKI.etcd.cert), 'utf8'), 'front-proxy': readFileSync(join(data, CLUSTER_PKI['front-proxy'].cert), 'utf8') };
});

test.after(async () => {
  await c?.close();
});

test('a worker asking for "apiserver" is refused with PERMISSION_DENIED, and nothing of its call is signed or recorded', async () => {
  const before = c.state.issuance.all().length;
  const reqs = [...(await requestsFor('node-2', ['worker'])), { kind: 'apiserver', csr_pem: (await createCsr('kube-apiserver')).csrPem }];
  const e = await rejects(() => issue(c, n2, reqs), 'node node-2 may not hold kind "apiserver" (roles: worker)');
  assert.is(e.kind, 'permission-denied');
  await c.state.idle();
  assert.is(c.state.issuance.all().length, before, 'all or nothing: the allowed kinds of the call were not issued either');
  const e2 = await rejects(() => issue(c, n2, [{ kind: 'kubelet-client', csr_pem: 'x'.repeat(9000) }]));
  assert.is(e2.kind, 'invalid-argument');
});

test('every kind of a master+etcd node and of a worker is issued; openssl verifies each against its CA and no other', async () => {
  for (const [id, name, roles] of [
    [n1, 'node-1', ['etcd', 'master']],
    [n2, 'node-2', ['worker']],
  ] as const) {
    const reqs = await requestsFor(name, [...roles]);
    const res = await issue(c, id, reqs);
    assert.equal(res.certificates.map((x) => x.kind), reqs.map((r) => r.kind));
    assert.equal([res.cas!.kubernetes, res.cas!.etcd, res.cas!.front_proxy], [caPems.kubernetes, caPems.etcd, caPems['front-proxy']]);
    issued.set(name, new Map(res.certificates.map((x) => [x.kind, x.cert_pem])));
    if (name === 'node-1') {
      assert.match(res.service_account_private_pem, /PRIVATE KEY/);
      assert.is(res.service_account_public_pem, readFileSync(join(data, CLUSTER_PKI.serviceAccountPub), 'utf8'));
    } else assert.equal([res.service_account_private_pem, res.service_account_public_pem], ['', ''], 'no SA key for a worker');
  }
  assert.ok(c.log.lines.some((l) => l.includes('service-account key delivered to node node-1')));
  assert.not.ok(c.log.lines.some((l) => l.includes('delivered to node node-2')));
  assert.not.ok(c.log.lines.some((l) => l.includes('PRIVATE KEY') || l.includes(c.clusterCas.current()!.serviceAccount.privatePem.split('\n')[1]!)), 'no key content in the log');

  const strangers = {
    'muster node CA': c.identity.nodeCa.certPem,
    'muster server CA': c.identity.serverCa.certPem,
    'muster admin CA': c.identity.adminCa.certPem,
  };
  const { CERT_KINDS } = await import('../../shared/pki/catalogue.ts');
  for (const [node, certs] of issued) {
    for (const [kind, pem] of certs) {
      const own = CERT_KINDS.find((k) => k.kind === kind)!.ca;
      assert.ok(opensslVerifies(dir, caPems[own], pem), `${node} ${kind} verifies against the ${own} CA`);
      for (const other of CA_KINDS.filter((k) => k !== own)) assert.not.ok(opensslVerifies(dir, caPems[other], pem), `${node} ${kind} must not verify against the ${other} CA`);
      for (const [what, ca] of Object.entries(strangers)) assert.not.ok(opensslVerifies(dir, ca, pem), `${node} ${kind} must not verify against the ${what}`);
    }
  }
  assert.ok(CLUSTER_CA_PATHS.kubernetes.endsWith('pki/ca.crt'));
});

test('openssl x509 -text shows the SANs and usages of the catalogue', () => {
  const api = opensslText(issued.get('node-1')!.get('apiserver')!);
  for (const san of ['DNS:kubernetes.default.svc.cluster.local', 'DNS:kubernetes', `DNS:${LB}`, `DNS:${EXTRA_SANS[0]}`, 'DNS:node-1', 'IP Address:172.17.0.1', 'IP Address:127.0.0.1', `IP Address:${EXTRA_SANS[1]}`, `IP Address:${net.host(2)}`]) {
    assert.ok(api.includes(san), `apiserver lacks ${san}`);
  }
  assert.match(api, /Subject: CN ?= ?kube-apiserver\n/);
  assert.match(api, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
  assert.match(api, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  const etcd = opensslText(issued.get('node-1')!.get('etcd-server')!);
  for (const san of ['DNS:localhost', 'DNS:node-1', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', `IP Address:${net.host(2)}`]) assert.ok(etcd.includes(san), `etcd-server lacks ${san}`);
  assert.match(etcd, /TLS Web Server Authentication, TLS Web Client Authentication/);
  const kubelet = opensslText(issued.get('node-2')!.get('kubelet-client')!);
  assert.match(kubelet, /Subject: CN ?= ?system:node:node-2, O ?= ?system:nodes\n/);
  assert.not.match(kubelet, /Subject Alternative Name/);
  assert.match(kubelet, /TLS Web Client Authentication/);
  assert.not.match(kubelet, /TLS Web Server Authentication/);
  const serving = opensslText(issued.get('node-2')!.get('kubelet-serving')!);
  assert.match(serving, new RegExp(`DNS:node-2, IP Address:${net.host(3).replaceAll('.', '\\.')}\n`));
  // Leaf lifetime from the plan's certificates.expiry (17520h).
  const info = certInfo(issued.get('node-2')!.get('kube-proxy')!);
  assert.ok(Math.abs(info.notAfter.getTime() - Date.now() - 17_520 * 3_600_000) < 120_000);
});

test('every issuance is recorded durably; CertificateExpirations and `muster certs check-expiration` list them soonest first', async () => {
  const records = c.state.issuance.all();
  const serial = certInfo(issued.get('node-1')!.get('apiserver')!).serial;
  const rec = records.find((r) => r.serial === serial)!;
  assert.is(rec.node, 'node-1');
  assert.is(rec.kind, 'apiserver');
  assert.match(rec.requestedBy, /^node node-1 \(identity serial [0-9a-f]+\)$/);
  assert.ok(rec.sans.includes(`DNS:${LB}`));
  const io = memoryIO();
  assert.is(await main(['certs', 'check-expiration', '--data-dir', data, '--json'], io), 0, io.stderr);
  const rows = JSON.parse(io.stdout) as { node: string; kind: string; serial: string; not_after: string; warning: boolean }[];
  const expected = 3 + kindsForRoles(['etcd', 'master']).length + kindsForRoles(['worker']).length;
  assert.is(rows.length, expected);
  assert.equal(rows.map((r) => Date.parse(r.not_after)), [...rows.map((r) => Date.parse(r.not_after))].sort((a, b) => a - b), 'soonest first');
  assert.ok(rows.some((r) => r.node === '' && r.kind === 'ca:etcd'));
  assert.ok(rows.some((r) => r.node === 'node-2' && r.kind === 'kubelet-serving'));
  assert.not.ok(rows.some((r) => r.warning));
  // The table, with a threshold above the leaves' two years: every leaf is flagged, no CA.
  const t = memoryIO();
  assert.is(await main(['certs', 'check-expiration', '--data-dir', data, '--warn-days', '800'], t), 0, t.stderr);
  const lines = t.stdout.trim().split('\n');
  assert.match(lines[0]!, /^NODE\s+KIND\s+EXPIRES\s+RESIDUAL$/);
  assert.is(lines.filter((l) => l.includes('WARNING: less than 800 days left')).length, expected - 3);
  assert.match(lines.find((l) => l.includes('ca:kubernetes'))!, /^-\s+ca:kubernetes\s+\S+Z\s+36\d\dd \d+h$/);
  assert.is(lines[lines.length - 1], `${expected} certificate(s); ${expected - 3} expire within 800 days`);
});

test('`muster kubeconfig admin` writes a 0600 kubeconfig for the LB whose certificate is kubernetes-admin, O kubeadm:cluster-admins, from the kubernetes CA', async () => {
  const file = join(dir, 'admin.conf');
  const io = memoryIO();
  assert.is(await main(['kubeconfig', 'admin', '-o', file, '--ttl', '2h', '--data-dir', data], io), 0, io.stderr);
  assert.is(statSync(file).mode & 0o777, 0o600);
  const kc = parse(readFileSync(file, 'utf8'));
  assert.is(kc.clusters[0].cluster.server, `https://${LB}:6443`);
  assert.is(kc['current-context'], 'kubernetes-admin@pki');
  const cert = Buffer.from(kc.users[0].user['client-certificate-data'], 'base64').toString('utf8');
  const key = Buffer.from(kc.users[0].user['client-key-data'], 'base64').toString('utf8');
  assert.is(Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString('utf8'), caPems.kubernetes);
  assert.ok(opensslVerifies(dir, caPems.kubernetes, cert));
  assert.match(opensslText(cert), /Subject: CN ?= ?kubernetes-admin, O ?= ?kubeadm:cluster-admins\n/);
  const info = certInfo(cert);
  assert.ok(Math.abs(info.notAfter.getTime() - Date.now() - 2 * 3_600_000) < 120_000, 'ttl 2h');
  // The key in the file is the certified one (made by the CLI).
  writeFileSync(join(dir, 'k.pem'), key);
  assert.is(openssl(['pkey', '-in', join(dir, 'k.pem'), '-pubout']), openssl(['x509', '-noout', '-pubkey'], cert));
  assert.ok(c.state.issuance.all().some((r) => r.serial === info.serial && r.node === '' && r.kind === 'admin' && r.requestedBy.startsWith('admin muster-admin')));
  const bad = memoryIO();
  assert.is(await main(['kubeconfig', 'admin', '-o', file, '--ttl', '5s', '--data-dir', data], bad), 1);
  assert.match(bad.stderr, /admin kubeconfig lifetime 5000 ms is out of range/);
  assert.ok(existsSync(join(data, COORDINATOR_DATA.adminConfig)));
});

test('the records are durable: a restarted coordinator lists the same certificates', async () => {
  const before = c.state.issuance.all().map((r) => r.serial).sort();
  assert.ok(before.length > 10);
  await c.close();
  c = await testCoordinator(data, { listen: `${net.host(1)}:0` });
  assert.equal(c.state.issuance.all().map((r) => r.serial).sort(), before);
});

test.run();
