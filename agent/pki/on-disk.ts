// What the node holds of the cluster PKI right now: for each kind its key and certificate, the
// CA bundles, the service-account pair. Read fresh on every check, because the files are the
// truth (an operator may have deleted one to force a new key) and reading a few dozen small
// files costs nothing next to a call.
import { readFile } from 'node:fs/promises';
import { underRoot } from '../../shared/fs/node-root.ts';
import { CLUSTER_CA_PATHS, SERVICE_ACCOUNT_PATHS, type CertKind, type ClusterCaKind } from '../../shared/pki/catalogue.ts';

export interface KindOnDisk {
  keyPem: string | null;
  certPem: string | null;
}

export interface PkiOnDisk {
  kinds: Map<string, KindOnDisk>;
  cas: Record<ClusterCaKind, string | null>;
  serviceAccount: { privatePem: string | null; publicPem: string | null };
}

/** A file's text, or null when it is missing or empty (an empty file is as good as none). */
async function readOptional(root: string, path: string): Promise<string | null> {
  try {
    const text = await readFile(underRoot(root, path), 'utf8');
    return text.trim() ? text : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read /${path}: ${(err as Error).message}`, { cause: err });
  }
}

export async function readPkiOnDisk(root: string, kinds: readonly CertKind[]): Promise<PkiOnDisk> {
  const out: PkiOnDisk = {
    kinds: new Map(),
    cas: { kubernetes: null, etcd: null, 'front-proxy': null },
    serviceAccount: { privatePem: await readOptional(root, SERVICE_ACCOUNT_PATHS.privateKey), publicPem: await readOptional(root, SERVICE_ACCOUNT_PATHS.publicKey) },
  };
  for (const k of kinds) out.kinds.set(k.kind, { keyPem: await readOptional(root, k.keyPath), certPem: await readOptional(root, k.certPath) });
  for (const ca of Object.keys(out.cas) as ClusterCaKind[]) out.cas[ca] = await readOptional(root, CLUSTER_CA_PATHS[ca]);
  return out;
}
