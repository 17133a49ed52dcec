// Certificates and keys: ECDSA P-256 keys, signatures and checks by node:crypto (OpenSSL); the
// certificate and CSR structures written as DER by ./der.ts. Certificates have one fixed shape
// (RFC 5280 v3, ecdsa-with-SHA256), so a few lines of DER replace an ASN.1 library: measured with
// bench/fleet.ts, that library cost the coordinator about 3 ms of CPU and most of its garbage per
// join (README "Dependencies"). One exception: a CA imported from kubeadm (`muster certs
// import-ca`) is RSA 2048, so a CA with an RSA key signs with sha256WithRSAEncryption; the keys
// muster makes, and every leaf key it certifies, stay ECDSA P-256.
import { backdateMs } from './lifetime.ts';
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomBytes, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { promisify } from 'node:util';
import * as der from './der.ts';
import { canonicalIp } from '../net/ip.ts';

const DAY_MS = 24 * 3600_000;

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  extensionRequest: '1.2.840.113549.1.9.14',
  commonName: '2.5.4.3',
  country: '2.5.4.6',
  locality: '2.5.4.7',
  state: '2.5.4.8',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** keyUsage bit numbers (RFC 5280 4.2.1.3). */
const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;
/** keyUsage bit names by number, as `openssl x509 -text` spells them (for reading CSRs). */
const KEY_USAGE_NAMES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;
export type KeyUsageName = (typeof KEY_USAGE_NAMES)[number];
/** Extended key usages muster signs, by OID. */
export const EKU_OIDS = { server: OID.serverAuth, client: OID.clientAuth } as const;

export interface CertAndKey {
  certPem: string;
  keyPem: string;
}

const newKeyPair = promisify(generateKeyPair);

async function generateKeys(): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return newKeyPair('ec', { namedCurve: 'P-256' });
}

function privatePem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** OIDs muster writes, DER-encoded once (encoding one costs about as much as the rest of its element). */
const OID_DER = Object.fromEntries(Object.entries(OID).map(([k, v]) => [k, der.oid(v)])) as Record<keyof typeof OID, Buffer>;
/** Content bytes of OIDs the CSR reader compares with (comparing bytes, not dotted text). */
const OID_BYTES = Object.fromEntries(Object.entries(OID_DER).map(([k, v]) => [k, der.parse(v).content])) as Record<keyof typeof OID, Buffer>;
const EC_PUBLIC_KEY = der.parse(der.oid('1.2.840.10045.2.1')).content;
const PRIME256V1 = der.parse(der.oid('1.2.840.10045.3.1.7')).content;

const SAN_DNS = der.contextTag(2, false);
const SAN_IP = der.contextTag(7, false);
const SAN_EMAIL = der.contextTag(1, false);
const SAN_URI = der.contextTag(6, false);

/** Random bytes drawn in blocks, each slice used once: one CSPRNG call per 256 serials instead of one each. */
let serialBlock = Buffer.alloc(0);
let serialAt = 0;

/** 16 random bytes, positive and minimally encoded (first byte 0x40..0x7f): RFC 5280 allows 20. */
function serial(): Buffer {
  if (serialAt + 16 > serialBlock.length) {
    serialBlock = randomBytes(4096);
    serialAt = 0;
  }
  const b = serialBlock.subarray(serialAt, (serialAt += 16));
  b[0] = (b[0]! & 0x3f) | 0x40;
  return b;
}

/** Subject location fields (the plan's cluster.certificates.location); empty ones are left out. */
export interface SubjectLocation {
  country?: string;
  state?: string;
  locality?: string;
}

function name(cn: string, orgs: readonly string[] = [], loc: SubjectLocation = {}): Buffer {
  const rdn = (type: Buffer, value: Buffer) => der.set(der.seq(type, value));
  return der.seq(
    ...(loc.country ? [rdn(OID_DER.country, der.printable(loc.country))] : []),
    ...(loc.state ? [rdn(OID_DER.state, der.utf8(loc.state))] : []),
    ...(loc.locality ? [rdn(OID_DER.locality, der.utf8(loc.locality))] : []),
    rdn(OID_DER.commonName, der.utf8(cn)),
    ...orgs.map((o) => rdn(OID_DER.organization, der.utf8(o))),
  );
}

