// The node's side of the cluster PKI (Kubernetes, etcd, front-proxy certificates): keys made
// here, one IssueCertificates call for what is missing, wrong or due, files written atomically.
export { ClusterCertificates, type ClusterCertificatesOptions, type EnsureResult } from './cluster-certificates.ts';
export type { IssueFn } from './issue.ts';
export { ClusterPkiError } from './errors.ts';
