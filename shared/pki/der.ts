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
// Every element is written once into a buffer of its exact size (allocUnsafe draws small ones
// from Node's pool): a certificate is about forty elements, and building each from three
// little Buffers and a concat cost more than the ECDSA signature over it (bench/issuance.ts).

function bigEndian(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from(bytes.length ? bytes : [0]);
}

/** Bytes of a tag and a definite length of `n` content octets. */
function headerSize(n: number): number {
  return n < 0x80 ? 2 : n < 0x100 ? 3 : n < 0x10000 ? 4 : n < 0x1000000 ? 5 : 6;
}

/** An element of `len` content octets with its header written; the caller fills the content from the returned offset. */
function element(tag: number, len: number): { out: Buffer; at: number } {
  const at = headerSize(len);
  const out = Buffer.allocUnsafe(at + len);
  out[0] = tag;
  if (at === 2) out[1] = len;
  else {
    const n = at - 2;
    out[1] = 0x80 | n;
    for (let i = 0; i < n; i++) out[2 + i] = (len >>> (8 * (n - 1 - i))) & 0xff;
  }
  return { out, at };
}

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  let len = 0;
  for (const c of content) len += c.length;
  const { out, at } = element(tag, len);
  let p = at;
  for (const c of content) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

export const seq = (...items: Buffer[]): Buffer => tlv(TAG.SEQUENCE, ...items);
export const set = (...items: Buffer[]): Buffer => tlv(TAG.SET, ...items);
export const octets = (b: Buffer): Buffer => tlv(TAG.OCTET_STRING, b);

/** An element whose content is `s` in `encoding`, written in place. */
function text(tag: number, s: string, encoding: 'utf8' | 'latin1' | 'ascii'): Buffer {
  const len = encoding === 'utf8' ? Buffer.byteLength(s, 'utf8') : s.length;
  const { out, at } = element(tag, len);
  out.write(s, at, len, encoding);
  return out;
}

export const utf8 = (s: string): Buffer => text(TAG.UTF8_STRING, s, 'utf8');
/** A primitive element holding ASCII text (dNSName SANs, times). */
export const ascii = (tag: number, s: string): Buffer => text(tag, s, 'latin1');
export const bool = (v: boolean): Buffer => Buffer.from([TAG.BOOLEAN, 1, v ? 0xff : 0]);
/** NULL: the parameters of RSA signature algorithm identifiers (RFC 4055 section 5). */
export const nul = (): Buffer => Buffer.from([TAG.NULL, 0]);
/** PrintableString: RFC 5280 wants countryName as one (two letters). */
export const printable = (s: string): Buffer => text(TAG.PRINTABLE_STRING, s, 'latin1');

/** A non-negative INTEGER from big-endian bytes, minimally encoded. */
export function uint(value: Buffer | number): Buffer {
  const b = typeof value === 'number' ? bigEndian(value) : value;
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const pad = b[i]! & 0x80 ? 1 : 0;
  const { out, at } = element(TAG.INTEGER, pad + b.length - i);
  if (pad) out[at] = 0;
  out.set(b.subarray(i), at + pad);
  return out;
}

/** BIT STRING holding whole bytes (keys, signatures). */
export function bits(b: Buffer): Buffer {
  const { out, at } = element(TAG.BIT_STRING, 1 + b.length);
  out[at] = 0;
  out.set(b, at + 1);
  return out;
}

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

