// The coordinator's own PKI, kept in its data dir: three CAs for three trust domains (server,
// node, admin), the gRPC server certificate, and the admin client credentials with an admin
// config file (like kubeadm's admin.conf). Created on first start and reused afterwards; a
// start rewrites nothing that is still right (a full disk must not stop a restart). Keys 0600.
//
// Why three CAs: a certificate a node can obtain must never be able to pass for the
// coordinator. The server CA signs only the coordinator's serving certificate and is what the
// join command pins; nodes get client-only certificates from the node CA; admins theirs from the
// admin CA. Agents and admins trust only the server CA, so no node or admin certificate can serve.
import { readFile, mkdir } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { join, dirname } from 'node:path';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { existsSync } from 'node:fs';
import { createCa, issueLeaf, caPin, issuedBy, type CertAndKey } from '../../shared/pki/x509.ts';
import { writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import { splitHostPort } from '../../shared/net/host-port.ts';
import { canonicalIp } from '../../shared/net/ip.ts';
import { ADMIN_CN, ADMIN_ORG, CA_CNS, COORDINATOR_CN, COORDINATOR_DATA, COORDINATOR_ORG, IDENTITY_CA_DAYS, IDENTITY_CERT_DAYS } from '../../shared/constants.ts';
import { ConfigError } from '../../shared/errors/index.ts';
import { writeAdminConfig } from '../admin/config.ts';

export interface TrustDomains {
  /** Signs only the coordinator's serving certificate; its pin is in every join command. */
  serverCa: CertAndKey;
  /** Signs node identities (client auth only). */
  nodeCa: CertAndKey;
  /** Signs admin credentials (client auth only). */
  adminCa: CertAndKey;
}

export interface CoordinatorIdentity extends TrustDomains {
  server: CertAndKey;
  admin: CertAndKey;
  /** Pin of the server CA: what agents and admins check on first contact. */
  caPin: string;
  /** True when this start created the CAs (first start). */
  created: boolean;
  /** The coordinator's own names (its server certificate's SANs): no node may join under them. */
  names: { dns: string[]; ips: string[] };
}

export interface IdentityOptions {
  dataDir: string;
  /** host:port agents and admins use to reach this coordinator. */
  advertise: string;
  /** Extra DNS names / IPs for the server certificate. */
  extraSans?: string[];
  /** Lifetimes of the server and admin certificates (tests of renewal use seconds). @default 1 year */
  serverCertTtlMs?: number;
  adminCertTtlMs?: number;
  clock?: () => number;
  /** Records a new admin certificate durably before it is written (coordinator/trust/data-dir-admin.ts). */
  recordAdmin?: (admin: CertAndKey) => Promise<void>;
}

const YEAR_MS = IDENTITY_CERT_DAYS * 24 * 3600_000;

export async function ensureIdentity(o: IdentityOptions): Promise<CoordinatorIdentity> {
  const p = (rel: string) => join(o.dataDir, rel);
  const now = o.clock?.() ?? Date.now();
  if (existsSync(p(COORDINATOR_DATA.legacyCaCert)) && !existsSync(p(COORDINATOR_DATA.serverCaCert))) {
    throw new ConfigError(
      `data dir ${o.dataDir} was made by an earlier muster that used one CA for nodes and for the coordinator ` +
        '(a node could then pose as the coordinator); it cannot be upgraded in place: move it aside, start the coordinator with an empty --data-dir, and join the nodes again',
    );
  }
  await mkdir(dirname(p(COORDINATOR_DATA.serverCaCert)), { recursive: true, mode: 0o700 });
  let created = false;
  const ca = async (certRel: string, keyRel: string, cn: string): Promise<CertAndKey> => {
    const have = await readPair(p(certRel), p(keyRel));
    if (have) return have;
    const fresh = await createCa(cn, IDENTITY_CA_DAYS);
    // Key first: a certificate on disk always has its key.
    await writeFileAtomic(p(keyRel), fresh.keyPem, { mode: 0o600 });
    await writeFileAtomic(p(certRel), fresh.certPem, { mode: 0o644 });
    created = true;
    return fresh;
  };
  const serverCa = await ca(COORDINATOR_DATA.serverCaCert, COORDINATOR_DATA.serverCaKey, CA_CNS.server);
  const nodeCa = await ca(COORDINATOR_DATA.nodeCaCert, COORDINATOR_DATA.nodeCaKey, CA_CNS.node);
  const adminCa = await ca(COORDINATOR_DATA.adminCaCert, COORDINATOR_DATA.adminCaKey, CA_CNS.admin);

  const names = serverNames(o.advertise, o.extraSans ?? []);
  let server = await readPair(p(COORDINATOR_DATA.serverCert), p(COORDINATOR_DATA.serverKey));
  if (!server || !serverCertFits(server.certPem, serverCa.certPem, names, now)) {
    server = await issueServerCert(serverCa, names, o.serverCertTtlMs ?? YEAR_MS);
    await writePair(o.dataDir, 'server', server);
  }
  let admin = await readPair(p(COORDINATOR_DATA.adminCert), p(COORDINATOR_DATA.adminKey));
  if (!admin || !leafFits(admin.certPem, adminCa.certPem, now)) {
    admin = await issueAdminCert(adminCa, o.adminCertTtlMs ?? YEAR_MS);
    await o.recordAdmin?.(admin);
    await writePair(o.dataDir, 'admin', admin);
  }
  const pin = caPin(serverCa.certPem);
  // Unchanged bytes are skipped by the atomic write; the advertised address may have changed.
  await writeAdminConfigFor(o.dataDir, o.advertise, pin, serverCa, admin);
  return { serverCa, nodeCa, adminCa, server, admin, caPin: pin, created, names };
}

export function issueServerCert(serverCa: CertAndKey, names: { dns: string[]; ips: string[] }, ttlMs: number): Promise<CertAndKey> {
  return issueLeaf(serverCa, { cn: COORDINATOR_CN, orgs: [COORDINATOR_ORG], dnsNames: names.dns, ips: names.ips, usages: ['server'], days: 0, ttlMs });
}

export function issueAdminCert(adminCa: CertAndKey, ttlMs: number): Promise<CertAndKey> {
  return issueLeaf(adminCa, { cn: ADMIN_CN, orgs: [ADMIN_ORG], usages: ['client'], days: 0, ttlMs });
}

export async function writePair(dataDir: string, which: 'server' | 'admin', pair: CertAndKey): Promise<void> {
  const [certRel, keyRel] = which === 'server' ? [COORDINATOR_DATA.serverCert, COORDINATOR_DATA.serverKey] : [COORDINATOR_DATA.adminCert, COORDINATOR_DATA.adminKey];
  await writeFileAtomic(join(dataDir, keyRel), pair.keyPem, { mode: 0o600 });
  await writeFileAtomic(join(dataDir, certRel), pair.certPem, { mode: 0o644 });
}

export function writeAdminConfigFor(dataDir: string, advertise: string, pin: string, serverCa: CertAndKey, admin: CertAndKey): Promise<void> {
  return writeAdminConfig(join(dataDir, COORDINATOR_DATA.adminConfig), {
    coordinator: advertise,
    ca_hash: pin,
    ca_cert: serverCa.certPem,
    client_cert: admin.certPem,
    client_key: admin.keyPem,
  });
}

/** Still signed by this CA and in the first 80% of its life (renewal starts at 70-90%). */
function leafFits(certPem: string, caCertPem: string, now: number): boolean {
  try {
    if (!issuedBy(certPem, caCertPem)) return false;
    const c = new X509Certificate(certPem);
    const from = Date.parse(c.validFrom);
    const to = Date.parse(c.validTo);
    return now < from + (to - from) * 0.7;
  } catch {
    return false;
  }
}

function serverCertFits(certPem: string, caCertPem: string, names: { dns: string[]; ips: string[] }, now: number): boolean {
  if (!leafFits(certPem, caCertPem, now)) return false;
  const want = [...names.dns.map((d) => `DNS:${d}`), ...names.ips.map((i) => `IP:${canonicalIp(i)}`)].sort();
  const have = (new X509Certificate(certPem).subjectAltName ?? '')
    .split(', ')
    .filter(Boolean)
    .map((s) => (s.startsWith('IP Address:') ? `IP:${canonicalIp(s.slice('IP Address:'.length))}` : s))
    .sort();
  return want.join(',') === have.join(',');
}

async function readPair(certPath: string, keyPath: string): Promise<CertAndKey | null> {
  try {
    return { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Names for the server certificate: the advertised host, this host's names and addresses, loopback. */
export function serverNames(advertise: string, extra: string[]): { dns: string[]; ips: string[] } {
  const dns = new Set<string>(['localhost', hostname().toLowerCase()]);
  const ips = new Set<string>(['127.0.0.1', '::1']);
  const advHost = splitHostPort(advertise).host;
  for (const n of [advHost, ...extra]) {
    if (!n || n === '0.0.0.0' || n === '::') continue;
    if (isIP(n)) ips.add(n);
    else dns.add(n.toLowerCase());
  }
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (!a.address.startsWith('fe80')) ips.add(a.address);
  }
  return { dns: [...dns].sort(), ips: [...ips].sort() };
}
