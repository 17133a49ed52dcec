// The CSR authoriser as a table: each row a request and the exact refusal a user reads, plus
// every kind allowed where the catalogue says. Pure: no server, the plan parsed from text.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authorizeCsr, authorizeCsrs, MAX_CSR_PEM_CHARS, type NodeForCsr } from '../../coordinator/pki/authorizer.ts';
import { CERT_KINDS, kindsForRoles } from '../../shared/pki/catalogue.ts';
import { createCsr, type CsrOptions } from '../../shared/pki/x509.ts';
import * as der from '../../shared/pki/der.ts';
import { MusterError } from '../../shared/errors/index.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { tempDir } from '../helpers/cluster.ts';
import { EXTRA_SANS, LB, openssl, pkiPlan } from './fixtures.ts';

const net = addressBlock(import.meta.url);
const plan = pkiPlan([net.host(2), net.host(3), net.host(4)]);
const master: NodeForCsr = { name: 'node-1', roles: ['etcd', 'master'], addresses: [net.host(2)] };
const worker: NodeForCsr = { name: 'node-2', roles: ['worker'], addresses: [net.host(3)] };
const dir = tempDir('muster-authz-');

const csr = async (cn: string, o: CsrOptions = {}, keyPem?: string) => (await createCsr(cn, keyPem, o)).csrPem;
const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

