// The files the cluster PKI puts on a node, as a pure function of what the node holds: every
// key (0600), certificate (0644), the CA bundles of the CAs its kinds use (0644), the
// service-account pair on masters (private 0600), and the kubeconfigs of the kinds that have one
// (0600: they embed a key). All of them every time: the atomic write skips unchanged bytes, and
// a key someone made readable gets its mode back.
import { renderKubeconfig } from '../../shared/render/kubeconfig.ts';
import { CLUSTER_CA_PATHS, SERVICE_ACCOUNT_PATHS, type CertKind, type ClusterCaKind } from '../../shared/pki/catalogue.ts';
import { PORTS } from '../../shared/constants.ts';
import type { FileSpec } from '../../shared/render/types.ts';

export interface PkiFilesInput {
  kinds: readonly CertKind[];
  keys: ReadonlyMap<string, string>;
  certs: ReadonlyMap<string, string>;
  cas: Readonly<Record<ClusterCaKind, string | null>>;
  serviceAccount: { privatePem: string; publicPem: string } | null;
  clusterName: string;
  /** host:port of the API server for kubeconfigs whose server is 'endpoint'. */
  apiServerEndpoint: string;
}

const abs = (p: string) => `/${p}`;

/** The API server a kubeconfig names; null while the assignment names none (no master known yet). */
export function apiServerUrl(server: 'endpoint' | 'local', endpoint: string): string | null {
  if (server === 'local') return `https://127.0.0.1:${PORTS.apiserver}`;
  return endpoint ? `https://${endpoint}` : null;
}

export interface PkiFiles {
  files: FileSpec[];
  /**
   * Kubeconfigs left out because the assignment names no API server yet (a worker that joined
   * before any master): the revision that names one brings them. Their certificates are written.
   */
  pending: string[];
}

export function renderPkiFiles(p: PkiFilesInput): PkiFiles {
  const files: FileSpec[] = [];
  const pending: string[] = [];
  for (const ca of [...new Set(p.kinds.map((k) => k.ca))]) {
    const pem = p.cas[ca];
    if (pem) files.push({ path: abs(CLUSTER_CA_PATHS[ca]), mode: 0o644, content: pem });
  }
  for (const k of p.kinds) {
    const keyPem = p.keys.get(k.kind)!;
    const certPem = p.certs.get(k.kind)!;
    files.push({ path: abs(k.keyPath), mode: 0o600, content: keyPem });
    files.push({ path: abs(k.certPath), mode: 0o644, content: certPem });
    const server = k.kubeconfig && apiServerUrl(k.kubeconfig.server, p.apiServerEndpoint);
    if (k.kubeconfig && !server) pending.push(abs(k.kubeconfig.path));
    if (k.kubeconfig && server) {
      const content = renderKubeconfig({
        clusterName: p.clusterName,
        server,
        caPem: p.cas.kubernetes ?? '',
        userName: k.kubeconfig.user,
        certPem,
        keyPem,
      });
      files.push({ path: abs(k.kubeconfig.path), mode: 0o600, content });
    }
  }
  if (p.serviceAccount) {
    files.push({ path: abs(SERVICE_ACCOUNT_PATHS.privateKey), mode: 0o600, content: p.serviceAccount.privatePem });
    files.push({ path: abs(SERVICE_ACCOUNT_PATHS.publicKey), mode: 0o644, content: p.serviceAccount.publicPem });
  }
  return { files, pending };
}
