// The cluster's CAs and service-account key pair in the coordinator's data dir (DATA/cluster-pki,
// kubeadm's file names): the Kubernetes, etcd and front-proxy CAs, and sa.key/sa.pub. They are a
// trust domain of their own, apart from muster's identity CAs (coordinator/trust/identity.ts):
// nothing muster's identity CAs sign is worth anything to Kubernetes, and the other way round.
//
// Created when the first plan is applied (no plan, no cluster: the CA subject and lifetime come
// from the plan), reused afterwards and never rewritten: a CA that changed would orphan every
// certificate it signed. Changing ca_expiry or the location in a later plan therefore changes
// nothing here (that is CA rotation, not done yet). An operator may bring CAs from another tool
// first (`muster certs import-ca`, ./import.ts); what exists is taken as it is.
//
// CA private keys are read here and handed only to the signer (./issuer.ts); they never cross
// the wire. The service-account private key does, to masters only (the issuer's rule).
import { readFile, mkdir } from 'node:fs/promises';
import { createPrivateKey, createPublicKey, generateKeyPair, X509Certificate } from 'node:crypto';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createCa, certInfo, keyDescription, publicKeyId, unsupportedSigningKey, type CertAndKey } from '../../shared/pki/x509.ts';
import type { ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import { CLUSTER_CA_CNS, CLUSTER_PKI } from '../../shared/constants.ts';
import { parseGoDuration } from '../../shared/plan/duration.ts';
import type { Plan } from '../../shared/plan/types.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { FailedPreconditionError } from '../../shared/errors/index.ts';

export const CLUSTER_CA_KINDS: readonly ClusterCaKind[] = ['kubernetes', 'etcd', 'front-proxy'];

export interface ClusterCa extends CertAndKey {
  kind: ClusterCaKind;
  serial: string;
  notAfterMs: number;
}

export interface ServiceAccountKeys {
  privatePem: string;
  publicPem: string;
}

export interface ClusterPkiMaterial {
  cas: Readonly<Record<ClusterCaKind, ClusterCa>>;
  serviceAccount: ServiceAccountKeys;
}

/** kubeadm's CA lifetime, for a plan whose ca_expiry does not parse (the validator should have said). */
const DEFAULT_CA_TTL_MS = 87_600 * 3_600_000;

const newKeyPair = promisify(generateKeyPair);

export function caPaths(dataDir: string, kind: ClusterCaKind): { cert: string; key: string } {
  const p = CLUSTER_PKI[kind];
  return { cert: join(dataDir, p.cert), key: join(dataDir, p.key) };
}

export function serviceAccountPaths(dataDir: string): { key: string; pub: string } {
  return { key: join(dataDir, CLUSTER_PKI.serviceAccountKey), pub: join(dataDir, CLUSTER_PKI.serviceAccountPub) };
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Why a certificate and key cannot serve as a CA (not a CA certificate, key not its own, key type
 * muster cannot sign with, expired), or null. `what` names them in the message.
 */
export function caPairProblem(pair: CertAndKey, what: string, now = Date.now()): string | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pair.certPem);
  } catch (err) {
    return `${what}: the certificate is not a PEM X.509 certificate (${(err as Error).message})`;
  }
  let key;
  try {
    key = createPrivateKey(pair.keyPem);
  } catch (err) {
    return `${what}: the key is not a PEM private key (${(err as Error).message})`;
  }
  if (!cert.ca) return `${what}: the certificate (subject ${cert.subject.replaceAll('\n', ', ')}) is not a CA certificate (basicConstraints CA:TRUE)`;
  if (publicKeyId(cert.publicKey) !== publicKeyId(createPublicKey(key))) return `${what}: the key does not belong to the certificate (their public keys differ)`;
  const unsupported = unsupportedSigningKey(key);
  if (unsupported) return `${what}: ${unsupported}`;
  if (Date.parse(cert.validTo) <= now) return `${what}: the CA expired on ${new Date(cert.validTo).toISOString()}`;
  return null;
}

function toClusterCa(kind: ClusterCaKind, pair: CertAndKey): ClusterCa {
  const info = certInfo(pair.certPem);
  return { kind, certPem: pair.certPem, keyPem: pair.keyPem, serial: info.serial, notAfterMs: info.notAfter.getTime() };
}

/** The CA of `kind` as stored, or null when absent. A certificate without its key is an error, never "absent". */
export async function readClusterCa(dataDir: string, kind: ClusterCaKind): Promise<CertAndKey | null> {
  const p = caPaths(dataDir, kind);
  const [certPem, keyPem] = await Promise.all([readIfExists(p.cert), readIfExists(p.key)]);
  if (!certPem && !keyPem) return null;
  if (!certPem || !keyPem) {
    throw new FailedPreconditionError(
      'cluster-ca-incomplete',
      `the ${kind} CA in ${dirname(p.cert)} has ${certPem ? `a certificate but no key (${p.key})` : `a key but no certificate (${p.cert})`}: restore the missing file, or import the pair with \`muster certs import-ca --kind ${kind} --force\``,
    );
  }
  return { certPem, keyPem };
}

