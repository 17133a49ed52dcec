// Certificates and keys: ECDSA P-256 over Node's WebCrypto, X.509 structures by @peculiar/x509.
// (node-forge would do RSA only, and signs in JavaScript at ~42 ms a certificate here against
// ~0.04 ms for a native ECDSA signature; see README "Dependencies".)
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, createPublicKey, createHash, X509Certificate, randomBytes } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600_000;

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface CertAndKey {
  certPem: string;
  keyPem: string;
}

type KeyPair = { publicKey: webcrypto.CryptoKey; privateKey: webcrypto.CryptoKey };
type CryptoKey = webcrypto.CryptoKey;

async function generateKeys(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
}

async function exportPrivate(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
}

async function importPrivate(pem: string): Promise<CryptoKey> {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), ALG, false, ['sign']) as Promise<CryptoKey>;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  return b.toString('hex');
}

/** Escape a value for an RFC 4514 distinguished name string. */
function dnValue(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1');
}

export function distinguishedName(cn: string, orgs: string[] = []): string {
  return [`CN=${dnValue(cn)}`, ...orgs.map((o) => `O=${dnValue(o)}`)].join(', ');
}

export async function createCa(cn: string, days: number, now = new Date()): Promise<CertAndKey> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: distinguishedName(cn),
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPrivate(keys.privateKey) };
}

export interface LeafRequest {
  cn: string;
  orgs?: string[];
  /** DNS names and IP addresses for the subjectAltName extension. */
  dnsNames?: string[];
  ips?: string[];
  usages: Array<'server' | 'client'>;
  days: number;
}

/** Creates a key pair and a certificate signed by the CA, for callers that hold the CA (coordinator). */
export async function issueLeaf(ca: CertAndKey, req: LeafRequest, now = new Date()): Promise<CertAndKey> {
  const keys = await generateKeys();
  const certPem = await signLeaf(ca, keys.publicKey, req, now);
  return { certPem, keyPem: await exportPrivate(keys.privateKey) };
}

/** Parsed CA and imported signing key, per CA: parsing and importing cost more than signing. */
const caCache = new Map<string, Promise<{ cert: x509.X509Certificate; key: CryptoKey; aki: x509.AuthorityKeyIdentifierExtension }>>();

function loadCa(ca: CertAndKey) {
  let c = caCache.get(ca.certPem);
  if (!c) {
    c = (async () => {
      const cert = new x509.X509Certificate(ca.certPem);
      return { cert, key: await importPrivate(ca.keyPem), aki: await x509.AuthorityKeyIdentifierExtension.create(cert, false) };
    })();
    caCache.set(ca.certPem, c);
  }
  return c;
}

async function signLeaf(ca: CertAndKey, publicKey: CryptoKey | x509.PublicKey, req: LeafRequest, now: Date): Promise<string> {
  const { cert: caCert, key: caKey, aki } = await loadCa(ca);
  const ekus: string[] = [];
  if (req.usages.includes('server')) ekus.push(x509.ExtendedKeyUsage.serverAuth);
  if (req.usages.includes('client')) ekus.push(x509.ExtendedKeyUsage.clientAuth);
  const sans = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(req.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const pub = publicKey instanceof x509.PublicKey ? await publicKey.export(ALG, ['verify']) : publicKey;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: distinguishedName(req.cn, req.orgs),
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + req.days * DAY_MS),
    signingKey: caKey,
    publicKey: pub,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(ekus, false),
      aki,
      ...(sans.length ? [new x509.SubjectAlternativeNameExtension(sans, false)] : []),
    ],
  });
  return cert.toString('pem') + '\n';
}

/** Node side: a fresh private key (stays on the node) and a CSR for it. */
export async function createCsr(cn: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = await generateKeys();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: distinguishedName(cn), keys, signingAlgorithm: ALG });
  return { keyPem: await exportPrivate(keys.privateKey), csrPem: csr.toString('pem') + '\n' };
}

export interface ParsedCsr {
  cn: string;
  publicKey: x509.PublicKey;
}

/** Parses and verifies a CSR's self-signature. Throws on garbage or a bad signature. */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  const csr = new x509.Pkcs10CertificateRequest(pem);
  if (!(await csr.verify())) throw new Error('the CSR signature does not verify');
  const alg = csr.publicKey.algorithm as { name: string; namedCurve?: string };
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') throw new Error(`the CSR key must be ECDSA P-256, not ${alg.name} ${alg.namedCurve ?? ''}`.trim());
  const cn = csr.subjectName.getField('CN')[0] ?? '';
  return { cn, publicKey: csr.publicKey };
}

/** Coordinator side: sign a verified CSR's public key. Subject and SANs come from the caller, never the CSR. */
export function signCsr(ca: CertAndKey, csr: ParsedCsr, req: LeafRequest, now = new Date()): Promise<string> {
  return signLeaf(ca, csr.publicKey, req, now);
}

/** CA pin as kubeadm prints it: sha256 over the DER SubjectPublicKeyInfo of the CA certificate. */
export function caPin(certPem: string): string {
  const spki = createPublicKey(certPem).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

export interface CertInfo {
  subjectCN: string;
  orgs: string[];
  serial: string;
  notAfter: Date;
  fingerprint256: string;
}

export function certInfo(certPem: string | Buffer): CertInfo {
  const c = new X509Certificate(certPem);
  const fields = parseSubject(c.subject);
  return {
    subjectCN: fields.CN?.[0] ?? '',
    orgs: fields.O ?? [],
    serial: c.serialNumber.toLowerCase().replace(/^0+/, ''),
    notAfter: new Date(c.validTo),
    fingerprint256: c.fingerprint256,
  };
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
