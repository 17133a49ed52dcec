// The node's side of the cluster PKI: for an assignment, make sure every certificate its roles
// need is on the node, right, and not due for renewal.
//
//   read what is on disk -> keys: reuse, or make here (0600, written before anything is asked)
//   -> which kinds are missing / wrong / due -> ONE IssueCertificates call with a CSR for each
//   -> check the answer -> write certificates, CA bundles, SA pair, kubeconfigs atomically
//
// A renewal keeps the key: only the certificate file changes, in one atomic rename. Rotating the
// key too would mean two renames (key, then certificate), and a kubelet or etcd reading between
// them would load a pair that does not match. A key that is missing, unreadable or not P-256 is
// replaced (deleting a key file is how an operator asks for a new one). Kubeconfigs embed both
// halves in one file, so they never see a mismatched pair.
//
// Nothing here keeps state but the random renewal point of each certificate (so repeated checks
// do not re-roll it) and the earliest one, which the agent's loop wakes for.
import { createKey, renewalTime } from '../../shared/pki/x509.ts';
import { CLUSTER_CA_PATHS, SERVICE_ACCOUNT_PATHS, kindsForRoles, type CertKind, type ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { RENEW_WINDOW } from '../../shared/constants.ts';
import { applyFiles, type AppliedFile } from '../apply/apply.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { AssignmentOut } from '../../shared/wire/types.ts';
import { readPkiOnDisk } from './on-disk.ts';
import { inRenewalWindow, type NodeNames } from './checks.ts';
import { PkiVerdicts } from './verdicts.ts';
import { requestCertificates, type IssueFn } from './issue.ts';
import { renderPkiFiles } from './files.ts';
import { ClusterPkiError } from './errors.ts';
import { pkiHashes } from './hashes.ts';

/** Components that read the service-account pair (kube-apiserver verifies, the controller-manager signs). */
const SERVICE_ACCOUNT_USERS = ['kube-apiserver', 'kube-controller-manager'] as const;

/** A second call only when the first one's CA bundle no longer vouches for a certificate kept. */
const MAX_CALLS = 2;

export interface ClusterCertificatesOptions {
  root: string;
  log: Logger;
  clock?: () => number;
  /** Where in the renewal window (0..1) each certificate renews. @default Math.random */
  random?: () => number;
}

export interface EnsureResult {
  /** Every PKI file of the node, with whether this pass changed it (paths absolute on the node). */
  files: AppliedFile[];
  /** Kinds whose certificate, key or kubeconfig changed. */
  changedKinds: string[];
  /** Components to restart for what changed (catalogue `usedBy`, CA bundle and SA users). */
  restart: string[];
  /** Earliest renewal point of the node's certificates; Infinity when it holds none. */
  renewAt: number;
  /** How many IssueCertificates calls this pass made (0 when nothing was due). */
  calls: number;
  /** SHA-256 of each held certificate, by kind: static pods carry them, so a new one restarts the pod. */
  certHashes: Record<string, string>;
}

export class ClusterCertificates {
  readonly #o: Required<ClusterCertificatesOptions>;
  /**
   * The random draw (a fraction of RENEW_WINDOW) per issue time (notBefore): certificates issued
   * together share one, so a node's renewal round falls at one uniform point of the window, not
   * at the earliest of its certificates' draws (of fourteen on an etcd + master node: nearly
   * always in the window's first tenth).
   */
  #drawByIssue = new Map<number, number>();
  #renewAt = Infinity;
  /** Checks of the files' bytes, kept by their hash from one pass to the next (verdicts.ts). */
  readonly #verdicts = new PkiVerdicts();

  constructor(o: ClusterCertificatesOptions) {
    this.#o = { ...o, clock: o.clock ?? Date.now, random: o.random ?? Math.random };
  }

  /** Earliest renewal point found by the last successful `ensure`. */
  get renewAt(): number {
    return this.#renewAt;
  }

  #renewAtOf = (certPem: string): number => {
    const c = this.#verdicts.certInfo(certPem);
    const issued = c.notBefore.getTime();
    let draw = this.#drawByIssue.get(issued);
    if (draw === undefined) this.#drawByIssue.set(issued, (draw = this.#o.random()));
    return renewalTime(c.notBefore, c.notAfter, RENEW_WINDOW, () => draw);
  };

  async ensure(a: AssignmentOut, issue: IssueFn): Promise<EnsureResult> {
    const kinds = kindsForRoles(a.roles);
    if (!kinds.length) {
      this.#renewAt = Infinity;
      return { files: [], changedKinds: [], restart: [], renewAt: Infinity, calls: 0, certHashes: {} };
    }
    const { root, log } = this.#o;
    const v = this.#verdicts;
    v.startPass();
    const names: NodeNames = { nodeName: a.node_name, addresses: a.node_ip ? [a.node_ip] : [] };
    const master = a.roles.includes('master');
    const disk = await readPkiOnDisk(root, kinds);

    // Keys first: made here, written before the CSR leaves, so a certificate on disk always has
    // its key on disk too (a crash after the call costs one more call, never a lost key).
    const keys = new Map<string, string>();
    const newKeys: CertKind[] = [];
    for (const k of kinds) {
      const held = disk.kinds.get(k.kind)!.keyPem;
      if (v.usableKey(held)) keys.set(k.kind, held!);
      else {
        if (held) log.warn(`/${k.keyPath} is not an ECDSA P-256 private key; making a new one for ${k.kind}`);
        keys.set(k.kind, await createKey());
        newKeys.push(k);
      }
    }
    const keyFiles = await applyFiles(root, newKeys.map((k) => ({ path: `/${k.keyPath}`, mode: 0o600, content: keys.get(k.kind)! })));

    const certs = new Map<string, string>();
    for (const k of kinds) {
      const pem = disk.kinds.get(k.kind)!.certPem;
      if (pem) certs.set(k.kind, pem);
    }
    const cas = { ...disk.cas };
    let serviceAccount = v.usableServiceAccount(disk.serviceAccount.privatePem, disk.serviceAccount.publicPem)
      ? { privatePem: disk.serviceAccount.privatePem!, publicPem: disk.serviceAccount.publicPem! }
      : null;

    // The assignment's target: which CAs each bundle holds and which CA signs (a CA rotation
    // moves them stage by stage), and the operator's renewal request. A call's answer carries
    // the coordinator's current target, which may be newer: from then on that one counts.
    let target = a.pki;
    const caKinds = [...new Set(kinds.map((k) => k.ca))];
    let calls = 0;
    for (;;) {
      const now = this.#o.clock();
      const due: { kind: CertKind; why: string }[] = [];
      for (const k of kinds) {
        const t = target?.cas?.[k.ca];
        const why = v.certificateProblem({
          kind: k,
          keyPem: keys.get(k.kind)!,
          certPem: certs.get(k.kind) ?? null,
          caBundlePem: cas[k.ca],
          names,
          now,
          renewAt: this.#renewAtOf,
          signerFingerprint: t?.signer,
          renewBeforeMs: Number(target?.renew_before_ms ?? 0),
        });
        if (why) due.push({ kind: k, why });
      }
      // Bundles are checked against the assignment before the first call only: the answer's
      // bundles are the coordinator's truth of that moment.
      const staleBundles = calls ? [] : caKinds.flatMap((ca) => {
        const why = v.bundleProblem(cas[ca], target?.cas?.[ca]?.bundle);
        return why ? [`the ${ca} CA bundle (${why})`] : [];
      });
      const needServiceAccount = master && !serviceAccount;
      if (!due.length && !needServiceAccount && !staleBundles.length) break;
      if (calls >= MAX_CALLS) {
        throw new ClusterPkiError(
          due.map((d) => d.kind.kind),
          `the certificates the coordinator issued are still not right for this node: ${due.map((d) => `${d.kind.kind} (${d.why})`).join(', ')}`,
        );
      }
      // A call is made: every certificate already in its renewal window goes with it. On the
      // first call only: a second corrects what the first answer got wrong, and renewing the
      // certificates it just brought (past 70% already to a clock far ahead) would loop on them.
      if (!calls) {
        for (const k of kinds) {
          const pem = certs.get(k.kind);
          if (!pem || due.some((d) => d.kind === k)) continue;
          const c = v.certInfo(pem);
          if (inRenewalWindow(c.notBefore, c.notAfter, now, RENEW_WINDOW[0])) due.push({ kind: k, why: `renewed with the others: past ${Math.round(RENEW_WINDOW[0] * 100)}% of its lifetime, expires ${c.notAfter.toISOString()}` });
        }
      }
      log.info(`requesting cluster certificates: ${due.map((d) => `${d.kind.kind} (${d.why})`).join(', ') || 'none'}${needServiceAccount ? '; the service-account key pair (missing)' : ''}${staleBundles.length ? `; ${staleBundles.join(', ')}` : ''}`);
      const got = await requestCertificates({ wanted: due.map((d) => d.kind), keys, nodeName: a.node_name, master, issue });
      calls++;
      if (got.target) target = got.target;
      for (const [kind, pem] of got.certs) certs.set(kind, pem);
      // The coordinator's bundle is the truth (it may be mid-rotation); keep ours only for a CA it left out.
      for (const ca of Object.keys(cas) as ClusterCaKind[]) cas[ca] = got.cas[ca] ?? cas[ca];
      if (got.serviceAccount) serviceAccount = got.serviceAccount;
    }

    const rendered = renderPkiFiles({ kinds, keys, certs, cas, serviceAccount: master ? serviceAccount : null, clusterName: a.cluster_name, apiServerEndpoint: a.api_server_endpoint });
    if (rendered.pending.length) log.info(`not writing ${rendered.pending.join(', ')} yet: the assignment names no API server endpoint (no master known yet)`);
    const written = await applyFiles(root, rendered.files);
    // A new key was written before the call; the second write of the same bytes says unchanged.
    const newKeyPaths = new Set(keyFiles.filter((f) => f.changed).map((f) => f.path));
    const files = written.map((f) => ({ path: f.path, changed: f.changed || newKeyPaths.has(f.path) }));
    const changed = (path: string) => files.some((f) => f.changed && f.path === `/${path}`);
    const changedKinds = kinds.filter((k) => [k.keyPath, k.certPath, k.kubeconfig?.path].some((p) => p !== undefined && changed(p))).map((k) => k.kind);
    const restart = new Set<string>();
    for (const k of kinds) {
      const caChanged = changed(CLUSTER_CA_PATHS[k.ca]);
      if (caChanged || changedKinds.includes(k.kind)) k.usedBy.forEach((c) => restart.add(c));
    }
    if (master && (changed(SERVICE_ACCOUNT_PATHS.privateKey) || changed(SERVICE_ACCOUNT_PATHS.publicKey))) SERVICE_ACCOUNT_USERS.forEach((c) => restart.add(c));

    // Forget the draws of issues no longer held, then find the earliest renewal point.
    const issues = new Set([...certs.values()].map((pem) => v.certInfo(pem).notBefore.getTime()));
    for (const t of this.#drawByIssue.keys()) if (!issues.has(t)) this.#drawByIssue.delete(t);
    this.#renewAt = Math.min(...[...certs.values()].map(this.#renewAtOf));
    if (changedKinds.length) log.info(`cluster certificates changed: ${changedKinds.join(', ')}; next renewal ${new Date(this.#renewAt).toISOString()}`);
    const certHashes = pkiHashes({ certs, keys, cas: Object.fromEntries(caKinds.map((c) => [c, cas[c]])), serviceAccount: master ? serviceAccount : null });
    return { files, changedKinds, restart: [...restart].sort(), renewAt: this.#renewAt, calls, certHashes };
  }
}