/** "ECDSA P-256", "RSA 2048", "ed25519": how messages name a key's type. */
export function keyDescription(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') return `ECDSA ${d?.namedCurve === 'prime256v1' ? 'P-256' : d?.namedCurve === 'secp384r1' ? 'P-384' : (d?.namedCurve ?? '')}`.trim();
  if (key.asymmetricKeyType === 'rsa') return `RSA ${d?.modulusLength ?? ''}`.trim();
  return key.asymmetricKeyType ?? 'unknown';
}

/**
 * Whether muster can sign with this key: ECDSA P-256 (ecdsa-with-SHA256), or RSA 2048-8192
 * (sha256WithRSAEncryption, PKCS#1 v1.5, what kubeadm's CAs use). Returns why not, or null.
 */
export function unsupportedSigningKey(key: KeyObject): string | null {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec' && d?.namedCurve === 'prime256v1') return null;
  if (key.asymmetricKeyType === 'rsa' && (d?.modulusLength ?? 0) >= 2048 && (d?.modulusLength ?? 0) <= 8192) return null;
  return `${keyDescription(key)} keys are not supported for signing; use ECDSA P-256 or RSA 2048-8192`;
}

const SIG_ALG_RSA = der.seq(OID_DER.sha256WithRsa, der.nul());
const SIG_ALG_ECDSA = der.seq(OID_DER.ecdsaWithSha256);

