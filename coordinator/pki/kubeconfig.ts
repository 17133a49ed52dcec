// The operator's admin kubeconfig (`muster kubeconfig admin`), kubeadm's admin.conf shape: one
// cluster with the embedded Kubernetes CA, one user with the embedded client certificate and
// key, one context. Pure: the CLI writes it (0600, it is a credential).
import { stringify } from 'yaml';

export interface AdminKubeconfigInput {
  clusterName: string;
  /** https://host:port */
  server: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  /** @default "kubernetes-admin" */
  user?: string;
}

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

export function renderAdminKubeconfig(i: AdminKubeconfigInput): string {
  const user = i.user ?? 'kubernetes-admin';
  const context = `${user}@${i.clusterName}`;
  return stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: i.clusterName, cluster: { 'certificate-authority-data': b64(i.caPem), server: i.server } }],
      contexts: [{ name: context, context: { cluster: i.clusterName, user } }],
      'current-context': context,
      preferences: {},
      users: [{ name: user, user: { 'client-certificate-data': b64(i.certPem), 'client-key-data': b64(i.keyPem) } }],
    },
    { lineWidth: 0 },
  );
}
