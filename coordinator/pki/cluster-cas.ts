// The cluster's CAs and service-account key pair in the coordinator's data dir (DATA/cluster-pki,
// kubeadm's file names): the Kubernetes, etcd and front-proxy CAs, and sa.key/sa.pub. They are a
// trust domain of their own, apart from muster's identity CAs (coordinator/trust/identity.ts):
// nothing muster's identity CAs sign is worth anything to Kubernetes, and the other way round.
//
// Created when the first plan is applied (no plan, no cluster: the CA subject and lifetime come
// from the plan), reused afterwards and never rewritten in place: a CA that changed under its
// leaves would orphan every certificate it signed. Changing ca_expiry or the location in a later
// plan changes nothing here until the CA is rotated. An operator may bring CAs from another tool
// first (`muster certs import-ca`, ./import.ts); what exists is taken as it is.
//
// CA rotation (./rotation.ts drives it) keeps the CA being introduced in DATA/cluster-pki/next/
// (same layout) until every node trusts and uses it; then `promote` writes it over the primary
// pair. A copy of the CA it replaces is kept in DATA/cluster-pki/retired/ from the start of the
// rotation. Promotion is two renames (key, then certificate) followed by removing next/; a crash
// anywhere in it is finished at the next start (see #recoverPromotion).
//
// CA private keys are read here and handed only to the signer (./issuer.ts); they never cross
// the wire. The service-account private key does, to masters only (the issuer's rule).
import { readFile, mkdir, rm } from 'node:fs/promises';
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
  /** SHA-256 fingerprint, as X509Certificate.fingerprint256 spells it (what PkiTarget names). */
  fingerprint: string;
  notAfterMs: number;
}

export interface ServiceAccountKeys {
  privatePem: string;
  publicPem: string;
}

export interface ClusterPkiMaterial {
  /** The CA of record of each kind (the primary files). */
  cas: Readonly<Record<ClusterCaKind, ClusterCa>>;
  /** The CA being introduced by a rotation in progress, per kind. */
  next: Readonly<Partial<Record<ClusterCaKind, ClusterCa>>>;
  serviceAccount: ServiceAccountKeys;
}

/** kubeadm's CA lifetime, for a plan whose ca_expiry does not parse (the validator should have said). */
const DEFAULT_CA_TTL_MS = 87_600 * 3_600_000;

const newKeyPair = promisify(generateKeyPair);

export function caPaths(dataDir: string, kind: ClusterCaKind): { cert: string; key: string } {
  const p = CLUSTER_PKI[kind];
  return { cert: join(dataDir, p.cert), key: join(dataDir, p.key) };
}

/** Where a rotation keeps the CA it introduces until it is promoted. */
export function nextCaPaths(dataDir: string, kind: ClusterCaKind): { cert: string; key: string } {
  const p = CLUSTER_PKI[kind];
  const under = (f: string) => join(dataDir, CLUSTER_PKI.dir, 'next', f.slice(CLUSTER_PKI.dir.length + 1));
  return { cert: under(p.cert), key: under(p.key) };
}

/** Where the CA a rotation replaces is kept (by serial: every rotation keeps its own). */
export function retiredCaPaths(dataDir: string, kind: ClusterCaKind, serial: string): { cert: string; key: string } {
  const base = join(dataDir, CLUSTER_PKI.dir, 'retired', `${kind}-ca-${serial}`);
  return { cert: `${base}.crt`, key: `${base}.key` };
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
  return { kind, certPem: pair.certPem, keyPem: pair.keyPem, serial: info.serial, fingerprint: info.fingerprint256, notAfterMs: info.notAfter.getTime() };
}

/** The CA of `kind` as stored, or null when absent. A certificate without its key is an error, never "absent". */
export async function readClusterCa(dataDir: string, kind: ClusterCaKind): Promise<CertAndKey | null> {
  const p = caPaths(dataDir, kind);
  return readPair(p, kind);
}

async function readPair(p: { cert: string; key: string }, kind: ClusterCaKind): Promise<CertAndKey | null> {
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
  await writePair(caPaths(dataDir, kind), pair);
}

