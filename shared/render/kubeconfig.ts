// A kubeconfig with everything embedded (kubeadm's /etc/kubernetes/*.conf shape): the cluster CA,
// the client certificate and its key as base64 data, one cluster, one user, one context that is
// current. Embedded rather than by path so one file is the whole credential: a component never
// reads a certificate from one renewal and a key from another. Pure; the caller writes it 0600.
import { stringify } from 'yaml';

export interface KubeconfigInput {
  clusterName: string;
  /** https://host:port of the API server. */
  server: string;
  /** PEM of the CA (or CA bundle) that signs the API server's certificate. */
  caPem: string;
  userName: string;
  certPem: string;
  keyPem: string;
}

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

export function renderKubeconfig(k: KubeconfigInput, header = '# Written by muster-agent; do not edit (it is rewritten when its certificate is renewed).'): string {
  const context = `${k.userName}@${k.clusterName}`;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: k.clusterName, cluster: { server: k.server, 'certificate-authority-data': b64(k.caPem) } }],
    users: [{ name: k.userName, user: { 'client-certificate-data': b64(k.certPem), 'client-key-data': b64(k.keyPem) } }],
    contexts: [{ name: context, context: { cluster: k.clusterName, user: k.userName } }],
    'current-context': context,
    preferences: {},
  };
  // lineWidth 0: base64 blobs stay on one line, as kubectl writes them.
  return `${header}\n${stringify(doc, { lineWidth: 0, sortMapEntries: false })}`;
}
