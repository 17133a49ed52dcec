// Certificates and keys: ECDSA P-256 keys, signatures and checks by node:crypto (OpenSSL); the
// certificate and CSR structures written as DER by ./der.ts. Certificates have one fixed shape
// (RFC 5280 v3, ecdsa-with-SHA256), so a few lines of DER replace an ASN.1 library: measured with
// bench/fleet.ts, that library cost the coordinator about 3 ms of CPU and most of its garbage per
// join (README "Dependencies").
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomBytes, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { promisify } from 'node:util';
import * as der from './der.ts';

const DAY_MS = 24 * 3600_000;

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
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

/** 16 random bytes, positive and minimally encoded (first byte 0x40..0x7f): RFC 5280 allows 20. */
function serial(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x3f) | 0x40;
  return b;
}

function name(cn: string, orgs: string[] = []): Buffer {
  const rdn = (type: string, value: string) => der.set(der.seq(der.oid(type), der.utf8(value)));
  return der.seq(rdn(OID.commonName, cn), ...orgs.map((o) => rdn(OID.organization, o)));
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyId(spkiDer: Buffer): Buffer {
  const [, subjectPublicKey] = der.children(der.parse(spkiDer));
  return createHash('sha1').update(der.readBits(subjectPublicKey!)).digest();
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return der.seq(der.oid(id), ...(critical ? [der.bool(true)] : []), der.octets(value));
}

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
  serial: Buffer;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Buffer[];
}

const SIGNATURE_ALGORITHM = der.seq(der.oid(OID.ecdsaWithSha256));

function signCertificate(f: TbsFields, signer: KeyObject): string {
  const tbs = der.seq(
    der.tlv(der.contextTag(0, true), der.uint(2)), // version v3
    der.uint(f.serial),
    SIGNATURE_ALGORITHM,
    f.issuer,
    der.seq(der.time(f.notBefore), der.time(f.notAfter)),
    f.subject,
    f.spki,
    der.tlv(der.contextTag(3, true), der.seq(...f.extensions)),
  );
  const cert = der.seq(tbs, SIGNATURE_ALGORITHM, der.bits(sign('sha256', tbs, signer)));
  return der.toPem('CERTIFICATE', cert);
}

export async function createCa(cn: string, days: number, now = new Date()): Promise<CertAndKey> {
  const keys = await generateKeys();
  const subject = name(cn);
  const pub = spki(keys.publicKey);
  const certPem = signCertificate(
    {
      serial: serial(),
      issuer: subject,
      subject,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + days * DAY_MS),
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
  return { certPem: signLeaf(ca, keys.publicKey, req, now), keyPem: privatePem(keys.privateKey) };
}

interface LoadedCa {
  subject: Buffer;
  keyId: Buffer;
  key: KeyObject;
}

/** Parsed CA and imported signing key, per CA: parsing and importing cost more than signing. */
const caCache = new Map<string, LoadedCa>();

function loadCa(ca: CertAndKey): LoadedCa {
  let c = caCache.get(ca.certPem);
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
    c = { subject: subject!.raw, keyId: id ?? keyId(spkiNode!.raw), key: createPrivateKey(ca.keyPem) };
    caCache.set(ca.certPem, c);
  }
  return c;
}

function signLeaf(ca: CertAndKey, publicKey: KeyObject, req: LeafRequest, now: Date): string {
  const issuer = loadCa(ca);
  const ekus = [...(req.usages.includes('server') ? [OID.serverAuth] : []), ...(req.usages.includes('client') ? [OID.clientAuth] : [])];
  const sans = [
    ...(req.dnsNames ?? []).map((dns) => der.tlv(der.contextTag(2, false), Buffer.from(dns, 'ascii'))),
    ...(req.ips ?? []).map((ip) => der.tlv(der.contextTag(7, false), ipBytes(ip))),
  ];
  return signCertificate(
    {
      serial: serial(),
      issuer: issuer.subject,
      subject: name(req.cn, req.orgs),
      // Back-dated for clocks a little behind ours; by a tenth at most of a short lifetime.
      notBefore: new Date(now.getTime() - Math.min(60_000, (req.ttlMs ?? req.days * DAY_MS) / 10)),
      notAfter: new Date(now.getTime() + (req.ttlMs ?? req.days * DAY_MS)),
      spki: spki(publicKey),
      extensions: [
        extension(OID.basicConstraints, true, der.seq()),
        extension(OID.keyUsage, true, der.namedBits([KEY_USAGE.digitalSignature])),
        ...(ekus.length ? [extension(OID.extKeyUsage, false, der.seq(...ekus.map(der.oid)))] : []),
        extension(OID.authorityKeyIdentifier, false, der.seq(der.tlv(der.contextTag(0, false), issuer.keyId))),
        ...(sans.length ? [extension(OID.subjectAltName, false, der.seq(...sans))] : []),
      ],
    },
    issuer.key,
  );
}

