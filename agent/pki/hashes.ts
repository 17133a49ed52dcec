// The hashes of the cluster PKI files a node holds, keyed as the static pod renderer reads them
// (shared/render/static-pods/certificates-hash.ts): by catalogue kind (certificate and key), by
// "ca:<ca>" for a CA bundle, and "service-account" for the SA pair. A pod's annotation changes
// when any file it mounts changes, so the kubelet restarts it.
import { createHash } from 'node:crypto';
import { CLUSTER_CA_PATHS, SERVICE_ACCOUNT_PATHS, kindsForRoles, type ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { readPkiOnDisk } from './on-disk.ts';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');

export interface PkiHeld {
  certs: ReadonlyMap<string, string>;
  keys: ReadonlyMap<string, string>;
  cas: Readonly<Partial<Record<ClusterCaKind, string | null>>>;
  serviceAccount: { privatePem: string; publicPem: string } | null;
}

export function pkiHashes(p: PkiHeld): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [kind, pem] of p.certs) out[kind] = sha(`${pem}${p.keys.get(kind) ?? ''}`);
  for (const [ca, pem] of Object.entries(p.cas)) if (pem) out[`ca:${ca}`] = sha(pem);
  if (p.serviceAccount) out['service-account'] = sha(`${p.serviceAccount.privatePem}${p.serviceAccount.publicPem}`);
  return out;
}

/** The same, from the files on the node (the dry run: no call, nothing changed). */
export async function pkiHashesOnDisk(root: string, roles: readonly string[]): Promise<{ hashes: Record<string, string>; paths: string[] }> {
  const kinds = kindsForRoles(roles);
  const disk = await readPkiOnDisk(root, kinds);
  const certs = new Map<string, string>();
  const keys = new Map<string, string>();
  for (const [k, v] of disk.kinds) {
    if (v.certPem) certs.set(k, v.certPem);
    if (v.keyPem) keys.set(k, v.keyPem);
  }
  const caKinds = [...new Set(kinds.map((k) => k.ca))];
  const cas = Object.fromEntries(caKinds.map((c) => [c, disk.cas[c]]));
  const master = roles.includes('master');
  const sa = master && disk.serviceAccount.privatePem && disk.serviceAccount.publicPem ? { privatePem: disk.serviceAccount.privatePem, publicPem: disk.serviceAccount.publicPem } : null;
  const paths = [
    ...kinds.flatMap((k) => [k.certPath, k.keyPath, ...(k.kubeconfig ? [k.kubeconfig.path] : [])]),
    ...caKinds.map((c) => CLUSTER_CA_PATHS[c]),
    ...(master ? [SERVICE_ACCOUNT_PATHS.privateKey, SERVICE_ACCOUNT_PATHS.publicKey] : []),
  ].map((p) => `/${p}`);
  return { hashes: pkiHashes({ certs, keys, cas, serviceAccount: sa }), paths };
}
