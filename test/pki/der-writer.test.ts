// The DER writer (shared/pki/der.ts) byte for byte: it writes each element once into a buffer
// of its exact size, so every length form, the INTEGER sign padding, both time types and the
// PEM line breaks are pinned here, and a certificate it writes is read back by OpenSSL.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import * as der from '../../shared/pki/der.ts';
import { createCa, createCsr, readCsr, signCsrRequest } from '../../shared/pki/x509.ts';

const hex = (b: Buffer) => b.toString('hex');

test('lengths: short form below 128, then one, two and three length octets', () => {
  for (const [len, header] of [
    [0, '3000'],
    [127, '307f'],
    [128, '308180'],
    [255, '3081ff'],
    [256, '30820100'],
    [65_535, '3082ffff'],
    [65_536, '3083010000'],
  ] as const) {
    const out = der.seq(Buffer.alloc(len, 0xab));
    assert.is(hex(out.subarray(0, header.length / 2)), header, `length ${len}`);
    assert.is(out.length, header.length / 2 + len);
    assert.ok(out.subarray(header.length / 2).every((b) => b === 0xab), `content of ${len} copied`);
    // And the reader agrees.
    assert.is(der.parse(out).content.length, len);
  }
});

test('tlv concatenates several parts in order', () => {
  assert.is(hex(der.tlv(0xa3, Buffer.from([1, 2]), Buffer.alloc(0), Buffer.from([3]))), 'a303010203');
});

test('INTEGER: minimal, with a zero octet before a high bit, and from numbers', () => {
  assert.is(hex(der.uint(Buffer.from([0, 0, 0x7f]))), '02017f');
  assert.is(hex(der.uint(Buffer.from([0x80]))), '02020080');
  assert.is(hex(der.uint(Buffer.from([0, 0x80, 1]))), '0203008001');
  assert.is(hex(der.uint(Buffer.from([0]))), '020100');
  assert.is(hex(der.uint(0)), '020100');
  assert.is(hex(der.uint(2)), '020102');
  assert.is(hex(der.uint(65_537)), '0203010001');
});

test('strings, BIT STRINGs, BOOLEAN, NULL, OIDs', () => {
  assert.is(hex(der.utf8('ä')), '0c02c3a4');
  assert.is(hex(der.printable('DE')), '13024445');
  assert.is(hex(der.ascii(der.contextTag(2, false), 'a.b')), '8203612e62');
  assert.is(hex(der.bits(Buffer.from([0xff, 1]))), '030300ff01');
  assert.is(hex(der.namedBits([0, 5, 6])), '03020186');
  assert.is(hex(der.bool(true)), '0101ff');
  assert.is(hex(der.bool(false)), '010100');
  assert.is(hex(der.nul()), '0500');
  assert.is(hex(der.oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
});

test('times: UTCTime through 2049, GeneralizedTime from 2050, whole seconds in UTC', () => {
  assert.is(der.time(new Date('2026-03-04T05:06:07.890Z')).toString('latin1'), '\x17\x0d260304050607Z');
  assert.is(der.time(new Date('2049-12-31T23:59:59.999Z')).toString('latin1'), '\x17\x0d491231235959Z');
  assert.is(der.time(new Date('2050-01-01T00:00:00Z')).toString('latin1'), '\x18\x0f20500101000000Z');
  assert.throws(() => der.time(new Date('1949-12-31T00:00:00Z')), /outside/);
});

test('PEM: 64 characters a line, a last short line, and back', () => {
  for (const n of [1, 47, 48, 49, 96, 500]) {
    const body = Buffer.from(Array.from({ length: n }, (_, i) => i % 256));
    const pem = der.toPem('X', body);
    const lines = pem.split('\n');
    assert.is(lines[0], '-----BEGIN X-----');
    assert.is(lines.at(-2), '-----END X-----');
    assert.is(lines.at(-1), '');
    const b64 = lines.slice(1, -2);
    assert.ok(b64.every((l, i) => (i < b64.length - 1 ? l.length === 64 : l.length > 0 && l.length <= 64)), `${n} bytes: ${JSON.stringify(b64)}`);
    assert.is(b64.join(''), body.toString('base64'));
    assert.equal(der.fromPem('X', pem), body);
    assert.equal(der.fromPem('X', pem.replace(/\n/g, '\r\n')), body, 'CRLF line breaks');
  }
  assert.throws(() => der.fromPem('Y', der.toPem('X', Buffer.from([1]))), /no "Y" PEM block/);
});

test('a leaf it writes is what OpenSSL reads: issuer, subject, SANs, usages, validity, signature', async () => {
  const ca = await createCa('test-ca', 10);
  const csr = readCsr((await createCsr('ignored', undefined, {})).csrPem);
  const now = new Date('2030-06-01T12:00:00Z');
  const leaf = signCsrRequest(ca, csr, { cn: 'system:node:n1', orgs: ['system:nodes', 'o2'], dnsNames: ['n1', 'n1.example'], ips: ['127.0.0.3', 'fd00::1'], usages: ['server', 'client'], days: 0, ttlMs: 86_400_000 }, now);
  const c = new X509Certificate(leaf.certPem);
  const caCert = new X509Certificate(ca.certPem);
  assert.ok(c.verify(caCert.publicKey) && c.checkIssued(caCert));
  assert.is(c.subject, 'CN=system:node:n1\nO=system:nodes\nO=o2');
  assert.is(c.subjectAltName, 'DNS:n1, DNS:n1.example, IP Address:127.0.0.3, IP Address:FD00:0:0:0:0:0:0:1');
  assert.equal(c.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.is(c.ca, false);
  assert.is(new Date(c.validTo).getTime(), now.getTime() + 86_400_000);
  assert.is(leaf.notAfter.getTime(), now.getTime() + 86_400_000);
  assert.is(c.serialNumber.toLowerCase(), leaf.serial);
  // Serials are drawn from a pooled block: each is distinct, positive, 16 bytes.
  const serials = new Set<string>();
  for (let i = 0; i < 600; i++) serials.add(signCsrRequest(ca, csr, { cn: 'x', usages: ['client'], days: 1 }, now).serial);
  assert.is(serials.size, 600);
  assert.ok([...serials].every((s) => /^[4-7][0-9a-f]{31}$/.test(s)), [...serials].find((s) => !/^[4-7][0-9a-f]{31}$/.test(s)));
});

test.run();
