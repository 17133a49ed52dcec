// Kubernetes versions: the form a plan writes them in (vX.Y.Z, optionally -pre), the minors
// muster supports, and the comparisons the plan-change checks need (downgrade, skew).
export interface KubernetesVersion {
  major: number;
  minor: number;
  patch: number;
  /** "" for a release; "rc.1" for v1.36.0-rc.1. */
  pre: string;
}

const VERSION = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?$/;

/**
 * The minors muster renders configuration for. Kubernetes supports the newest three minors;
 * muster follows it, so the range moves with the default (REFERENCE.md: v1.36 is the newest
 * stable minor). Older control planes use flags and manifests muster does not write.
 */
export const SUPPORTED_MINORS = { major: 1, oldest: 34, newest: 36 } as const;

/** "v1.34 to v1.36": how messages name the range. */
export const SUPPORTED_RANGE = `v${SUPPORTED_MINORS.major}.${SUPPORTED_MINORS.oldest} to v${SUPPORTED_MINORS.major}.${SUPPORTED_MINORS.newest}`;

export function parseKubernetesVersion(v: string): KubernetesVersion | null {
  const m = VERSION.exec(v);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ?? '' } : null;
}

export function isSupportedVersion(v: KubernetesVersion): boolean {
  return v.major === SUPPORTED_MINORS.major && v.minor >= SUPPORTED_MINORS.oldest && v.minor <= SUPPORTED_MINORS.newest;
}

/** <0, 0, >0 as a is older, the same, newer than b. A pre-release sorts before its release. */
export function compareVersions(a: KubernetesVersion, b: KubernetesVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch || (a.pre === b.pre ? 0 : a.pre === '' ? 1 : b.pre === '' ? -1 : a.pre < b.pre ? -1 : 1);
}
