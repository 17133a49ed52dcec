// One IssueCertificates call: a CSR per kind for the key the node holds, then a check of the
// answer before any of it is written -- each certificate is for the key we sent, the CA bundle
// vouches for it, and a master got the service-account pair. A coordinator that answers wrongly
// gets a clear error, not files on disk that would fail later inside kubelet or etcd.
import { createCsr } from '../../shared/pki/x509.ts';
import { publicKeyId, certInfo } from '../../shared/pki/x509.ts';
import type { CertKind, ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { errorMessage } from '../../shared/errors/index.ts';
import type { IssueCertificatesRequest } from '../../proto/gen/types/muster/v1/IssueCertificatesRequest.ts';
import type { IssueCertificatesResponse__Output } from '../../proto/gen/types/muster/v1/IssueCertificatesResponse.ts';
import type { PkiTarget__Output } from '../../proto/gen/types/muster/v1/PkiTarget.ts';
import { usableServiceAccount } from './checks.ts';
import { splitBundle } from '../../shared/pki/bundle.ts';
import { ClusterPkiError } from './errors.ts';

/** The call itself, over the agent's authenticated channel (the agent adds its retries). */
export type IssueFn = (req: IssueCertificatesRequest) => Promise<IssueCertificatesResponse__Output>;

export interface Issued {
  certs: Map<string, string>;
  cas: Record<ClusterCaKind, string | null>;
  serviceAccount: { privatePem: string; publicPem: string } | null;
  /** The target the coordinator signed for (it may be newer than the agent's assignment). */
  target: PkiTarget__Output | null;
}

export async function requestCertificates(o: {
  wanted: readonly CertKind[];
  keys: ReadonlyMap<string, string>;
  nodeName: string;
  master: boolean;
  issue: IssueFn;
}): Promise<Issued> {
  const kinds = o.wanted.map((k) => k.kind);
  const requests = [];
  for (const k of o.wanted) requests.push({ kind: k.kind, csr_pem: (await createCsr(k.cn(o.nodeName), o.keys.get(k.kind)!)).csrPem });
  let res: IssueCertificatesResponse__Output;
  try {
    res = await o.issue({ requests });
  } catch (err) {
    throw new ClusterPkiError(kinds, `the coordinator did not issue the cluster certificates ${kinds.join(', ') || '(CA bundle only)'}: ${errorMessage(err)}`, { cause: err });
  }
  const bad = (kind: string, why: string) => new ClusterPkiError([kind], `the coordinator's answer for ${kind} is unusable: ${why}`);
  const cas: Issued['cas'] = { kubernetes: res.cas?.kubernetes || null, etcd: res.cas?.etcd || null, 'front-proxy': res.cas?.front_proxy || null };
  const certs = new Map<string, string>();
  for (const c of res.certificates) {
    const k = o.wanted.find((w) => w.kind === c.kind);
    if (!k) throw bad(c.kind, 'this kind was not requested');
    if (certs.has(c.kind)) throw bad(c.kind, 'it came twice');
    let keyId: string;
    try {
      keyId = certInfo(c.cert_pem).keyId;
    } catch (err) {
      throw bad(c.kind, `not a certificate (${errorMessage(err)})`);
    }
    if (keyId !== publicKeyId(o.keys.get(c.kind)!)) throw bad(c.kind, 'the certificate is not for the key the node sent');
    if (!cas[k.ca] || !splitBundle(cas[k.ca]!).length) throw bad(c.kind, `no ${k.ca} CA bundle came with it`);
    certs.set(c.kind, c.cert_pem);
  }
  const missing = kinds.filter((k) => !certs.has(k));
  if (missing.length) throw new ClusterPkiError(missing, `the coordinator's answer lacks the requested certificates ${missing.join(', ')}`);
  let serviceAccount: Issued['serviceAccount'] = null;
  if (o.master) {
    if (!usableServiceAccount(res.service_account_private_pem, res.service_account_public_pem)) {
      throw new ClusterPkiError(['service-account'], "the coordinator's answer lacks a usable service-account key pair, which every master needs");
    }
    serviceAccount = { privatePem: res.service_account_private_pem, publicPem: res.service_account_public_pem };
  }
  return { certs, cas, serviceAccount, target: res.pki ?? null };
}
