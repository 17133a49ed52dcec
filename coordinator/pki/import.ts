// Bringing a cluster's CAs and service-account key from another tool (kubeadm, an earlier
// installer) into a coordinator's data dir: `muster certs import-ca` and `muster certs import-sa`.
// A local operation on the coordinator's host: a CA's private key must never cross the wire, so
// there is no RPC for it.
//
// Refused while a coordinator runs on the data dir (it holds the CAs in memory and would go on
// signing with the old ones): we take the same exclusive lock on state.db that a coordinator
// holds for as long as it runs, and keep it while writing, so none can start mid-import either.
// Refused too when a CA of that kind exists already, unless forced (see FORCE_MEANS).
import { existsSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { SqliteStore } from '../store/sqlite.ts';
import { COORDINATOR_DATA } from '../../shared/constants.ts';
import type { ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { keyDescription, publicKeyId } from '../../shared/pki/x509.ts';
import { AlreadyExistsError, InvalidArgumentError } from '../../shared/errors/index.ts';
import { caPairProblem, caPaths, readClusterCa, readServiceAccount, serviceAccountPaths, writeClusterCa, writeServiceAccount } from './cluster-cas.ts';

/** What --force does, for the refusal message and `muster --help`. */
export const FORCE_MEANS =
  'replaces it: certificates it signed stop being trusted as soon as nodes get the new CA, and muster does not re-issue them by itself yet; ' +
  'use it only before any node holds a certificate from that CA, or to put back the right one';

export interface ImportResult {
  /** Files written (none when the data dir holds these exact bytes already). */
  written: string[];
  replaced: boolean;
}

/** Runs `fn` holding the data dir's state lock, so no coordinator runs on it meanwhile. */
async function holdingDataDir<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  const db = join(dataDir, COORDINATOR_DATA.database);
  // No state.db: no coordinator has run here (opening it would create an empty one, which a
  // later start would take for a lost state).
  const store = existsSync(db) ? new SqliteStore(db) : null;
  try {
    return await fn();
  } finally {
    await store?.close();
  }
}

export interface ImportCaInput {
  dataDir: string;
  kind: ClusterCaKind;
  certPem: string;
  keyPem: string;
  force?: boolean;
  /** @default Date.now */
  now?: number;
}

export function importCa(i: ImportCaInput): Promise<ImportResult> {
  const problem = caPairProblem({ certPem: i.certPem, keyPem: i.keyPem }, `the ${i.kind} CA to import`, i.now ?? Date.now());
  if (problem) throw new InvalidArgumentError(problem);
  return holdingDataDir(i.dataDir, async () => {
    const have = await readClusterCa(i.dataDir, i.kind).catch(() => null);
    const p = caPaths(i.dataDir, i.kind);
    if (have && have.certPem === i.certPem && have.keyPem === i.keyPem) return { written: [], replaced: false };
    // Half a CA (a certificate without its key) counts as one: replacing it is still a choice.
    const exists = existsSync(p.cert) || existsSync(p.key);
    if (exists && !i.force) throw new AlreadyExistsError(`data dir ${i.dataDir} has a ${i.kind} CA already (${p.cert}); --force ${FORCE_MEANS}`);
    await writeClusterCa(i.dataDir, i.kind, { certPem: i.certPem, keyPem: i.keyPem });
    return { written: [p.key, p.cert], replaced: exists };
  });
}

export interface ImportSaInput {
  dataDir: string;
  keyPem: string;
  /** Checked against the private key when given; derived from it otherwise. */
  pubPem?: string;
  force?: boolean;
}

/** kube-apiserver signs service-account tokens with RSA (RS256) or ECDSA keys. */
function serviceAccountKeyProblem(keyPem: string, pubPem: string | undefined): string | null {
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    return `the service-account key is not a PEM private key (${(err as Error).message})`;
  }
  const d = key.asymmetricKeyDetails;
  const ok = (key.asymmetricKeyType === 'rsa' && (d?.modulusLength ?? 0) >= 2048) || (key.asymmetricKeyType === 'ec' && ['prime256v1', 'secp384r1', 'secp521r1'].includes(d?.namedCurve ?? ''));
  if (!ok) return `the service-account key is ${keyDescription(key)}; kube-apiserver needs RSA (2048 bits or more) or ECDSA P-256/P-384/P-521`;
  if (pubPem !== undefined) {
    let pub;
    try {
      pub = createPublicKey(pubPem);
    } catch (err) {
      return `the service-account public key is not a PEM public key (${(err as Error).message})`;
    }
    if (publicKeyId(pub) !== publicKeyId(createPublicKey(key))) return 'the service-account public key is not the public half of the private key';
  }
  return null;
}

export function importServiceAccount(i: ImportSaInput): Promise<ImportResult> {
  const problem = serviceAccountKeyProblem(i.keyPem, i.pubPem);
  if (problem) throw new InvalidArgumentError(problem);
  const publicPem = i.pubPem ?? (createPublicKey(i.keyPem).export({ type: 'spki', format: 'pem' }) as string);
  return holdingDataDir(i.dataDir, async () => {
    const have = await readServiceAccount(i.dataDir).catch(() => null);
    const p = serviceAccountPaths(i.dataDir);
    if (have && have.keys.privatePem === i.keyPem && !have.pubMissing && publicKeyId(have.keys.publicPem) === publicKeyId(publicPem)) return { written: [], replaced: false };
    const exists = existsSync(p.key) || existsSync(p.pub);
    if (exists && !i.force) {
      throw new AlreadyExistsError(
        `data dir ${i.dataDir} has a service-account key already (${p.key}); --force replaces it: every service-account token signed with the old key stops being accepted once the masters get the new one`,
      );
    }
    await writeServiceAccount(i.dataDir, { privatePem: i.keyPem, publicPem });
    return { written: [p.key, p.pub], replaced: exists };
  });
}
