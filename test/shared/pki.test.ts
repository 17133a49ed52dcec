import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueLeaf, createCsr, parseCsr, signCsr, caPin, certInfo, publicKeyId, issuedBy } from '../../shared/pki/x509.ts';
import { createPublicKey } from 'node:crypto';
import { requireTool } from '../helpers/tools.ts';
import { rejects } from '../helpers/assert.ts';

const dir = mkdtempSync(join(tmpdir(), 'muster-pki-'));

test('CA, server leaf and CSR-signed node cert verify with openssl', async () => {
  requireTool('openssl', 'openssl');
  const ca = await createCa('muster-identity-ca', 3650);
  const server = await issueLeaf(ca, { cn: 'muster-coordinator', dnsNames: ['localhost'], ips: ['127.0.0.1'], usages: ['server'], days: 365 });
  const { keyPem, csrPem } = await createCsr('node-1');
  const csr = await parseCsr(csrPem);
  assert.is(csr.cn, 'node-1');
  const nodeCert = await signCsr(ca, csr, { cn: 'node-1', orgs: ['muster:nodes'], usages: ['client', 'server'], days: 365 });
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
  writeFileSync(join(dir, 'server.crt'), server.certPem);
  writeFileSync(join(dir, 'node.crt'), nodeCert);
  writeFileSync(join(dir, 'node.key'), keyPem);
  const out = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'server.crt'), join(dir, 'node.crt')]).toString();
  assert.match(out, /server\.crt: OK/);
  assert.match(out, /node\.crt: OK/);
  const text = execFileSync('openssl', ['x509', '-in', join(dir, 'server.crt'), '-noout', '-text']).toString();
  assert.match(text, /DNS:localhost, IP Address:127\.0\.0\.1/);
  assert.match(text, /TLS Web Server Authentication/);
  // the key matches the certificate
  const pubFromKey = execFileSync('openssl', ['pkey', '-in', join(dir, 'node.key'), '-pubout']).toString();
  const pubFromCert = execFileSync('openssl', ['x509', '-in', join(dir, 'node.crt'), '-noout', '-pubkey']).toString();
  assert.is(pubFromKey, pubFromCert);
  const info = certInfo(nodeCert);
  assert.is(info.subjectCN, 'node-1');
  assert.equal(info.orgs, ['muster:nodes']);
});

test('caPin matches openssl (kubeadm discovery-token-ca-cert-hash recipe)', async () => {
  requireTool('openssl', 'openssl');
  const ca = await createCa('pin-test', 10);
  writeFileSync(join(dir, 'pin.crt'), ca.certPem);
  const der = execFileSync('sh', ['-c', `openssl x509 -pubkey -in ${join(dir, 'pin.crt')} | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex`]).toString();
  const hex = /= ([0-9a-f]{64})/.exec(der)?.[1];
  assert.is(caPin(ca.certPem), `sha256:${hex}`);
});

