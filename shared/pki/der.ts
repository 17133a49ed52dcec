// DER (X.690 distinguished encoding) for the few ASN.1 shapes muster writes and reads:
// certificates, CSRs, names and extensions. Writing is tag-length-value concatenation; reading
// walks a buffer with bounds checks and refuses indefinite lengths and trailing bytes.
// Everything that signs or verifies stays in node:crypto (OpenSSL).

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tags: `[n]` constructed (EXPLICIT or IMPLICIT over a constructed type) or primitive. */
export const contextTag = (n: number, constructed: boolean): number => 0x80 | (constructed ? 0x20 : 0) | n;

// ---- writing -------------------------------------------------------------------------------

function bigEndian(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from(bytes.length ? bytes : [0]);
}

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = bigEndian(n);
  return Buffer.concat([Buffer.from([0x80 | bytes.length]), bytes]);
}

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = content.length === 1 ? content[0]! : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(TAG.SEQUENCE, ...items);
export const set = (...items: Buffer[]): Buffer => tlv(TAG.SET, ...items);
export const octets = (b: Buffer): Buffer => tlv(TAG.OCTET_STRING, b);
export const utf8 = (s: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
export const bool = (v: boolean): Buffer => tlv(TAG.BOOLEAN, Buffer.from([v ? 0xff : 0]));
/** NULL: the parameters of RSA signature algorithm identifiers (RFC 4055 section 5). */
export const nul = (): Buffer => Buffer.from([TAG.NULL, 0]);
/** PrintableString: RFC 5280 wants countryName as one (two letters). */
export const printable = (s: string): Buffer => tlv(TAG.PRINTABLE_STRING, Buffer.from(s, 'latin1'));

/** A non-negative INTEGER from big-endian bytes, minimally encoded. */
export function uint(value: Buffer | number): Buffer {
  let b = typeof value === 'number' ? bigEndian(value) : value;
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(TAG.INTEGER, b);
}

/** BIT STRING holding whole bytes (keys, signatures). */
export const bits = (b: Buffer): Buffer => tlv(TAG.BIT_STRING, Buffer.from([0]), b);

/**
 * A named-bit-list BIT STRING (keyUsage): bit 0 is the first byte's most significant bit, and
 * DER drops trailing zero bits.
 */
export function namedBits(bitNumbers: number[]): Buffer {
  const top = Math.max(...bitNumbers);
  const bytes = Buffer.alloc(Math.floor(top / 8) + 1);
  for (const n of bitNumbers) bytes[Math.floor(n / 8)]! |= 0x80 >> n % 8;
  const unused = 7 - (top % 8);
  return tlv(TAG.BIT_STRING, Buffer.from([unused]), bytes);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, both in UTC to the second. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-11-22T08:00:00.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = d.getUTCFullYear();
  return year < 2050 ? tlv(TAG.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'ascii')) : tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'ascii'));
}

// ---- reading -------------------------------------------------------------------------------

export interface Node {
  tag: number;
  /** The whole element, header included (what a signature covers). */
  raw: Buffer;
  /** The content octets. */
  content: Buffer;
}

export class DerError extends Error {}

/** Reads one element at `offset`; returns it and the offset after it. */
export function read(buf: Buffer, offset = 0): { node: Node; next: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated: no room for a tag and a length');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used here');
  let len = buf[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not DER');
    if (n > 4 || p + n > buf.length) throw new DerError('length field too long or truncated');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > buf.length) throw new DerError(`truncated: element of ${len} bytes, ${buf.length - p} left`);
  return { node: { tag, raw: buf.subarray(offset, p + len), content: buf.subarray(p, p + len) }, next: p + len };
}

/** Parses exactly one element filling `buf`. */
export function parse(buf: Buffer): Node {
  const { node, next } = read(buf, 0);
  if (next !== buf.length) throw new DerError(`${buf.length - next} bytes after the end of the structure`);
  return node;
}

/** The elements inside a constructed element. */
export function children(node: Node): Node[] {
  const out: Node[] = [];
  for (let p = 0; p < node.content.length; ) {
    const r = read(node.content, p);
    out.push(r.node);
    p = r.next;
  }
  return out;
}

export function expect(node: Node | undefined, tag: number, what: string): Node {
  if (!node) throw new DerError(`${what} is missing`);
  if (node.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
  return node;
}

export function readOid(node: Node): string {
  const b = node.content;
  if (!b.length) throw new DerError('empty OBJECT IDENTIFIER');
  const out = [Math.min(2, Math.floor(b[0]! / 40)), b[0]! - 40 * Math.min(2, Math.floor(b[0]! / 40))];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      out.push(v);
      v = 0;
    }
  }
  return out.join('.');
}

/** The text of a directory string (UTF8String, PrintableString, IA5String, T61String, BMPString). */
export function readString(node: Node): string {
  switch (node.tag) {
    case TAG.UTF8_STRING:
      return node.content.toString('utf8');
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.T61_STRING:
      return node.content.toString('latin1');
    case TAG.BMP_STRING:
      return Buffer.from(node.content).swap16().toString('utf16le');
    default:
      throw new DerError(`tag 0x${node.tag.toString(16)} is not a string`);
  }
}

/** BIT STRING content as whole bytes (unused-bits octet must be 0). */
export function readBits(node: Node): Buffer {
  expect(node, TAG.BIT_STRING, 'BIT STRING');
  if (node.content[0] !== 0) throw new DerError('BIT STRING with unused bits where whole bytes are expected');
  return node.content.subarray(1);
}

// ---- PEM -----------------------------------------------------------------------------------

export function toPem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;
}

/** The DER inside the first PEM block with this label; throws naming the label when there is none. */
export function fromPem(label: string, pem: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  if (!m) throw new DerError(`no "${label}" PEM block`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}
