import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueLeaf, createCsr, parseCsr, signCsr, caPin, certInfo } from '../../shared/pki/x509.ts';
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
});

test.run();