/** Writes `n` as two decimal digits at `at`. */
function digits2(out: Buffer, at: number, n: number): void {
  out[at] = 0x30 + Math.floor(n / 10);
  out[at + 1] = 0x30 + (n % 10);
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, both in UTC to the second. */
export function time(d: Date): Buffer {
  const year = d.getUTCFullYear();
  if (!(year >= 1950 && year <= 9999)) throw new RangeError(`${Number.isNaN(year) ? 'an invalid date' : d.toISOString()} is outside what a certificate can state (1950-9999)`);
  // YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ, digit by digit: a certificate has two, every issuance.
  const utc = year < 2050;
  const { out, at } = element(utc ? TAG.UTC_TIME : TAG.GENERALIZED_TIME, utc ? 13 : 15);
  let p = at;
  if (!utc) {
    digits2(out, p, Math.floor(year / 100));
    p += 2;
  }
  for (const n of [year % 100, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]) {
    digits2(out, p, n);
    p += 2;
  }
  out[p] = 0x5a; // Z
  return out;
}

// ---- reading -------------------------------------------------------------------------------

/**
 * An element read from a buffer: its tag and where it lies. `raw` and `content` are views made
 * when asked for -- a CSR is about forty elements, and two views each was a tenth of reading one.
 */
export class Node {
  readonly tag: number;
  /** The buffer the element lies in. */
  readonly buf: Buffer;
  /** Offset of its tag, of its content, and just past its end. */
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;

  constructor(tag: number, buf: Buffer, start: number, contentStart: number, end: number) {
    this.tag = tag;
    this.buf = buf;
    this.start = start;
    this.contentStart = contentStart;
    this.end = end;
  }

  /** The whole element, header included (what a signature covers). */
  get raw(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }

  /** The content octets. */
  get content(): Buffer {
    return this.buf.subarray(this.contentStart, this.end);
  }
}

export class DerError extends Error {}

/** Reads one element at `offset`, ending by `limit`. */
function readAt(buf: Buffer, offset: number, limit: number): Node {
  if (offset + 2 > limit) throw new DerError('truncated: no room for a tag and a length');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used here');
  let len = buf[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not DER');
    if (n > 4 || p + n > limit) throw new DerError('length field too long or truncated');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > limit) throw new DerError(`truncated: element of ${len} bytes, ${limit - p} left`);
  return new Node(tag, buf, offset, p, p + len);
}

/** Reads one element at `offset`; returns it and the offset after it. */
export function read(buf: Buffer, offset = 0): { node: Node; next: number } {
  const node = readAt(buf, offset, buf.length);
  return { node, next: node.end };
}

/** The one element filling buf[start, end); bytes after it are refused. */
function readExactly(buf: Buffer, start: number, end: number): Node {
  const node = readAt(buf, start, end);
  if (node.end !== end) throw new DerError(`${end - node.end} bytes after the end of the structure`);
  return node;
}

/** Parses exactly one element filling `buf`. */
export function parse(buf: Buffer): Node {
  return readExactly(buf, 0, buf.length);
}

/** The elements inside a constructed element. */
export function children(node: Node): Node[] {
  const out: Node[] = [];
  for (let p = node.contentStart; p < node.end; ) {
    const c = readAt(node.buf, p, node.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

/** The one element a primitive's content holds (an extension's OCTET STRING value), read in place. */
export function parseContent(node: Node): Node {
  return readExactly(node.buf, node.contentStart, node.end);
}

export function expect(node: Node | undefined, tag: number, what: string): Node {
  if (!node) throw new DerError(`${what} is missing`);
  if (node.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
  return node;
}

/**
 * Throws unless the element is an OBJECT IDENTIFIER in DER's one encoding: not empty, no arc
 * padded with a leading 0x80, the last arc finished. A lenient reader would take a padded OID for
 * the one it pads while a byte comparison would not, and the two would disagree on what a CSR asks.
 */
function checkOid(node: Node): void {
  if (node.tag !== TAG.OID) throw new DerError(`expected an OBJECT IDENTIFIER, found tag 0x${node.tag.toString(16)}`);
  const b = node.buf;
  if (node.end === node.contentStart) throw new DerError('empty OBJECT IDENTIFIER');
  if (b[node.end - 1]! & 0x80) throw new DerError('an OBJECT IDENTIFIER whose last arc is unfinished');
  for (let i = node.contentStart; i < node.end; i++) {
    const arcStart = i === node.contentStart || !(b[i - 1]! & 0x80);
    if (arcStart && b[i] === 0x80) throw new DerError('an OBJECT IDENTIFIER with a padded arc (not DER)');
  }
}

export function readOid(node: Node): string {
  checkOid(node);
  const b = node.buf;
  const start = node.contentStart;
  const first = Math.min(2, Math.floor(b[start]! / 40));
  let out = `${first}.${b[start]! - 40 * first}`;
  let v = 0;
  for (let i = start + 1; i < node.end; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      out += `.${v}`;
      v = 0;
    }
  }
  return out;
}

/**
 * Whether an OBJECT IDENTIFIER element's content is `oidContent` (an oid()'s bytes after its
 * header). Throws when the element is not a DER OBJECT IDENTIFIER (checkOid), so a padded
 * spelling of an OID is refused, never taken for a different one.
 */
export function isOid(node: Node, oidContent: Buffer): boolean {
  checkOid(node);
  const n = node.end - node.contentStart;
  if (n !== oidContent.length) return false;
  for (let i = 0; i < n; i++) if (node.buf[node.contentStart + i] !== oidContent[i]) return false;
  return true;
}

/** The text of a directory string (UTF8String, PrintableString, IA5String, T61String, BMPString). */
export function readString(node: Node): string {
  switch (node.tag) {
    case TAG.UTF8_STRING:
      return node.buf.toString('utf8', node.contentStart, node.end);
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.T61_STRING:
      return node.buf.toString('latin1', node.contentStart, node.end);
    case TAG.BMP_STRING:
      return Buffer.from(node.content).swap16().toString('utf16le');
    default:
      throw new DerError(`tag 0x${node.tag.toString(16)} is not a string`);
  }
}

/** BIT STRING content as whole bytes (unused-bits octet must be 0). */
export function readBits(node: Node): Buffer {
  expect(node, TAG.BIT_STRING, 'BIT STRING');
  if (node.buf[node.contentStart] !== 0 || node.end === node.contentStart) throw new DerError('BIT STRING with unused bits where whole bytes are expected');
  return node.buf.subarray(node.contentStart + 1, node.end);
}

// ---- PEM -----------------------------------------------------------------------------------

export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64');
  let body = b64 ? '' : '\n';
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/** The DER inside the first PEM block with this label; throws naming the label when there is none. */
const pemBlocks = new Map<string, RegExp>();

export function fromPem(label: string, pem: string): Buffer {
  let re = pemBlocks.get(label);
  if (!re) pemBlocks.set(label, (re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`)));
  const m = re.exec(pem);
  if (!m) throw new DerError(`no "${label}" PEM block`);
  // Node's base64 decoder skips the line breaks (the pattern admits nothing else but whitespace).
  return Buffer.from(m[1]!, 'base64');
}