/** The stored service-account pair, or null. A public key that is not the private key's is an error. */
export async function readServiceAccount(dataDir: string): Promise<{ keys: ServiceAccountKeys; pubMissing: boolean } | null> {
  const p = serviceAccountPaths(dataDir);
  const privatePem = await readIfExists(p.key);
  const stored = await readIfExists(p.pub);
  if (!privatePem) {
    if (stored) throw new FailedPreconditionError('cluster-sa-incomplete', `${p.pub} exists without its private key ${p.key}: restore it, or import the pair with \`muster certs import-sa --force\``);
    return null;
  }
  const derived = createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }) as string;
  if (stored && publicKeyId(stored) !== publicKeyId(derived)) {
    throw new FailedPreconditionError('cluster-sa-mismatch', `${p.pub} is not the public half of ${p.key}: restore the right pair, or import it with \`muster certs import-sa --force\``);
  }
  return { keys: { privatePem, publicPem: stored ?? derived }, pubMissing: !stored };
}

/** Key first: a certificate on disk always has its key. */
export async function writeClusterCa(dataDir: string, kind: ClusterCaKind, pair: CertAndKey): Promise<void> {
  const p = caPaths(dataDir, kind);
  await mkdir(dirname(p.cert), { recursive: true, mode: 0o700 });
  await writeFileAtomic(p.key, pair.keyPem, { mode: 0o600 });
  await writeFileAtomic(p.cert, pair.certPem, { mode: 0o644 });
}

export async function writeServiceAccount(dataDir: string, keys: ServiceAccountKeys): Promise<void> {
  const p = serviceAccountPaths(dataDir);
  await mkdir(dirname(p.key), { recursive: true, mode: 0o700 });
  await writeFileAtomic(p.key, keys.privatePem, { mode: 0o600 });
  await writeFileAtomic(p.pub, keys.publicPem, { mode: 0o644 });
}

/**
 * The service-account pair: RSA 2048 like kubeadm's, so that a cluster moved between muster and
 * kubeadm keeps its tokens valid whichever made the key. Made once per cluster, so its cost
 * (~100 ms) does not matter.
 */
async function createServiceAccount(): Promise<ServiceAccountKeys> {
  const { privateKey, publicKey } = await newKeyPair('rsa', { modulusLength: 2048 });
  return { privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

export interface ClusterCasOptions {
  dataDir: string;
  log: Logger;
  /** @default Date.now */
  clock?: () => number;
}

/** The cluster PKI of one data dir: created from the first plan, then loaded and kept in memory. */
export class ClusterCas {
  readonly #dataDir: string;
  readonly #log: Logger;
  readonly #clock: () => number;
  #material: ClusterPkiMaterial | null = null;
  #ensuring: Promise<ClusterPkiMaterial> | null = null;

  constructor(o: ClusterCasOptions) {
    this.#dataDir = o.dataDir;
    this.#log = o.log;
    this.#clock = o.clock ?? Date.now;
  }

  get dataDir(): string {
    return this.#dataDir;
  }

  /** The CAs and SA pair once `ensure` has run; null before the first plan. */
  current(): ClusterPkiMaterial | null {
    return this.#material;
  }

  /**
   * Loads what exists and creates what is missing, with the plan's CA lifetime and subject
   * location. Idempotent: after the first call it only returns what it loaded (imports are
   * refused while a coordinator holds the data dir, so the files cannot change under us).
   */
  ensure(plan: Plan): Promise<ClusterPkiMaterial> {
    if (this.#material) return Promise.resolve(this.#material);
    this.#ensuring ??= this.#ensure(plan).finally(() => (this.#ensuring = null));
    return this.#ensuring;
  }

  async #ensure(plan: Plan): Promise<ClusterPkiMaterial> {
    const certs = plan.cluster.certificates;
    const ttl = parseGoDuration(certs.ca_expiry);
    const ttlMs = ttl && ttl > 0 ? ttl : DEFAULT_CA_TTL_MS;
    const location = { country: certs.location.country, state: certs.location.state, locality: certs.location.city };
    const created: string[] = [];
    const cas = {} as Record<ClusterCaKind, ClusterCa>;
    for (const kind of CLUSTER_CA_KINDS) {
      let pair = await readClusterCa(this.#dataDir, kind);
      if (pair) {
        const problem = caPairProblem(pair, `the ${kind} CA in ${caPaths(this.#dataDir, kind).cert}`, this.#clock());
        if (problem) throw new FailedPreconditionError('cluster-ca-unusable', `${problem}; fix it, or import a usable CA with \`muster certs import-ca --kind ${kind} --force\``);
      } else {
        pair = await createCa(CLUSTER_CA_CNS[kind], 0, new Date(this.#clock()), { ttlMs, location });
        await writeClusterCa(this.#dataDir, kind, pair);
        created.push(`${kind} CA`);
      }
      cas[kind] = toClusterCa(kind, pair);
    }
    let sa = await readServiceAccount(this.#dataDir);
    if (!sa) {
      const keys = await createServiceAccount();
      await writeServiceAccount(this.#dataDir, keys);
      created.push('service-account key pair');
      sa = { keys, pubMissing: false };
    } else if (sa.pubMissing) await writeFileAtomic(serviceAccountPaths(this.#dataDir).pub, sa.keys.publicPem, { mode: 0o644 });
    if (created.length) this.#log.info(`cluster PKI: created the ${created.join(', ')} in ${join(this.#dataDir, CLUSTER_PKI.dir)} (CA lifetime ${certs.ca_expiry})`);
    for (const kind of CLUSTER_CA_KINDS) {
      const key = createPrivateKey(cas[kind].keyPem);
      if (key.asymmetricKeyType !== 'ec') this.#log.info(`cluster PKI: the ${kind} CA has an ${keyDescription(key)} key (imported); its leaves are still ECDSA P-256`);
    }
    this.#material = { cas, serviceAccount: sa.keys };
    return this.#material;
  }
}
