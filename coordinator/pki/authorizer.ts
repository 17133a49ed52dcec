// The CSR authoriser: the one place that decides whether the coordinator signs a cluster
// certificate for a node, and what exactly it signs. Everything it needs is passed in (the
// node's name, roles from its committed assignment, its addresses; the plan; the kind and the
// CSR), so it is a pure function and its refusals are a table in test/pki/authorizer.test.ts.
//
// The rule (REFERENCE.md sections 5 and 6): the kind exists and the node's roles may hold it; the
// CSR is well formed, its signature verifies, its key is ECDSA P-256; whatever it asks for --
// subject CN and O, SANs, key usages, extended key usages -- is within what the catalogue gives
// that kind for that node. Subject, SANs and usages signed come from the catalogue, never from
// the CSR: asking is allowed (kubelet-style CSRs state their request), asking for more is not.
//
// Malformed or oversized CSRs and unknown kinds are INVALID_ARGUMENT; a well-formed request for
// something the node may not have is PERMISSION_DENIED naming the kind and the offending field.
import { certKind, CERT_KINDS, type CertKind } from '../../shared/pki/catalogue.ts';
import { CsrFormatError, EKU_OIDS, readCsr, type CsrRequest, type KeyUsageName } from '../../shared/pki/x509.ts';
import type { Plan } from '../../shared/plan/types.ts';
import { parseGoDuration } from '../../shared/plan/duration.ts';
import { InvalidArgumentError, PermissionDeniedError } from '../../shared/errors/index.ts';
import { canonicalIp } from '../../shared/net/ip.ts';
import { sansFor, type NodeNames } from './sans.ts';

/** A CSR is a few hundred bytes (with an apiserver's SANs, about a thousand); anything much larger is not one of ours. */
export const MAX_CSR_PEM_CHARS = 8192;

/** The seed's leaf lifetime (REFERENCE.md section 6), for a plan whose expiry does not parse. */
const DEFAULT_LEAF_TTL_MS = 17_520 * 3_600_000;

/** Key usages every cluster leaf gets (shared/pki/x509.ts signLeaf): a CSR may ask for these only. */
const LEAF_KEY_USAGES: readonly KeyUsageName[] = ['digitalSignature'];

const EKU_NAMES: Record<string, string> = { [EKU_OIDS.server]: 'serverAuth', [EKU_OIDS.client]: 'clientAuth' };

export interface NodeForCsr extends NodeNames {
  /** Roles of the node's committed assignment (never what the node says about itself). */
  roles: readonly string[];
}

export interface CsrToAuthorize {
  kind: string;
  csrPem: string;
}

/** What to sign: everything but the public key comes from the catalogue and the plan. */
export interface SignSpec {
  kind: CertKind;
  csr: CsrRequest;
  cn: string;
  orgs: string[];
  usages: ('server' | 'client')[];
  dnsNames: string[];
  ips: string[];
  ttlMs: number;
}

/** Leaf lifetimes by plan object (a plan is never mutated once applied): parsed once, not per certificate. */
const leafTtls = new WeakMap<Plan, number>();

/** The plan's leaf lifetime (cluster.certificates.expiry, a Go duration) in ms. */
export function leafTtlMs(plan: Plan): number {
  let ttl = leafTtls.get(plan);
  if (ttl === undefined) {
    const ms = parseGoDuration(plan.cluster.certificates.expiry);
    leafTtls.set(plan, (ttl = ms && ms > 0 ? ms : DEFAULT_LEAF_TTL_MS));
  }
  return ttl;
}

function denied(reason: string, message: string): PermissionDeniedError {
  return new PermissionDeniedError(reason, message);
}

const q = (s: string) => JSON.stringify(s);

/** How refusals name each kind ('kind "kubelet-serving"'), spelled once. */
const KIND_LABELS = new Map(CERT_KINDS.map((k) => [k, `kind ${q(k.kind)}`]));
const label = (k: CertKind): string => KIND_LABELS.get(k) ?? `kind ${q(k.kind)}`;

export function authorizeCsr(node: NodeForCsr, plan: Plan, req: CsrToAuthorize): SignSpec {
  const k = requestedKind(node, req);
  let csr: CsrRequest;
  try {
    csr = readCsr(req.csrPem);
  } catch (err) {
    throw malformed(k, err);
  }
  return judge(k, node, plan, csr);
}

/**
 * Several requests of one call, checked in request order: all pass, or the call is refused with
 * the first refusal. Each signature is checked here, on the calling thread: on libuv's pool the
 * hand-over cost 16-45 us of CPU per check (bench/issuance.ts: 0.29 of openssl's rate per core
 * with it, 0.34 without), and at fleet scale a join's four checks are 2% of its CPU, so the
 * pool's second core bought little wall-clock time where it mattered.
 */