/** A fresh ECDSA P-256 private key, PEM (PKCS#8). */
export async function createKey(): Promise<string> {
  return privatePem((await generateKeys()).privateKey);
}

/**
 * Node side: a CSR for `keyPem` (made here when not given). The key stays on the node; passing
 * one lets a retried join or a renewal send a request for a key the node already saved.
 */
export async function createCsr(cn: string, keyPem?: string): Promise<{ keyPem: string; csrPem: string }> {
  const privateKey = keyPem ? createPrivateKey(keyPem) : (await generateKeys()).privateKey;
  const info = der.seq(der.uint(0), name(cn), spki(createPublicKey(privateKey)), der.tlv(der.contextTag(0, true)));
  const csr = der.seq(info, SIGNATURE_ALGORITHM, der.bits(sign('sha256', info, privateKey)));
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
}

/** Parses and verifies a CSR's self-signature. Throws on garbage or a bad signature. */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  let info: der.Node, sigAlg: der.Node, sig: Buffer, subject: der.Node, publicKey: KeyObject;
  try {
    const parts = der.children(der.expect(der.parse(der.fromPem('CERTIFICATE REQUEST', pem)), der.TAG.SEQUENCE, 'CSR'));
    info = der.expect(parts[0], der.TAG.SEQUENCE, 'CSR certificationRequestInfo');
    sigAlg = der.expect(parts[1], der.TAG.SEQUENCE, 'CSR signatureAlgorithm');
    sig = der.readBits(der.expect(parts[2], der.TAG.BIT_STRING, 'CSR signature'));
    const fields = der.children(info);
    subject = der.expect(fields[1], der.TAG.SEQUENCE, 'CSR subject');
    const keyInfo = der.expect(fields[2], der.TAG.SEQUENCE, 'CSR subjectPublicKeyInfo');
    publicKey = createPublicKey({ key: keyInfo.raw, format: 'der', type: 'spki' });
  } catch (err) {
    throw new Error(`not a PEM certificate request (CSR): ${(err as Error).message}`);
  }
  const curve = publicKey.asymmetricKeyDetails?.namedCurve;
  if (publicKey.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') throw new Error(`the CSR key must be ECDSA P-256, not ${publicKey.asymmetricKeyType} ${curve ?? ''}`.trim());
  const alg = der.readOid(der.children(sigAlg)[0]!);
  if (alg !== OID.ecdsaWithSha256) throw new Error(`the CSR must be signed with ecdsa-with-SHA256 (${OID.ecdsaWithSha256}), not ${alg}`);
  let valid = false;
  try {
    valid = verify('sha256', info.raw, publicKey, sig);
  } catch {
    // a signature that is not even DER: same answer
  }
  if (!valid) throw new Error('the CSR signature does not verify');
  let cn = '';
  for (const rdn of der.children(subject)) {
    for (const atv of der.children(rdn)) {
      const [type, value] = der.children(atv);
      if (!cn && type && value && der.readOid(type) === OID.commonName) cn = der.readString(value);
    }
  }
  return { cn, publicKey, keyId: publicKeyId(publicKey) };
}

/** Coordinator side: sign a verified CSR's public key. Subject and SANs come from the caller, never the CSR. */
export function signCsr(ca: CertAndKey, csr: ParsedCsr, req: LeafRequest, now = new Date()): string {
  return signLeaf(ca, csr.publicKey, req, now);
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