test('parseCsr rejects garbage and tampered requests', async () => {
  await rejects(() => parseCsr('not a csr'));
  const { csrPem } = await createCsr('node-2');
  const b64 = csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(b64, 'base64');
  der[der.length - 5] = der[der.length - 5]! ^ 0xff; // flip a signature byte
  const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await rejects(() => parseCsr(bad), /signature|CSR/i);
  // A P-256 key moved off the curve (the point's last byte changed): refused as a signature that
  // does not verify, before any KeyObject is made of it.
  const { keyPem, csrPem: good } = await createCsr('node-3');
  const spki = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  const moved = Buffer.from(good.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const at = moved.indexOf(spki);
  assert.ok(at > 0);
  moved[at + spki.length - 1]! ^= 0x01;
  await rejects(() => parseCsr(`-----BEGIN CERTIFICATE REQUEST-----\n${moved.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`), /^the CSR signature does not verify$/);
});

test('leaf extensions as openssl reads them; IPv6 and IPv4-mapped SANs', async () => {
  requireTool('openssl', 'openssl');
  const ca = await createCa('ext-ca', 10);
  const leaf = await issueLeaf(ca, { cn: 'api', orgs: ['system:masters', 'muster'], dnsNames: ['a.example'], ips: ['10.0.0.1', '::1', 'fe80::1:2', '2001:db8::ffff:1.2.3.4'], usages: ['server', 'client'], days: 2 });
  writeFileSync(join(dir, 'ext.crt'), leaf.certPem);
  const text = execFileSync('openssl', ['x509', '-in', join(dir, 'ext.crt'), '-noout', '-text']).toString();
  assert.match(text, /Subject: CN ?= ?api, O ?= ?system:masters, O ?= ?muster/);
  assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
  assert.match(text, /Key Usage: critical\s+Digital Signature\n/);
  assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.match(text, /DNS:a\.example, IP Address:10\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FE80:0:0:0:0:0:1:2, IP Address:2001:DB8:0:0:0:FFFF:102:304/);
  const caText = execFileSync('openssl', ['x509', '-noout', '-text'], { input: ca.certPem }).toString();
  assert.match(caText, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  assert.match(caText, /Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
  const ski = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)?.[1];
  assert.ok(ski);
  assert.match(text, new RegExp(`Authority Key Identifier:\\s+(keyid:)?${ski}`));
  assert.is(certInfo(leaf.certPem).notAfter.getTime() - Date.now() < 2 * 86_400_000 + 5_000, true);
});

test('a CA and a CSR made by openssl work with muster, and muster certificates verify under it', async () => {
  requireTool('openssl', 'openssl');
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ossl-ca.key']);
  run(['req', '-x509', '-new', '-key', 'ossl-ca.key', '-subj', '/CN=openssl-ca/O=elsewhere', '-days', '2', '-out', 'ossl-ca.crt']);
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ossl-node.key']);
  run(['req', '-new', '-key', 'ossl-node.key', '-subj', '/CN=node-from-openssl', '-out', 'ossl-node.csr']);
  const ca = { certPem: readFileSync(join(dir, 'ossl-ca.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'ossl-ca.key'), 'utf8') };
  const csr = await parseCsr(readFileSync(join(dir, 'ossl-node.csr'), 'utf8'));
  assert.is(csr.cn, 'node-from-openssl');
  writeFileSync(join(dir, 'ossl-node.crt'), await signCsr(ca, csr, { cn: 'node-from-openssl', usages: ['client'], days: 1 }));
  assert.match(run(['verify', '-CAfile', 'ossl-ca.crt', 'ossl-node.crt']), /ossl-node\.crt: OK/);
  // muster's own CSR reads back in openssl, signature and all
  const mine = await createCsr('node-9');
  writeFileSync(join(dir, 'mine.csr'), mine.csrPem);
  assert.match(execFileSync('openssl', ['req', '-in', join(dir, 'mine.csr'), '-noout', '-verify', '-subject'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString(), /subject=CN ?= ?node-9/);
  // an RSA CSR is refused by name
  run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa.key', '-subj', '/CN=rsa', '-out', 'rsa.csr']);
  await rejects(() => parseCsr(readFileSync(join(dir, 'rsa.csr'), 'utf8')), /ECDSA P-256, not rsa/);
});

test('a CSR key keeps the id and the certified encoding of its OpenSSL export when its bytes are reused', async () => {
  requireTool('openssl', 'openssl');
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const ca = await createCa('form-ca', 1);
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'form.key']);
  for (const form of ['uncompressed', 'compressed']) {
    run(['ec', '-in', 'form.key', '-conv_form', form, '-out', `form-${form}.key`]);
    run(['req', '-new', '-key', `form-${form}.key`, '-subj', '/CN=form-node', '-out', `form-${form}.csr`]);
    const csr = await parseCsr(readFileSync(join(dir, `form-${form}.csr`), 'utf8'));
    // The id is the hash of OpenSSL's export of the key, whether the CSR's bytes were reused or not.
    assert.is(csr.keyId, publicKeyId(csr.publicKey), form);
    assert.is(csr.canonicalSpki !== undefined, form === 'uncompressed', `${form}: reused as it came only when canonical`);
    const cert = signCsr(ca, csr, { cn: 'form-node', usages: ['client'], days: 1 });
    assert.is(certInfo(cert).keyId, csr.keyId, `${form}: the certificate carries that key`);
    assert.ok(createPublicKey(cert).export({ type: 'spki', format: 'der' }).equals(csr.publicKey.export({ type: 'spki', format: 'der' })), `${form}: certified as exported`);
  }
});


test('the parsed-CA cache: an entry is used only with the key it was made from, and stays bounded', async () => {
  const [caA, caB] = await Promise.all([createCa('cache-a', 10), createCa('cache-b', 10)]);
  const req = { cn: 'x', usages: ['client' as const], days: 1 };
  const csr = await parseCsr((await createCsr('x')).csrPem);
  assert.ok(issuedBy(signCsr(caA, csr, req), caA.certPem), 'signed by A, cached');
  // A's certificate with B's key (a mismatched import, say): signed with the key given, not the cached one.
  assert.not.ok(issuedBy(signCsr({ certPem: caA.certPem, keyPem: caB.keyPem }, csr, req), caA.certPem), 'a cached CA is not used with another key');
  const many = await Promise.all(Array.from({ length: 40 }, (_, i) => createCa(`cache-${i}`, 10)));
  for (const ca of many) assert.ok(issuedBy(signCsr(ca, csr, req), ca.certPem));
  assert.ok(issuedBy(signCsr(caA, csr, req), caA.certPem), 'an evicted CA is loaded again');
});

test('leaves signed from kept parts: each has its own request\'s names, serial, key and issuer', async () => {
  requireTool('openssl', 'openssl');
  const [caA, caB] = await Promise.all([createCa('parts-a', 10), createCa('parts-b', 10)]);
  const csrFor = async () => parseCsr((await createCsr('x')).csrPem);
  const one = { cn: 'system:node:n1', orgs: ['system:nodes'], dnsNames: ['n1'], ips: ['127.0.0.5'], usages: ['server' as const], days: 1 };
  const [k1, k2, k3, k4, k5] = await Promise.all([csrFor(), csrFor(), csrFor(), csrFor(), csrFor()]);
  const certs = {
    first: signCsr(caA, k1, one),
    again: signCsr(caA, k2, one), // the same request: its parts are kept from the first
    other: signCsr(caA, k3, { ...one, cn: 'system:node:n2', dnsNames: ['n2'], ips: ['127.0.0.6'] }),
    // Names that would run together if the kept parts were found by joined text.
    joined: signCsr(caA, k4, { ...one, dnsNames: ['n1', 'x'], ips: ['127.0.0.5'] }),
    otherCa: signCsr(caB, k5, one),
  };
  const text = (pem: string) => execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem }).toString();
  const sans = (pem: string) => /X509v3 Subject Alternative Name:\s+([^\n]+)/.exec(text(pem))?.[1]?.trim();
  assert.is(sans(certs.first), 'DNS:n1, IP Address:127.0.0.5');
  assert.is(sans(certs.again), 'DNS:n1, IP Address:127.0.0.5');
  assert.is(sans(certs.other), 'DNS:n2, IP Address:127.0.0.6');
  assert.is(sans(certs.joined), 'DNS:n1, DNS:x, IP Address:127.0.0.5');
  assert.is(certInfo(certs.other).subjectCN, 'system:node:n2');
  assert.is.not(certInfo(certs.first).serial, certInfo(certs.again).serial);
  assert.is(certInfo(certs.first).keyId, k1.keyId);
  assert.is(certInfo(certs.again).keyId, k2.keyId);
  assert.is(certInfo(certs.otherCa).issuerCN, 'parts-b');
  const verify = (ca: string, leaf: string) => {
    writeFileSync(join(dir, 'parts-ca.crt'), ca);
    writeFileSync(join(dir, 'parts-leaf.crt'), leaf);
    try {
      execFileSync('openssl', ['verify', '-CAfile', join(dir, 'parts-ca.crt'), join(dir, 'parts-leaf.crt')], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  };
  for (const name of ['first', 'again', 'other', 'joined'] as const) assert.ok(verify(caA.certPem, certs[name]), name);
  assert.ok(verify(caB.certPem, certs.otherCa));
  assert.not.ok(verify(caA.certPem, certs.otherCa), 'a leaf of CA B does not verify under CA A');
});

test.run();