export function authorizeCsrs(node: NodeForCsr, plan: Plan, reqs: readonly CsrToAuthorize[]): SignSpec[] {
  return reqs.map((r) => authorizeCsr(node, plan, r));
}

/** The kind asked for, if it exists and the node's roles may hold it, and the CSR's size. */
function requestedKind(node: NodeForCsr, req: CsrToAuthorize): CertKind {
  const k = certKind(req.kind);
  if (!k) throw new InvalidArgumentError(`unknown certificate kind ${q(req.kind)}; kinds are ${CERT_KINDS.map((c) => c.kind).join(', ')}`);
  const what = label(k);
  if (!k.roles.some((r) => node.roles.includes(r))) {
    throw denied('kind-not-allowed', `node ${node.name} may not hold ${what} (roles: ${node.roles.join(', ') || 'none'})`);
  }
  if (req.csrPem.length > MAX_CSR_PEM_CHARS) throw new InvalidArgumentError(`${what}: the CSR is ${req.csrPem.length} characters; at most ${MAX_CSR_PEM_CHARS}`);
  return k;
}

/** What reading the CSR threw: a malformed one is INVALID_ARGUMENT naming the kind. */
function malformed(k: CertKind, err: unknown): unknown {
  return err instanceof CsrFormatError ? new InvalidArgumentError(`kind ${q(k.kind)}: ${err.message}`, { cause: err }) : err;
}

/** Whatever the CSR asks for, judged against what the catalogue gives the kind for this node. */
function judge(k: CertKind, node: NodeForCsr, plan: Plan, csr: CsrRequest): SignSpec {
  const what = label(k);
  if (!csr.signatureValid) throw new InvalidArgumentError(`${what}: the CSR signature does not verify`);
  const key = csr.keyType;
  if (key !== 'ECDSA P-256') throw denied('csr-key', `${what}: key ${key} is not allowed; cluster certificates are for ECDSA P-256 keys`);

  const cn = k.cn(node.name);
  if (csr.cn && csr.cn !== cn) throw denied('csr-subject', `${what}: subject CN ${q(csr.cn)} is not ${q(cn)}`);
  const wantOrgs = [...k.orgs].sort();
  const gotOrgs = [...new Set(csr.orgs)].sort();
  if (gotOrgs.length && gotOrgs.join('\n') !== wantOrgs.join('\n')) {
    throw denied('csr-subject', `${what}: subject O ${q(gotOrgs.join(', '))} ${wantOrgs.length ? `is not ${q(wantOrgs.join(', '))}` : 'is not allowed (the kind has no O)'}`);
  }

  const sans = sansFor(k.sans, node, plan);
  const other = csr.otherSans[0];
  if (other) throw denied('csr-san', `${what}: SAN ${other} is not allowed (only DNS names and IP addresses)`);
  const dns = new Set(sans.dnsNames);
  const ips = new Set(sans.ips);
  const foreign = csr.dnsNames.find((d) => !dns.has(d.toLowerCase())) ?? csr.ips.find((ip) => !ips.has(canonicalIp(ip)));
  if (foreign !== undefined) {
    throw denied('csr-san', k.sans === 'none' ? `${what}: SAN ${q(foreign)} is not allowed (the kind carries no SANs)` : `${what}: SAN ${q(foreign)} is not this node's`);
  }

  const badUsage = csr.keyUsages.find((u) => !LEAF_KEY_USAGES.includes(u));
  if (badUsage) throw denied('csr-usage', `${what}: key usage ${badUsage} is not allowed (the kind gets ${LEAF_KEY_USAGES.join(', ')})`);
  const ekus = new Set(k.usages.map((u) => EKU_OIDS[u]));
  const badEku = csr.extKeyUsages.find((o) => !ekus.has(o as (typeof EKU_OIDS)['server']));
  if (badEku) {
    throw denied('csr-usage', `${what}: extended key usage ${EKU_NAMES[badEku] ?? badEku} is not allowed (the kind gets ${[...ekus].map((o) => EKU_NAMES[o]).join(', ')})`);
  }
  if (csr.requestsCa) throw denied('csr-usage', `${what}: basicConstraints CA:TRUE is not allowed`);
  const ext = csr.otherExtensions[0];
  if (ext) throw denied('csr-extension', `${what}: extension ${ext} is not allowed`);

  return { kind: k, csr, cn, orgs: [...k.orgs], usages: [...k.usages], dnsNames: sans.dnsNames, ips: sans.ips, ttlMs: leafTtlMs(plan) };
}
