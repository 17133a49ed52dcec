// One hash over the PKI files a static pod mounts, for its muster.io/certificates-hash annotation:
// when any of them is renewed the annotation changes, so the manifest changes and the kubelet
// restarts the pod (its file mounts still show the old inodes otherwise; see pod.ts).
//
// The render input's certificateHashes are keyed by catalogue kind (a kind's certificate, key and
// kubeconfig are one entry), "ca:<ca>" for a CA bundle and "service-account" for the SA key pair.
// A mounted file that is none of these (none today) is left out. Unknown hashes (a coordinator
// preview) count as empty, so the annotation is still present and stable.
import { createHash } from 'node:crypto';
import type { RenderContext } from '../context.ts';
import { CERT_KINDS, CLUSTER_CA_PATHS, SERVICE_ACCOUNT_PATHS, type ClusterCaKind } from '../../pki/catalogue.ts';

/** The certificateHashes key of a PKI file, by its absolute path on the node. */
export function hashKeyOf(path: string): string | undefined {
  const rel = path.replace(/^\/+/, '');
  const kind = CERT_KINDS.find((k) => k.certPath === rel || k.keyPath === rel || k.kubeconfig?.path === rel);
  if (kind) return kind.kind;
  const ca = (Object.keys(CLUSTER_CA_PATHS) as ClusterCaKind[]).find((c) => CLUSTER_CA_PATHS[c] === rel);
  if (ca) return `ca:${ca}`;
  if (rel === SERVICE_ACCOUNT_PATHS.privateKey || rel === SERVICE_ACCOUNT_PATHS.publicKey) return 'service-account';
  return undefined;
}

/** The keys a pod's mounted files stand for, sorted, without repeats. */
export function hashKeys(files: readonly string[]): string[] {
  return [...new Set(files.map(hashKeyOf).filter((k): k is string => k !== undefined))].sort();
}

export function certificatesHash(ctx: RenderContext, files: readonly string[]): string {
  const lines = hashKeys(files).map((k) => `${k}=${ctx.certificateHashes[k] ?? ''}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}
