import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as der from '../../shared/pki/der.ts';

const hex = (b: Buffer) => b.toString('hex');

test('lengths: short form, one and two length bytes', () => {
  assert.is(hex(der.octets(Buffer.alloc(3))), '0403000000');
  assert.is(hex(der.octets(Buffer.alloc(200)).subarray(0, 3)), '0481c8');
  assert.is(hex(der.octets(Buffer.alloc(300)).subarray(0, 4)), '0482012c');
  const big = der.parse(der.octets(Buffer.alloc(300, 7)));
  assert.is(big.content.length, 300);
});

test('INTEGER is minimal and positive', () => {
  assert.is(hex(der.uint(0)), '020100');
  assert.is(hex(der.uint(2)), '020102');
  assert.is(hex(der.uint(128)), '02020080');
  assert.is(hex(der.uint(Buffer.from('00007f', 'hex'))), '02017f');
  assert.is(hex(der.uint(Buffer.from('ff', 'hex'))), '020200ff');
});

test('OBJECT IDENTIFIER round-trips, multi-byte arcs included', () => {
  for (const id of ['2.5.4.3', '1.2.840.10045.4.3.2', '1.3.6.1.5.5.7.3.1', '2.5.29.37', '1.3.6.1.4.1.311.21.7']) {
    assert.is(der.readOid(der.parse(der.oid(id))), id);
  }
  assert.is(hex(der.oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
});

test('keyUsage bits drop trailing zeros', () => {
  assert.is(hex(der.namedBits([0])), '03020780'); // digitalSignature
  assert.is(hex(der.namedBits([0, 5, 6])), '03020186'); // + keyCertSign, cRLSign
  assert.is(hex(der.namedBits([8])), '0303070080'); // decipherOnly: second byte
});

test('times: UTCTime through 2049, GeneralizedTime after', () => {
  assert.is(der.parse(der.time(new Date('2049-12-31T23:59:59Z'))).content.toString(), '491231235959Z');
  const g = der.parse(der.time(new Date('2050-01-01T00:00:00Z')));
  assert.is(g.tag, der.TAG.GENERALIZED_TIME);
  assert.is(g.content.toString(), '20500101000000Z');
});

test('reading refuses what is not DER, naming the fault', () => {
  assert.throws(() => der.parse(Buffer.from('3080', 'hex')), /indefinite/);
  assert.throws(() => der.parse(Buffer.from('300501', 'hex')), /truncated/);
  assert.throws(() => der.parse(Buffer.from('3000ff', 'hex')), /1 bytes after/);
  assert.throws(() => der.parse(Buffer.from('30', 'hex')), /truncated/);
  assert.throws(() => der.expect(der.parse(der.seq()), der.TAG.SET, 'names'), /names: expected tag 0x31, found 0x30/);
  assert.throws(() => der.fromPem('CERTIFICATE', 'hello'), /no "CERTIFICATE" PEM block/);
});

test('nested structures and strings read back', () => {
  const s = der.seq(der.set(der.utf8('zoë')), der.tlv(der.TAG.IA5_STRING, Buffer.from('a.example')), der.bool(true));
  const [set, ia5, b] = der.children(der.parse(s));
  assert.is(der.readString(der.children(set!)[0]!), 'zoë');
  assert.is(der.readString(ia5!), 'a.example');
  assert.is(hex(b!.raw), '0101ff');
  assert.is(der.fromPem('X', der.toPem('X', s)).equals(s), true);
});


test('read in place: children of children keep their own bytes; content values read exactly once', () => {
  const inner = der.seq(der.oid('2.5.4.3'), der.utf8('node-2'));
  const outer = der.seq(der.set(inner), der.octets(der.seq(der.bool(false))), der.bits(Buffer.from('abcd', 'hex')));
  const [set, octets, bits] = der.children(der.parse(outer));
  const [seq] = der.children(set!);
  assert.is(hex(seq!.raw), hex(inner));
  const [id, name] = der.children(seq!);
  assert.ok(der.isOid(id!, der.parse(der.oid('2.5.4.3')).content));
  assert.not.ok(der.isOid(id!, der.parse(der.oid('2.5.4.10')).content), 'another OID of the same length');
  assert.not.ok(der.isOid(id!, der.parse(der.oid('2.5.4.3.1')).content), 'a longer OID with the same start');
  assert.is(der.readString(name!), 'node-2');
  // An OCTET STRING holding one element is read inside it; a trailing byte is refused, not ignored.
  assert.is(hex(der.parseContent(octets!).raw), hex(der.seq(der.bool(false))));
  const padded = der.children(der.parse(der.seq(der.octets(Buffer.concat([der.seq(), Buffer.from([0])])))))[0]!;
  assert.throws(() => der.parseContent(padded), /1 bytes after/);
  // A child's length may not run past its parent, even when the buffer goes on.
  const lying = Buffer.from('3003' + '0405' + 'aa' + 'bbccddee', 'hex');
  assert.throws(() => der.children(der.read(lying).node), /truncated/);
  assert.is(hex(der.readBits(bits!)), 'abcd');
  // An empty BIT STRING has no unused-bits octet: refused, not read from the next element's bytes.
  const [emptyBits] = der.children(der.parse(Buffer.from('30040300' + '0000', 'hex')));
  assert.throws(() => der.readBits(emptyBits!), /unused bits/);
});

test('times are written digit by digit: edges of each field; an invalid date is refused by name', () => {
  const t = (iso: string) => der.parse(der.time(new Date(iso))).content.toString();
  assert.is(t('1950-01-01T00:00:00Z'), '500101000000Z');
  assert.is(t('2009-09-09T09:09:09.999Z'), '090909090909Z');
  assert.is(t('9999-12-31T23:59:59Z'), '99991231235959Z');
  assert.throws(() => der.time(new Date('1949-12-31T23:59:59Z')), /outside what a certificate can state/);
  assert.throws(() => der.time(new Date(Number.NaN)), /an invalid date is outside/);
});

test('OBJECT IDENTIFIERs in any spelling but DER\'s are refused, not read as the OID they pad', () => {
  const el = (h: string) => der.parse(Buffer.from(h, 'hex'));
  const cn = der.parse(der.oid('2.5.4.3')).content;
  for (const [h, why] of [
    ['06045504800' + '3', /padded arc/], // 2.5.4.3 with its last arc padded: 80 03
    ['0604805504' + '03', /padded arc/], // the first arc padded
    ['0603550483', /unfinished/], // a continuation byte at the end
    ['0600', /empty/],
    ['0c03550403', /expected an OBJECT IDENTIFIER/], // the bytes of 2.5.4.3 in a UTF8String
  ] as const) {
    assert.throws(() => der.isOid(el(h), cn), why, h);
    assert.throws(() => der.readOid(el(h)), why, h);
  }
  assert.ok(der.isOid(el('0603550403'), cn));
  assert.is(der.readOid(el('06032a8100')), '1.2.128', 'a continuation byte 0x81 then 0x00: 128, minimal');
});

test.run();