async function writePair(p: { cert: string; key: string }, pair: CertAndKey): Promise<void> {
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
    const { ttlMs, location } = caParams(plan);
    const created: string[] = [];
    const cas = {} as Record<ClusterCaKind, ClusterCa>;
    const next: Partial<Record<ClusterCaKind, ClusterCa>> = {};
    for (const kind of CLUSTER_CA_KINDS) {
      const pending = await this.#recoverPromotion(kind);
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
      if (pending) next[kind] = toClusterCa(kind, pending);
    }
    let sa = await readServiceAccount(this.#dataDir);
    if (!sa) {
      const keys = await createServiceAccount();
      await writeServiceAccount(this.#dataDir, keys);
      created.push('service-account key pair');
      sa = { keys, pubMissing: false };
    } else if (sa.pubMissing) await writeFileAtomic(serviceAccountPaths(this.#dataDir).pub, sa.keys.publicPem, { mode: 0o644 });
    if (created.length) this.#log.info(`cluster PKI: created the ${created.join(', ')} in ${join(this.#dataDir, CLUSTER_PKI.dir)} (CA lifetime ${plan.cluster.certificates.ca_expiry})`);
    for (const kind of CLUSTER_CA_KINDS) {
      const key = createPrivateKey(cas[kind].keyPem);
      if (key.asymmetricKeyType !== 'ec') this.#log.info(`cluster PKI: the ${kind} CA has an ${keyDescription(key)} key (imported); its leaves are still ECDSA P-256`);
    }
    this.#material = { cas, next, serviceAccount: sa.keys };
    return this.#material;
  }

  /**
   * The CA in next/, after finishing a promotion a crash interrupted: next/ holding the primary's
   * certificate (crash after the certificate's rename) or its key (after the key's) is a promotion
   * half done, finished here; anything else in next/ is a rotation in progress, returned.
   */
  async #recoverPromotion(kind: ClusterCaKind): Promise<CertAndKey | null> {
    const np = nextCaPaths(this.#dataDir, kind);
    const [certPem, keyPem] = await Promise.all([readIfExists(np.cert), readIfExists(np.key)]);
    if (!certPem) {
      // A key alone: a rotation's start crashed before its certificate, or a promotion after it.
      if (keyPem) await rm(np.key, { force: true });
      return null;
    }
    if (!keyPem) throw new FailedPreconditionError('cluster-ca-incomplete', `the ${kind} CA being rotated in (${np.cert}) has no key (${np.key}): restore it, or remove both files and start the rotation again`);
    const p = caPaths(this.#dataDir, kind);
    const [primaryCert, primaryKey] = await Promise.all([readIfExists(p.cert), readIfExists(p.key)]);
    const sameKey = primaryKey !== null && publicKeyId(primaryKey) === publicKeyId(keyPem);
    if (primaryCert === certPem || sameKey) {
      if (primaryCert !== certPem) await writeFileAtomic(p.cert, certPem, { mode: 0o644 });
      await rm(np.cert, { force: true });
      await rm(np.key, { force: true });
      this.#log.warn(`cluster PKI: finished promoting the new ${kind} CA (a previous run stopped in the middle of it)`);
      return null;
    }
    return { certPem, keyPem };
  }

  /**
   * A rotation's first step: a new CA of `kind` (the plan's lifetime and subject location) in
   * next/, and a copy of the current one in retired/. Replaces a next/ CA left by a rotation that
   * never started (the caller refuses while one is in progress).
   */
  async createNext(kind: ClusterCaKind, plan: Plan): Promise<ClusterCa> {
    const m = this.#material ?? (await this.ensure(plan));
    const { ttlMs, location } = caParams(plan);
    const cur = m.cas[kind];
    await writePair(retiredCaPaths(this.#dataDir, kind, cur.serial), cur);
    const pair = await createCa(CLUSTER_CA_CNS[kind], 0, new Date(this.#clock()), { ttlMs, location });
    await writePair(nextCaPaths(this.#dataDir, kind), pair);
    const ca = toClusterCa(kind, pair);
    this.#material = { ...m, next: { ...m.next, [kind]: ca } };
    this.#log.info(`cluster PKI: created a new ${kind} CA (serial ${ca.serial}) to rotate in; the current one (serial ${cur.serial}) is kept in ${dirname(retiredCaPaths(this.#dataDir, kind, cur.serial).cert)}`);
    return ca;
  }

  /** A rotation's last step: the next/ CA becomes the CA of record. Idempotent. */
  async promote(kind: ClusterCaKind): Promise<ClusterCa> {
    const m = this.#material;
    if (!m) throw new FailedPreconditionError('no-cluster-pki', 'the cluster PKI is not loaded');
    const nx = m.next[kind];
    if (!nx) return m.cas[kind];
    const np = nextCaPaths(this.#dataDir, kind);
    await writeClusterCa(this.#dataDir, kind, nx);
    await rm(np.cert, { force: true });
    await rm(np.key, { force: true });
    const next = { ...m.next };
    delete next[kind];
    this.#material = { ...m, cas: { ...m.cas, [kind]: nx }, next };
    this.#log.info(`cluster PKI: the ${kind} CA serial ${nx.serial} is now the CA of record`);
    return nx;
  }
}

function caParams(plan: Plan): { ttlMs: number; location: { country: string; state: string; locality: string } } {
  const certs = plan.cluster.certificates;
  const ttl = parseGoDuration(certs.ca_expiry);
  return { ttlMs: ttl && ttl > 0 ? ttl : DEFAULT_CA_TTL_MS, location: { country: certs.location.country, state: certs.location.state, locality: certs.location.city } };
}