/** A CSR made by openssl with extra -addext lines (interop: what operators' tools send). */
function opensslCsr(cn: string, addext: string[]): string {
  const key = join(dir, `k-${Math.random().toString(36).slice(2)}.pem`);
  writeFileSync(key, openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']));
  return openssl(['req', '-new', '-key', key, '-subj', `/CN=${cn}`, ...addext.flatMap((e) => ['-addext', e])]);
}

/**
 * A validly signed P-256 CSR with a subject and attributes given as raw DER (hex), for spellings
 * no CSR tool writes: the authoriser must refuse what it cannot read exactly.
 */
function rawCsr(subjectSetsHex: string[], attributesHex: string[]): string {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const subject = der.seq(...subjectSetsHex.map((h) => Buffer.from(h, 'hex')));
  const info = der.seq(der.uint(0), subject, publicKey.export({ type: 'spki', format: 'der' }), der.tlv(der.contextTag(0, true), ...attributesHex.map((h) => Buffer.from(h, 'hex'))));
  return der.toPem('CERTIFICATE REQUEST', der.seq(info, der.seq(der.oid('1.2.840.10045.4.3.2')), der.bits(sign('sha256', info, privateKey))));
}
const CN_NODE2 = '310f300d06035504030c066e6f64652d32'; // CN=node-2
/** An extensionRequest attribute holding one extension (hex). */
const extensionRequest = (extHex: string, oidHex = '2a864886f70d01090e') => der.seq(der.tlv(der.TAG.OID, Buffer.from(oidHex, 'hex')), der.set(der.seq(Buffer.from(extHex, 'hex')))).toString('hex');
const SAN_EVIL = '30170603551d110410300e820c6576696c2e6578616d706c65'; // subjectAltName DNS:evil.example

function tamper(pem: string): string {
  const lines = pem.trim().split('\n');
  const mid = Math.floor(lines.length / 2);
  const l = lines[mid]!;
  lines[mid] = (l[5] === 'A' ? 'B' : 'A').padStart(6, l.slice(0, 5)) + l.slice(6);
  return `${lines.join('\n')}\n`;
}

/** A well-formed CSR whose signature's last byte is changed: valid DER, a signature that does not verify. */
function badSignature(pem: string): string {
  const b = der.fromPem('CERTIFICATE REQUEST', pem);
  b[b.length - 1]! ^= 0x01;
  return der.toPem('CERTIFICATE REQUEST', b);
}

/**
 * A CSR whose P-256 public key is moved off the curve (the last byte of its point changed): the
 * key is not imported by the authoriser, only by verify(), so a key that does not import must be
 * a signature that does not verify, never a certificate for a point nobody holds.
 */
async function offCurveKey(cn: string): Promise<string> {
  const { keyPem, csrPem } = await createCsr(cn);
  const spki = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  const b = der.fromPem('CERTIFICATE REQUEST', csrPem);
  const at = b.indexOf(spki);
  assert.ok(at > 0, 'the CSR carries its key as exported');
  b[at + spki.length - 1]! ^= 0x01;
  return der.toPem('CERTIFICATE REQUEST', b);
}

interface Row {
  what: string;
  node: NodeForCsr;
  kind: string;
  csr: () => Promise<string>;
  code: 'permission-denied' | 'invalid-argument';
  reason?: string;
  message: string | RegExp;
}

const controlPlaneKinds = CERT_KINDS.filter((k) => !k.roles.includes('worker')).map((k) => k.kind);

const ROWS: Row[] = [
  ...controlPlaneKinds.map(
    (kind): Row => ({
      what: `worker asks for ${kind}`,
      node: worker,
      kind,
      csr: () => csr(CERT_KINDS.find((k) => k.kind === kind)!.cn('node-2')),
      code: 'permission-denied',
      reason: 'kind-not-allowed',
      message: `node node-2 may not hold kind "${kind}" (roles: worker)`,
    }),
  ),
  { what: 'node with no roles', node: { ...worker, roles: [] }, kind: 'kubelet-client', csr: () => csr('system:node:node-2'), code: 'permission-denied', reason: 'kind-not-allowed', message: 'node node-2 may not hold kind "kubelet-client" (roles: none)' },
  { what: 'foreign DNS SAN', node: worker, kind: 'kubelet-serving', csr: () => csr('node-2', { dnsNames: ['node-2', 'evil.example.com'] }), code: 'permission-denied', reason: 'csr-san', message: 'kind "kubelet-serving": SAN "evil.example.com" is not this node\'s' },
  { what: "another node's address", node: worker, kind: 'kubelet-serving', csr: () => csr('node-2', { ips: [net.host(2)] }), code: 'permission-denied', reason: 'csr-san', message: `kind "kubelet-serving": SAN "${net.host(2)}" is not this node's` },
  { what: "the apiserver's LB name on kubelet-serving", node: master, kind: 'kubelet-serving', csr: () => csr('node-1', { dnsNames: [LB] }), code: 'permission-denied', reason: 'csr-san', message: `kind "kubelet-serving": SAN "${LB}" is not this node's` },
  { what: 'SAN on a kind without SANs', node: worker, kind: 'kube-proxy', csr: () => csr('system:kube-proxy', { dnsNames: ['node-2'] }), code: 'permission-denied', reason: 'csr-san', message: 'kind "kube-proxy": SAN "node-2" is not allowed (the kind carries no SANs)' },
  { what: 'email SAN', node: worker, kind: 'kubelet-serving', csr: async () => opensslCsr('node-2', ['subjectAltName=email:a@example.com']), code: 'permission-denied', reason: 'csr-san', message: 'kind "kubelet-serving": SAN email:a@example.com is not allowed (only DNS names and IP addresses)' },
  { what: "wrong CN (another node's kubelet)", node: worker, kind: 'kubelet-client', csr: () => csr('system:node:node-1'), code: 'permission-denied', reason: 'csr-subject', message: 'kind "kubelet-client": subject CN "system:node:node-1" is not "system:node:node-2"' },
  { what: 'wrong O (system:masters)', node: worker, kind: 'kubelet-client', csr: () => csr('system:node:node-2', { orgs: ['system:masters'] }), code: 'permission-denied', reason: 'csr-subject', message: 'kind "kubelet-client": subject O "system:masters" is not "system:nodes"' },
  { what: 'extra O', node: worker, kind: 'kubelet-client', csr: () => csr('system:node:node-2', { orgs: ['system:nodes', 'system:masters'] }), code: 'permission-denied', reason: 'csr-subject', message: 'kind "kubelet-client": subject O "system:masters, system:nodes" is not "system:nodes"' },
  { what: 'O where the kind has none', node: worker, kind: 'kube-proxy', csr: () => csr('system:kube-proxy', { orgs: ['system:masters'] }), code: 'permission-denied', reason: 'csr-subject', message: 'kind "kube-proxy": subject O "system:masters" is not allowed (the kind has no O)' },
  { what: 'server auth on a client kind', node: worker, kind: 'kubelet-client', csr: () => csr('system:node:node-2', { usages: ['client', 'server'] }), code: 'permission-denied', reason: 'csr-usage', message: 'kind "kubelet-client": extended key usage serverAuth is not allowed (the kind gets clientAuth)' },
  { what: 'keyEncipherment', node: worker, kind: 'kubelet-serving', csr: async () => opensslCsr('node-2', ['keyUsage=digitalSignature,keyEncipherment']), code: 'permission-denied', reason: 'csr-usage', message: 'kind "kubelet-serving": key usage keyEncipherment is not allowed (the kind gets digitalSignature)' },
  { what: 'a CA certificate', node: worker, kind: 'kubelet-serving', csr: async () => opensslCsr('node-2', ['basicConstraints=critical,CA:TRUE']), code: 'permission-denied', reason: 'csr-usage', message: 'kind "kubelet-serving": basicConstraints CA:TRUE is not allowed' },
  { what: 'an unknown extension', node: worker, kind: 'kubelet-serving', csr: async () => opensslCsr('node-2', ['nsComment=hello']), code: 'permission-denied', reason: 'csr-extension', message: 'kind "kubelet-serving": extension 2.16.840.1.113730.1.13 is not allowed' },
  { what: 'RSA key', node: worker, kind: 'kubelet-client', csr: () => csr('system:node:node-2', {}, rsaKey), code: 'permission-denied', reason: 'csr-key', message: 'kind "kubelet-client": key RSA 2048 is not allowed; cluster certificates are for ECDSA P-256 keys' },
  { what: 'oversized CSR', node: worker, kind: 'kubelet-client', csr: async () => 'A'.repeat(MAX_CSR_PEM_CHARS + 1), code: 'invalid-argument', message: `kind "kubelet-client": the CSR is ${MAX_CSR_PEM_CHARS + 1} characters; at most ${MAX_CSR_PEM_CHARS}` },
  { what: 'garbage', node: worker, kind: 'kubelet-client', csr: async () => 'not a csr', code: 'invalid-argument', message: 'kind "kubelet-client": not a PEM certificate request (CSR): no "CERTIFICATE REQUEST" PEM block' },
  { what: 'tampered CSR', node: worker, kind: 'kubelet-client', csr: async () => tamper(await csr('system:node:node-2')), code: 'invalid-argument', message: /^kind "kubelet-client": (the CSR signature does not verify|not a PEM certificate request)/ },
  { what: 'a signature that does not verify', node: worker, kind: 'kubelet-client', csr: async () => badSignature(await csr('system:node:node-2')), code: 'invalid-argument', message: 'kind "kubelet-client": the CSR signature does not verify' },
  { what: 'a P-256 key off the curve', node: worker, kind: 'kubelet-client', csr: () => offCurveKey('system:node:node-2'), code: 'invalid-argument', message: 'kind "kubelet-client": the CSR signature does not verify' },
  { what: 'a padded extensionRequest OID (its SANs hidden from a byte comparison)', node: worker, kind: 'kubelet-serving', csr: async () => rawCsr([CN_NODE2], [extensionRequest(SAN_EVIL, '2a864886f70d0109800e')]), code: 'invalid-argument', message: 'kind "kubelet-serving": not a PEM certificate request (CSR): an OBJECT IDENTIFIER with a padded arc (not DER)' },
  { what: 'the same extensionRequest in DER: its foreign SAN is seen', node: worker, kind: 'kubelet-serving', csr: async () => rawCsr([CN_NODE2], [extensionRequest(SAN_EVIL)]), code: 'permission-denied', reason: 'csr-san', message: 'kind "kubelet-serving": SAN "evil.example" is not this node\'s' },
  { what: 'a padded O attribute type (system:masters)', node: worker, kind: 'kubelet-serving', csr: async () => rawCsr([CN_NODE2, '3118301606045504800a0c0e73797374656d3a6d617374657273'], []), code: 'invalid-argument', message: 'kind "kubelet-serving": not a PEM certificate request (CSR): an OBJECT IDENTIFIER with a padded arc (not DER)' },
  { what: 'an empty OID as a subject attribute type', node: worker, kind: 'kubelet-serving', csr: async () => rawCsr([CN_NODE2, '3107300506000c0178'], []), code: 'invalid-argument', message: 'kind "kubelet-serving": not a PEM certificate request (CSR): empty OBJECT IDENTIFIER' },
  { what: 'basicConstraints with an empty BOOLEAN', node: worker, kind: 'kubelet-serving', csr: async () => rawCsr([CN_NODE2], [extensionRequest('300d0603551d130406300401000000')]), code: 'invalid-argument', message: 'kind "kubelet-serving": not a PEM certificate request (CSR): basicConstraints cA: a BOOLEAN of 0 bytes' },
  { what: 'unknown kind', node: worker, kind: 'root-ca', csr: () => csr('x'), code: 'invalid-argument', message: `unknown certificate kind "root-ca"; kinds are ${CERT_KINDS.map((k) => k.kind).join(', ')}` },
];

// Each row twice: authorizeCsr, and authorizeCsrs with the row among good requests (the issuer's
// path: one call, several kinds) must refuse alike.
for (const row of ROWS) {
  test(`refused: ${row.what}`, async () => {
    const pem = await row.csr();
    const good = row.node === worker ? [{ kind: 'kube-proxy', csrPem: await csr('system:kube-proxy') }] : [];
    for (const variant of ['one', 'in a call'] as const) {
      let err: unknown;
      try {
        if (variant === 'one') authorizeCsr(row.node, plan, { kind: row.kind, csrPem: pem });
        else authorizeCsrs(row.node, plan, [...good, { kind: row.kind, csrPem: pem }, ...good]);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof MusterError, `${variant}: expected a refusal, got ${String(err)}`);
      const e = err as MusterError;
      assert.is(e.kind, row.code, variant);
      if (row.reason) assert.is(e.reason, row.reason, variant);
      if (typeof row.message === 'string') assert.is(e.message, row.message, variant);
      else assert.match(e.message, row.message, variant);
    }
  });
}

test('authorizeCsrs: what each request gets is what authorizeCsr gives it, in request order', async () => {
  const reqs = [
    { kind: 'kubelet-client', csrPem: await csr('system:node:node-2') },
    { kind: 'kubelet-serving', csrPem: await csr('node-2', { dnsNames: ['node-2'], ips: [net.host(3)] }) },
    { kind: 'kube-proxy', csrPem: await csr('') },
  ];
  const specs = authorizeCsrs(worker, plan, reqs);
  assert.equal(
    specs.map((s) => [s.kind.kind, s.cn, s.dnsNames, s.ips, s.csr.signatureValid, s.csr.spkiDer.toString('hex')]),
    reqs.map((r) => {
      const s = authorizeCsr(worker, plan, r);
      return [s.kind.kind, s.cn, s.dnsNames, s.ips, s.csr.signatureValid, s.csr.spkiDer.toString('hex')];
    }),
  );
});

test('authorizeCsrs: the refusal is the first in request order, not the first to finish', async () => {
  // The second request would be refused before any signature is checked (no such kind); the
  // first only once its signature was checked. The first is the answer.
  const reqs = [
    { kind: 'kubelet-client', csrPem: badSignature(await csr('system:node:node-2')) },
    { kind: 'root-ca', csrPem: await csr('x') },
  ];
  try {
    authorizeCsrs(worker, plan, reqs);
    assert.unreachable('refused');
  } catch (e) {
    assert.instance(e, MusterError);
    assert.is((e as MusterError).message, 'kind "kubelet-client": the CSR signature does not verify');
  }
  // One bad request refuses the whole call, wherever it is.
  const good = { kind: 'kubelet-client', csrPem: await csr('system:node:node-2') };
  try {
    authorizeCsrs(worker, plan, [good, good, { kind: 'kube-proxy', csrPem: await csr('system:kube-proxy', { orgs: ['system:masters'] }) }]);
    assert.unreachable('refused');
  } catch (e) {
    assert.is((e as MusterError).reason, 'csr-subject');
  }
});

test('every refusal reason of the authoriser has a row', () => {
  const reasons = new Set(ROWS.map((r) => r.reason).filter(Boolean));
  for (const r of ['kind-not-allowed', 'csr-san', 'csr-subject', 'csr-usage', 'csr-key', 'csr-extension']) assert.ok(reasons.has(r), r);
});

test('every kind the catalogue gives a master+etcd node, and a worker, is authorised with the catalogue subject and SANs', async () => {
  for (const node of [master, worker]) {
    const kinds = kindsForRoles(node.roles);
    assert.ok(kinds.length >= (node === master ? 11 : 3), `${node.name}: ${kinds.length}`);
    for (const k of kinds) {
      // Empty subject (allowed), and the full request (allowed too).
      for (const subjectCn of ['', k.cn(node.name)]) {
        const spec = authorizeCsr(node, plan, { kind: k.kind, csrPem: await csr(subjectCn, subjectCn ? { orgs: k.orgs, usages: k.usages } : {}) });
        assert.is(spec.cn, k.cn(node.name));
        assert.equal(spec.orgs, [...k.orgs]);
        assert.equal(spec.usages, [...k.usages]);
        assert.is(spec.ttlMs, 17_520 * 3_600_000);
      }
    }
  }
  const api = authorizeCsr(master, plan, { kind: 'apiserver', csrPem: await csr('kube-apiserver', { dnsNames: ['kubernetes.default.svc.cluster.local', LB], ips: ['172.17.0.1'] }) });
  assert.equal(api.dnsNames, ['node-1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', LB, EXTRA_SANS[0]]);
  assert.equal(api.ips, [EXTRA_SANS[1], net.host(2), '127.0.0.1', '172.17.0.1']);
  const etcd = authorizeCsr(master, plan, { kind: 'etcd-peer', csrPem: await csr('node-1') });
  assert.equal(etcd.dnsNames, ['node-1', 'localhost']);
  assert.equal(etcd.ips, [net.host(2), '127.0.0.1', '::1']);
  const serving = authorizeCsr(worker, plan, { kind: 'kubelet-serving', csrPem: opensslCsr('node-2', [`subjectAltName=DNS:node-2,IP:${net.host(3)}`, 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth']) });
  assert.equal([serving.dnsNames, serving.ips], [['node-2'], [net.host(3)]]);
});

test.run();