/** The AlgorithmIdentifier a key signs with (RSA's carries NULL parameters, ECDSA's none). */
function signatureAlgorithm(key: KeyObject): Buffer {
  return key.asymmetricKeyType === 'rsa' ? SIG_ALG_RSA : SIG_ALG_ECDSA;
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyId(spkiDer: Buffer): Buffer {
  const [, subjectPublicKey] = der.children(der.parse(spkiDer));
  return createHash('sha1').update(der.readBits(subjectPublicKey!)).digest();
}

function extension(id: string | Buffer, critical: boolean, value: Buffer): Buffer {
  return der.seq(typeof id === 'string' ? der.oid(id) : id, ...(critical ? [der.bool(true)] : []), der.octets(value));
}

// What every leaf carries, encoded once.
const VERSION_V3 = der.tlv(der.contextTag(0, true), der.uint(2));
const LEAF_BASIC_CONSTRAINTS = extension(OID_DER.basicConstraints, true, der.seq());
const LEAF_KEY_USAGE = extension(OID_DER.keyUsage, true, der.namedBits([KEY_USAGE.digitalSignature]));
const LEAF_EKUS = {
  server: extension(OID_DER.extKeyUsage, false, der.seq(OID_DER.serverAuth)),
  client: extension(OID_DER.extKeyUsage, false, der.seq(OID_DER.clientAuth)),
  both: extension(OID_DER.extKeyUsage, false, der.seq(OID_DER.serverAuth, OID_DER.clientAuth)),
};

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new Error(`"${ip}" is not an IP address`);
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, v4.index)}${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

interface TbsFields {
  /** The signer's AlgorithmIdentifier (signatureAlgorithm). */
  alg: Buffer;
  serial: Buffer;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Buffer[];
}

function signCertificate(f: TbsFields, signer: KeyObject): string {
  const alg = f.alg;
  const tbs = der.seq(
    VERSION_V3,
    der.uint(f.serial),
    alg,
    f.issuer,
    der.seq(der.time(f.notBefore), der.time(f.notAfter)),
    f.subject,
    f.spki,
    der.tlv(der.contextTag(3, true), der.seq(...f.extensions)),
  );
  const cert = der.seq(tbs, alg, der.bits(sign('sha256', tbs, signer)));
  return der.toPem('CERTIFICATE', cert);
}

export interface CaOptions {
  /** Lifetime in ms instead of days (the cluster CAs take theirs from the plan's ca_expiry). */
  ttlMs?: number;
  location?: SubjectLocation;
}

export async function createCa(cn: string, days: number, now = new Date(), o: CaOptions = {}): Promise<CertAndKey> {
  const keys = await generateKeys();
  const subject = name(cn, [], o.location);
  const pub = spki(keys.publicKey);
  const certPem = signCertificate(
    {
      alg: signatureAlgorithm(keys.privateKey),
      serial: serial(),
      issuer: subject,
      subject,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + (o.ttlMs ?? days * DAY_MS)),
      spki: pub,
      extensions: [
        extension(OID.basicConstraints, true, der.seq(der.bool(true), der.uint(0))),
        extension(OID.keyUsage, true, der.namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
        extension(OID.subjectKeyIdentifier, false, der.octets(keyId(pub))),
      ],
    },
    keys.privateKey,
  );
  return { certPem, keyPem: privatePem(keys.privateKey) };
}

export interface LeafRequest {
  cn: string;
  orgs?: string[];
  /** DNS names and IP addresses for the subjectAltName extension. */
  dnsNames?: string[];
  ips?: string[];
  usages: Array<'server' | 'client'>;
  days: number;
  /** Lifetime in ms instead of days (tests of renewal use seconds). */
  ttlMs?: number;
}

/** Creates a key pair and a certificate signed by the CA, for callers that hold the CA (coordinator). */
export async function issueLeaf(ca: CertAndKey, req: LeafRequest, now = new Date()): Promise<CertAndKey> {
  const keys = await generateKeys();
  return { certPem: signLeaf(ca, keys.publicKey, req, now).certPem, keyPem: privatePem(keys.privateKey) };
}

interface LoadedCa {
  subject: Buffer;
  key: KeyObject;
  /** signatureAlgorithm(key). */
  alg: Buffer;
  /** alg followed by the CA's subject: the signature and issuer fields of a leaf's to-be-signed part, adjacent there. */
  algAndName: Buffer;
  /** The leaves' authorityKeyIdentifier extension: the CA's key id. */
  authorityKeyId: Buffer;
}

/**
 * Parsed CA and imported signing key, per CA: parsing and importing cost more than signing. A
 * process signs with a few CAs at a time (muster's own, the cluster's, one being rotated in):
 * the oldest entries go past CA_CACHE_MAX, so rotations over years (and tests making thousands
 * of CAs) do not grow it. An entry is used only with the key it was made from.
 */
const caCache = new Map<string, LoadedCa & { keyPem: string }>();
const CA_CACHE_MAX = 32;

function loadCa(ca: CertAndKey): LoadedCa {
  let c = caCache.get(ca.certPem);
  if (c && c.keyPem !== ca.keyPem) c = undefined;
  if (!c) {
    const cert = der.parse(der.fromPem('CERTIFICATE', ca.certPem));
    const tbs = der.children(der.children(cert)[0]!);
    const hasVersion = tbs[0]!.tag === der.contextTag(0, true);
    // version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
    const [, , , , , subject, spkiNode, ...rest] = hasVersion ? tbs : [undefined, ...tbs];
    // The issuer's key id as its own certificate states it (what verifiers match), else computed.
    let id: Buffer | undefined;
    const exts = rest.find((n) => n?.tag === der.contextTag(3, true));
    for (const ext of exts ? der.children(der.children(exts)[0]!) : []) {
      const [extId, ...more] = der.children(ext);
      if (der.readOid(extId!) === OID.subjectKeyIdentifier) id = der.parse(more[more.length - 1]!.content).content;
    }
    const key = createPrivateKey(ca.keyPem);
    const authorityKeyId = extension(OID_DER.authorityKeyIdentifier, false, der.seq(der.tlv(der.contextTag(0, false), id ?? keyId(spkiNode!.raw))));
    const alg = signatureAlgorithm(key);
    c = { subject: subject!.raw, key, alg, algAndName: Buffer.concat([alg, subject!.raw]), authorityKeyId, keyPem: ca.keyPem };
    caCache.delete(ca.certPem);
    caCache.set(ca.certPem, c);
    while (caCache.size > CA_CACHE_MAX) caCache.delete(caCache.keys().next().value!);
  }
  return c;
}

/** A signed leaf with what the signer knows of it (so callers need not parse it back). */
export interface SignedLeaf {
  certPem: string;
  /** Lower-case hex, as certInfo spells it. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

/** A leaf's to-be-signed fields that are the same each time a node renews a kind: subject and extensions. */
interface LeafParts {
  subject: Buffer;
  /** [3] { Extensions }, whole. */
  extensions: Buffer;
}

/**
 * LeafParts by CA and request, encoded once: a node renews the same kinds with the same names,
 * and encoding them anew was half the DER work of an issuance. Bounded: cleared when full.
 */
const leafParts = new WeakMap<LoadedCa, Map<string, LeafParts>>();
const LEAF_PARTS_MAX = 8192;

function partsOf(issuer: LoadedCa, req: LeafRequest): LeafParts {
  // JSON: no two requests share a key, whatever their names hold (a shared key would sign one request's names for another).
  const key = JSON.stringify([req.cn, req.orgs ?? [], req.dnsNames ?? [], req.ips ?? [], req.usages]);
  let byReq = leafParts.get(issuer);
  if (!byReq) leafParts.set(issuer, (byReq = new Map()));
  let p = byReq.get(key);
  if (!p) {
    const server = req.usages.includes('server');
    const client = req.usages.includes('client');
    const eku = server && client ? LEAF_EKUS.both : server ? LEAF_EKUS.server : client ? LEAF_EKUS.client : undefined;
    const sans = sanNames(req.dnsNames, req.ips);
    const extensions = [LEAF_BASIC_CONSTRAINTS, LEAF_KEY_USAGE, ...(eku ? [eku] : []), issuer.authorityKeyId, ...(sans.length ? [extension(OID_DER.subjectAltName, false, der.seq(...sans))] : [])];
    p = { subject: name(req.cn, req.orgs), extensions: der.tlv(der.contextTag(3, true), der.seq(...extensions)) };
    if (byReq.size >= LEAF_PARTS_MAX) byReq.clear();
    byReq.set(key, p);
  }
  return p;
}

function signLeaf(ca: CertAndKey, publicKey: KeyObject | Buffer, req: LeafRequest, now: Date): SignedLeaf {
  const issuer = loadCa(ca);
  const parts = partsOf(issuer, req);
  const sn = serial();
  // Back-dated for clocks a little behind ours (./lifetime.ts).
  const notBefore = new Date(now.getTime() - backdateMs(req.ttlMs ?? req.days * DAY_MS));
  const notAfter = new Date(now.getTime() + (req.ttlMs ?? req.days * DAY_MS));
  const tbs = der.seq(VERSION_V3, der.uint(sn), issuer.algAndName, der.seq(der.time(notBefore), der.time(notAfter)), parts.subject, Buffer.isBuffer(publicKey) ? publicKey : spki(publicKey), parts.extensions);
  const certPem = der.toPem('CERTIFICATE', der.seq(tbs, issuer.alg, der.bits(sign('sha256', tbs, issuer.key))));
  // Certificates carry whole seconds: report what a parser would read back.
  const second = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);
  return { certPem, serial: sn.toString('hex'), notBefore: second(notBefore), notAfter: second(notAfter) };
}

/** A fresh ECDSA P-256 private key, PEM (PKCS#8). */
export async function createKey(): Promise<string> {
  return privatePem((await generateKeys()).privateKey);
}

/** What a CSR may ask for besides its CN (the cluster certificates' agent states its whole request). */
export interface CsrOptions {
  orgs?: readonly string[];
  dnsNames?: readonly string[];
  ips?: readonly string[];
  /** Extended key usages to request; with any, keyUsage digitalSignature is requested too. */
  usages?: readonly ('server' | 'client')[];
}

/** GeneralNames of a subjectAltName: dNSName [2] and iPAddress [7] entries. */
function sanNames(dnsNames: readonly string[] = [], ips: readonly string[] = []): Buffer[] {
  return [...dnsNames.map((dns) => der.ascii(der.contextTag(2, false), dns)), ...ips.map((ip) => der.tlv(der.contextTag(7, false), ipBytes(ip)))];
}

function csrExtensionRequest(o: CsrOptions): Buffer[] {
  const exts: Buffer[] = [];
  const sans = sanNames(o.dnsNames, o.ips);
  if (sans.length) exts.push(extension(OID.subjectAltName, false, der.seq(...sans)));
  if (o.usages?.length) {
    exts.push(extension(OID.keyUsage, true, der.namedBits([KEY_USAGE.digitalSignature])));
    exts.push(extension(OID.extKeyUsage, false, der.seq(...o.usages.map((u) => der.oid(EKU_OIDS[u])))));
  }
  if (!exts.length) return [];
  // Attribute { extensionRequest, SET { Extensions } }
  return [der.seq(der.oid(OID.extensionRequest), der.set(der.seq(...exts)))];
}

/**
 * Node side: a CSR for `keyPem` (made here when not given). The key stays on the node; passing
 * one lets a retried join or a renewal send a request for a key the node already saved. An RSA
 * `keyPem` gives an RSA request (tests of the authoriser's refusal).
 */
export async function createCsr(cn: string, keyPem?: string, o: CsrOptions = {}): Promise<{ keyPem: string; csrPem: string }> {
  const privateKey = keyPem ? createPrivateKey(keyPem) : (await generateKeys()).privateKey;
  const info = der.seq(der.uint(0), name(cn, o.orgs), spki(createPublicKey(privateKey)), der.tlv(der.contextTag(0, true), ...csrExtensionRequest(o)));
  const csr = der.seq(info, signatureAlgorithm(privateKey), der.bits(sign('sha256', info, privateKey)));
  return { keyPem: keyPem ?? privatePem(privateKey), csrPem: der.toPem('CERTIFICATE REQUEST', csr) };
}

/** sha256 hex of a public key's DER SubjectPublicKeyInfo: names a key without showing it. */
export function publicKeyId(key: KeyObject | string): string {
  const k = typeof key === 'string' ? createPublicKey(key) : key;
  return createHash('sha256').update(spki(k.type === 'private' ? createPublicKey(k) : k)).digest('hex');
}

export interface ParsedCsr {
  cn: string;
  publicKey: KeyObject;
  /** publicKeyId of the request's key. */
  keyId: string;
  /**
   * The key's SubjectPublicKeyInfo, DER, in the canonical form OpenSSL exports (named curve,
   * uncompressed point): what signCsr puts into the certificate and what keyId hashes.
   */
  canonicalSpki?: Buffer;
}

/** Everything a CSR asks for, read but not judged (coordinator/pki/authorizer.ts judges). */
export interface CsrRequest extends ParsedCsr {
  orgs: string[];
  /** The request's SubjectPublicKeyInfo, DER, as it carried it. */
  spkiDer: Buffer;
  /** "ECDSA P-256", "RSA 2048"... (keyDescription), read from the DER for the common case. */
  keyType: string;
  /** Signature algorithm OID. */
  signatureAlgorithm: string;
  /** The self-signature verifies with the request's key under its algorithm. */
  signatureValid: boolean;
  /** From the extensionRequest attribute. IPs in canonical form. */
  dnsNames: string[];
  ips: string[];
  /** SANs of other types ("email:x", "URI:x", "otherName", ...). */
  otherSans: string[];
  keyUsages: KeyUsageName[];
  /** Extended key usage OIDs. */
  extKeyUsages: string[];
  /** basicConstraints cA = TRUE. */
  requestsCa: boolean;
  /** OIDs of requested extensions other than SAN, keyUsage, extKeyUsage, basicConstraints, subjectKeyIdentifier. */
  otherExtensions: string[];
}

/** DER length of a P-256 SubjectPublicKeyInfo with a named curve and an uncompressed point. */
const P256_SPKI_BYTES = 91;

/** SubjectPublicKeyInfo { { id-ecPublicKey, prime256v1 }, ... } read from DER (KeyObject's details cost ~50 us). */
function spkiIsP256(keyInfo: der.Node): boolean {
  const alg = der.children(der.children(keyInfo)[0]!);
  return alg.length === 2 && alg[0]!.tag === der.TAG.OID && alg[1]!.tag === der.TAG.OID && der.isOid(alg[0]!, EC_PUBLIC_KEY) && der.isOid(alg[1]!, PRIME256V1);
}

/** A CSR whose structure is not one (bad PEM, bad DER, missing fields). */
export class CsrFormatError extends Error {}

function ipText(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new der.DerError(`an iPAddress SAN of ${b.length} bytes`);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return canonicalIp(groups.join(':'));
}

function readExtensionRequest(attrs: der.Node | undefined, out: CsrRequest): void {
  for (const attr of attrs ? der.children(attrs) : []) {
    const [type, values] = der.children(der.expect(attr, der.TAG.SEQUENCE, 'CSR attribute'));
    if (!der.isOid(der.expect(type, der.TAG.OID, 'CSR attribute type'), OID_BYTES.extensionRequest)) continue;
    for (const exts of der.children(der.expect(values, der.TAG.SET, 'extensionRequest values'))) {
      for (const ext of der.children(der.expect(exts, der.TAG.SEQUENCE, 'Extensions'))) {
        const parts = der.children(der.expect(ext, der.TAG.SEQUENCE, 'Extension'));
        const idNode = der.expect(parts[0], der.TAG.OID, 'extension id');
        const valueOf = () => der.parseContent(der.expect(parts[parts.length - 1], der.TAG.OCTET_STRING, `extension ${der.readOid(idNode)} value`));
        if (der.isOid(idNode, OID_BYTES.subjectAltName)) {
          for (const gn of der.children(der.expect(valueOf(), der.TAG.SEQUENCE, 'subjectAltName'))) {
            if (gn.tag === SAN_DNS) out.dnsNames.push(gn.buf.toString('latin1', gn.contentStart, gn.end));
            else if (gn.tag === SAN_IP) out.ips.push(ipText(gn.content));
            else if (gn.tag === SAN_EMAIL) out.otherSans.push(`email:${gn.content.toString('latin1')}`);
            else if (gn.tag === SAN_URI) out.otherSans.push(`URI:${gn.content.toString('latin1')}`);
            else out.otherSans.push(`GeneralName [${gn.tag & 0x1f}]`);
          }
        } else if (der.isOid(idNode, OID_BYTES.keyUsage)) {
          const b = der.expect(valueOf(), der.TAG.BIT_STRING, 'keyUsage').content;
          for (let bit = 0; bit < (b.length - 1) * 8; bit++) {
            if (b[1 + Math.floor(bit / 8)]! & (0x80 >> bit % 8)) out.keyUsages.push(KEY_USAGE_NAMES[bit] ?? (`bit ${bit}` as KeyUsageName));
          }
        } else if (der.isOid(idNode, OID_BYTES.extKeyUsage)) {
          for (const o of der.children(der.expect(valueOf(), der.TAG.SEQUENCE, 'extKeyUsage'))) {
            const purpose = der.expect(o, der.TAG.OID, 'extKeyUsage purpose');
            out.extKeyUsages.push(der.isOid(purpose, OID_BYTES.serverAuth) ? OID.serverAuth : der.isOid(purpose, OID_BYTES.clientAuth) ? OID.clientAuth : der.readOid(purpose));
          }
        } else if (der.isOid(idNode, OID_BYTES.basicConstraints)) {
          const first = der.children(der.expect(valueOf(), der.TAG.SEQUENCE, 'basicConstraints'))[0];
          if (first?.tag === der.TAG.BOOLEAN) {
            if (first.end - first.contentStart !== 1) throw new der.DerError(`basicConstraints cA: a BOOLEAN of ${first.end - first.contentStart} bytes`);
            out.requestsCa = first.buf[first.contentStart] !== 0;
          }
        } else {
          valueOf(); // well formed, whatever it is
          if (!der.isOid(idNode, OID_BYTES.subjectKeyIdentifier)) out.otherExtensions.push(der.readOid(idNode));
        }
      }
    }
  }
}

/** A read CSR and what checking its self-signature takes. */
interface ReadCsr {
  out: CsrRequest;
  /** The request's public key as PEM, for verify() (which imports it more cheaply than a KeyObject is made). */
  key: string;
  /** The signed part (certificationRequestInfo), the signature, and whether the algorithm fits the key. */
  info: Buffer;
  sig: Buffer;
  algFits: boolean;
}

/**
 * Reads a CSR: its subject, key, what its extensionRequest asks for, and whether its signature
 * verifies. Throws CsrFormatError when it is not a well-formed PKCS#10 request; judges nothing else.
 */
export function readCsr(pem: string): CsrRequest {
  const r = readCsrFields(pem);
  try {
    r.out.signatureValid = r.algFits && verify('sha256', r.info, r.key, r.sig);
  } catch {
    // a signature that is not even DER: same answer
  }
  return r.out;
}

/**
 * A CSR as read: a class rather than an object literal with getters, which V8 builds slowly (half
 * of readCsrFields' own time; ~3 us of a ~100 us read, 100.3 vs 103.7 us in an interleaved run).
 * The KeyObject and the key id are made only if asked for: making one for every request cost
 * 28 us, a sixth of an issuance (bench/issuance.ts).
 */
class RequestRead implements CsrRequest {
  cn = '';
  orgs: string[] = [];
  signatureValid = false;
  dnsNames: string[] = [];
  ips: string[] = [];
  otherSans: string[] = [];
  keyUsages: KeyUsageName[] = [];
  extKeyUsages: string[] = [];
  requestsCa = false;
  otherExtensions: string[] = [];
  readonly canonicalSpki: Buffer | undefined;
  readonly spkiDer: Buffer;
  readonly keyType: string;
  readonly signatureAlgorithm: string;
  #keyPem: string;
  #publicKey: KeyObject | undefined;
  #keyId: string | undefined;

  constructor(keyPem: string, publicKey: KeyObject | undefined, canonicalSpki: Buffer | undefined, spkiDer: Buffer, keyType: string, signatureAlgorithm: string) {
    this.#keyPem = keyPem;
    this.#publicKey = publicKey;
    this.canonicalSpki = canonicalSpki;
    this.spkiDer = spkiDer;
    this.keyType = keyType;
    this.signatureAlgorithm = signatureAlgorithm;
  }

  get publicKey(): KeyObject {
    return (this.#publicKey ??= createPublicKey(this.#keyPem));
  }

  // Lazy: hashing the re-exported key costs as much as a signature, and only joins need it.
  get keyId(): string {
    return (this.#keyId ??= this.canonicalSpki ? createHash('sha256').update(this.canonicalSpki).digest('hex') : publicKeyId(this.publicKey));
  }
}

function readCsrFields(pem: string): ReadCsr {
  let info: der.Node, sig: Buffer, out: CsrRequest, keyPem: string;
  try {
    const parts = der.children(der.expect(der.parse(der.fromPem('CERTIFICATE REQUEST', pem)), der.TAG.SEQUENCE, 'CSR'));
    info = der.expect(parts[0], der.TAG.SEQUENCE, 'CSR certificationRequestInfo');
    const sigAlg = der.expect(parts[1], der.TAG.SEQUENCE, 'CSR signatureAlgorithm');
    sig = der.readBits(der.expect(parts[2], der.TAG.BIT_STRING, 'CSR signature'));
    if (parts.length !== 3) throw new der.DerError(`a CSR has 3 parts, this one ${parts.length}`);
    const fields = der.children(info);
    const subject = der.expect(fields[1], der.TAG.SEQUENCE, 'CSR subject');
    const keyInfo = der.expect(fields[2], der.TAG.SEQUENCE, 'CSR subjectPublicKeyInfo');
    const attrs = fields[3] && der.expect(fields[3], der.contextTag(0, true), 'CSR attributes');
    // As PEM text, not { key, format: 'der' }: Node tells a key object from a KeyObject or a
    // CryptoKey by catching two exceptions, which doubled the cost of the import.
    keyPem = der.toPem('PUBLIC KEY', keyInfo.raw);
    const p256 = spkiIsP256(keyInfo);
    // A P-256 key is checked by OpenSSL when the signature is: verify() imports the PEM itself
    // (a key that does not import does not verify), and a KeyObject is made only if asked for
    // (RequestRead). Other keys are imported here, to be described ("RSA 2048") and refused by name.
    const publicKey = p256 ? undefined : createPublicKey(keyPem);
    // A P-256 key in the canonical encoding (named curve, uncompressed point: 91 bytes) is byte
    // for byte what OpenSSL's export gives, so it is hashed as it came; any other encoding of a
    // key is re-exported first, so one key has one id however the CSR spelled it.
    const canonical = p256 && keyInfo.raw.length === P256_SPKI_BYTES && der.readBits(der.children(keyInfo)[1]!)[0] === 0x04;
    out = new RequestRead(
      keyPem,
      publicKey,
      canonical ? keyInfo.raw : undefined,
      keyInfo.raw,
      p256 ? 'ECDSA P-256' : keyDescription(publicKey!),
      der.readOid(der.expect(der.children(sigAlg)[0], der.TAG.OID, 'CSR signature algorithm')),
    );
    for (const rdn of der.children(subject)) {
      for (const atv of der.children(rdn)) {
        const [type, value] = der.children(atv);
        if (!type || !value) continue;
        if (der.isOid(type, OID_BYTES.commonName)) {
          if (!out.cn) out.cn = der.readString(value);
        } else if (der.isOid(type, OID_BYTES.organization)) out.orgs.push(der.readString(value));
      }
    }
    readExtensionRequest(attrs, out);
  } catch (err) {
    throw new CsrFormatError(`not a PEM certificate request (CSR): ${(err as Error).message}`, { cause: err });
  }
  const ec = out.keyType.startsWith('ECDSA');
  const algFits = (out.signatureAlgorithm === OID.ecdsaWithSha256 && ec) || (out.signatureAlgorithm === OID.sha256WithRsa && out.keyType.startsWith('RSA'));
  return { out, key: keyPem, info: info.raw, sig, algFits };
}

/** Parses and verifies a CSR's self-signature. Throws on garbage or a bad signature. */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  const csr = readCsr(pem);
  if (csr.keyType !== 'ECDSA P-256') {
    const { publicKey } = csr;
    throw new Error(`the CSR key must be ECDSA P-256, not ${publicKey.asymmetricKeyType} ${publicKey.asymmetricKeyDetails?.namedCurve ?? ''}`.trim());
  }
  if (csr.signatureAlgorithm !== OID.ecdsaWithSha256) throw new Error(`the CSR must be signed with ecdsa-with-SHA256 (${OID.ecdsaWithSha256}), not ${csr.signatureAlgorithm}`);
  // Before the key is made: a P-256 key that does not import (a point off the curve) is a signature that does not verify.
  if (!csr.signatureValid) throw new Error('the CSR signature does not verify');
  return { cn: csr.cn, publicKey: csr.publicKey, keyId: csr.keyId, canonicalSpki: csr.canonicalSpki };
}

/**
 * Coordinator side: sign a verified CSR's public key. Subject and SANs come from the caller,
 * never the CSR. The serial and validity come back without parsing the certificate.
 */
export function signCsrLeaf(ca: CertAndKey, csr: ParsedCsr, req: LeafRequest, now = new Date()): SignedLeaf {
  return signLeaf(ca, csr.canonicalSpki ?? csr.publicKey, req, now);
}

export function signCsr(ca: CertAndKey, csr: ParsedCsr, req: LeafRequest, now = new Date()): string {
  return signCsrLeaf(ca, csr, req, now).certPem;
}

/**
 * signCsr for the cluster issuer's hot path: the request's SubjectPublicKeyInfo goes into the
 * certificate as the CSR carried it (OpenSSL parsed it, so it is a valid key; re-exporting it
 * cost a fifth of an issuance), and serial and validity come back without parsing the result.
 */
export function signCsrRequest(ca: CertAndKey, csr: CsrRequest, req: LeafRequest, now = new Date()): SignedLeaf {
  return signLeaf(ca, csr.spkiDer, req, now);
}

/** CA pin as kubeadm prints it: sha256 over the DER SubjectPublicKeyInfo of the CA certificate. */
export function caPin(certPem: string): string {
  const spkiDer = createPublicKey(certPem).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spkiDer).digest('hex')}`;
}

export interface CertInfo {
  subjectCN: string;
  orgs: string[];
  issuerCN: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
  /** publicKeyId of the certified key. */
  keyId: string;
}

export function certInfo(certPem: string | Buffer): CertInfo {
  const c = new X509Certificate(certPem);
  const fields = parseSubject(c.subject);
  return {
    subjectCN: fields.CN?.[0] ?? '',
    orgs: fields.O ?? [],
    issuerCN: parseSubject(c.issuer).CN?.[0] ?? '',
    serial: c.serialNumber.toLowerCase().replace(/^0+/, ''),
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
    fingerprint256: c.fingerprint256,
    keyId: publicKeyId(c.publicKey),
  };
}

/** Whether `certPem` was signed by the CA `caCertPem` (signature and issuer name). */
export function issuedBy(certPem: string, caCertPem: string): boolean {
  const c = new X509Certificate(certPem);
  const ca = new X509Certificate(caCertPem);
  return c.checkIssued(ca) && c.verify(ca.publicKey);
}

/**
 * When a certificate should be renewed: a random point between RENEW_WINDOW of its lifetime
 * (kubelet's rule), so nodes that joined together do not renew together.
 */
export function renewalTime(notBefore: Date, notAfter: Date, window: readonly [number, number], random: () => number = Math.random): number {
  const life = notAfter.getTime() - notBefore.getTime();
  const f = window[0] + (window[1] - window[0]) * random();
  return notBefore.getTime() + Math.floor(life * f);
}

function parseSubject(subject: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of subject.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    (out[line.slice(0, i)] ??= []).push(line.slice(i + 1));
  }
  return out;
}
