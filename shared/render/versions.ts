// What depends on the Kubernetes minor a plan chooses: the images kubeadm pairs with it (tags
// from cmd/kubeadm/app/constants/constants.go of v1.34.4, v1.35.4 and v1.36.3: PauseVersion,
// CoreDNSVersion, SupportedEtcdVersion[minor]) and the supported range. One table, so a new minor
// is one row.
export const SUPPORTED_MINORS = [34, 35, 36] as const;
export type SupportedMinor = (typeof SUPPORTED_MINORS)[number];

export interface MinorRow {
  /** etcd image tag (registry.k8s.io/etcd:TAG). */
  etcd: string;
  /** pause (sandbox) image tag. */
  pause: string;
  coredns: string;
}

export const MINORS: Readonly<Record<SupportedMinor, MinorRow>> = {
  34: { etcd: '3.6.5-0', pause: '3.10.1', coredns: 'v1.12.1' },
  35: { etcd: '3.6.6-0', pause: '3.10.1', coredns: 'v1.13.1' },
  36: { etcd: '3.6.8-0', pause: '3.10.2', coredns: 'v1.14.2' },
};

export interface KubeVersion {
  major: number;
  minor: number;
  patch: number;
  /** "v1.36.3" */
  text: string;
}

const VERSION = /^v(\d+)\.(\d+)\.(\d+)/;

export function parseKubeVersion(text: string): KubeVersion | null {
  const m = VERSION.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text } : null;
}

/** The row for a version; outside the supported range, the nearest one (validation reports the range). */
export function minorRow(v: KubeVersion): MinorRow {
  const lo = SUPPORTED_MINORS[0];
  const hi = SUPPORTED_MINORS[SUPPORTED_MINORS.length - 1]!;
  const m = Math.min(hi, Math.max(lo, v.minor)) as SupportedMinor;
  return MINORS[m];
}
