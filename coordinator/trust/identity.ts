// The coordinator's own PKI, kept in its data dir: the identity CA (signs node and admin
// certificates), the gRPC server certificate, and the admin client credentials with an admin
// config file (like kubeadm's admin.conf). Created on first start; the CA and admin credentials
// are reused afterwards, the server certificate is re-issued at every start so its addresses
// follow the host. Keys are written 0600.
import { readFile, mkdir } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { createCa, issueLeaf, caPin, type CertAndKey } from '../../shared/pki/x509.ts';
import { writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import {
  ADMIN_CN,
  ADMIN_ORG,
  COORDINATOR_DATA,
  IDENTITY_CA_CN,
  IDENTITY_CA_DAYS,
  IDENTITY_CERT_DAYS,
} from '../../shared/constants.ts';
import { writeAdminConfig } from '../admin/config.ts';

export interface CoordinatorIdentity {
  ca: CertAndKey;
  server: CertAndKey;
  caPin: string;
  /** True when this start created the CA (first start). */
  created: boolean;
}

export interface IdentityOptions {
  dataDir: string;
  /** host:port agents and admins use to reach this coordinator. */
  advertise: string;
  /** Extra DNS names / IPs for the server certificate. */
  extraSans?: string[];
}

export async function ensureIdentity(o: IdentityOptions): Promise<CoordinatorIdentity> {
  const p = (rel: string) => join(o.dataDir, rel);
  await mkdir(dirname(p(COORDINATOR_DATA.caCert)), { recursive: true, mode: 0o700 });
  let ca = await readPair(p(COORDINATOR_DATA.caCert), p(COORDINATOR_DATA.caKey));
  let created = false;
  if (!ca) {
    ca = await createCa(IDENTITY_CA_CN, IDENTITY_CA_DAYS);
    await writeFileAtomic(p(COORDINATOR_DATA.caKey), ca.keyPem, { mode: 0o600 });
    await writeFileAtomic(p(COORDINATOR_DATA.caCert), ca.certPem, { mode: 0o644 });
    created = true;
  }

  const { dns, ips } = serverNames(o.advertise, o.extraSans ?? []);
  const server = await issueLeaf(ca, { cn: 'muster-coordinator', dnsNames: dns, ips, usages: ['server'], days: IDENTITY_CERT_DAYS });
  await writeFileAtomic(p(COORDINATOR_DATA.serverKey), server.keyPem, { mode: 0o600 });
  await writeFileAtomic(p(COORDINATOR_DATA.serverCert), server.certPem, { mode: 0o644 });

  const pin = caPin(ca.certPem);
  let admin = await readPair(p(COORDINATOR_DATA.adminCert), p(COORDINATOR_DATA.adminKey));
  if (!admin || created) {
    admin = await issueLeaf(ca, { cn: ADMIN_CN, orgs: [ADMIN_ORG], usages: ['client'], days: IDENTITY_CERT_DAYS });
    await writeFileAtomic(p(COORDINATOR_DATA.adminKey), admin.keyPem, { mode: 0o600 });
    await writeFileAtomic(p(COORDINATOR_DATA.adminCert), admin.certPem, { mode: 0o644 });
  }
  // Rewritten every start: the advertised address may have changed. Unchanged bytes are skipped.
  await writeAdminConfig(p(COORDINATOR_DATA.adminConfig), {
    coordinator: o.advertise,
    ca_hash: pin,
    ca_cert: ca.certPem,
    client_cert: admin.certPem,
    client_key: admin.keyPem,
  });
  return { ca, server, caPin: pin, created };
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
  const dns = new Set<string>(['localhost', hostname()]);
  const ips = new Set<string>(['127.0.0.1', '::1']);
  const advHost = splitHostPort(advertise).host;
  for (const n of [advHost, ...extra]) {
    if (!n || n === '0.0.0.0' || n === '::') continue;
    if (isIP(n)) ips.add(n);
    else dns.add(n);
  }
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (!a.address.startsWith('fe80')) ips.add(a.address);
  }
  return { dns: [...dns].sort(), ips: [...ips].sort() };
}

export function splitHostPort(hp: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(hp) ?? /^([^:]*):(\d+)$/.exec(hp);
  if (!m) throw new Error(`"${hp}" is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}
