// The real Kubernetes programs and etcd, built from Go modules by test/install-k8s.sh into a cache
// outside the checkout (npm test's pretest runs it). The versions come from test/k8s/go.mod and
// test/etcd/go.mod, the one place that names them; test/k8s-1.35/go.mod names the previous minor
// (the upgrade path starts there). A missing program fails the test with the
// command that builds it; it never skips silently.
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_IMAGE_REPOSITORIES } from '../../shared/plan/schema.ts';
import type { ProgramTable } from './static-pod-spec.ts';

export type K8sProgramName = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubelet' | 'kube-proxy' | 'kubectl';
export type EtcdProgramName = 'etcd' | 'etcdctl';

export const K8S_PROGRAMS: readonly K8sProgramName[] = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'];
export const ETCD_PROGRAMS: readonly EtcdProgramName[] = ['etcd', 'etcdctl'];

/** The version a test/<dir>/go.mod requires of a module, as install-k8s.sh reads it. */
function requiredVersion(dir: string, module: string): string {
  const file = join(import.meta.dirname, '..', dir, 'go.mod');
  const escaped = module.replaceAll('.', '\\.');
  const m = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file} names no version of ${module}`);
  return m[1]!;
}

/** The plan's default version, e.g. "v1.36.3" */
export const K8S_VERSION = requiredVersion('k8s', 'k8s.io/kubernetes');
/** The previous minor, e.g. "v1.35.4" */
export const K8S_PREVIOUS_VERSION = requiredVersion('k8s-1.35', 'k8s.io/kubernetes');
/** Every version install-k8s.sh builds. */
export const K8S_VERSIONS: readonly string[] = [K8S_VERSION, K8S_PREVIOUS_VERSION];
/** e.g. "v3.6.16" */
export const ETCD_VERSION = requiredVersion('etcd', 'go.etcd.io/etcd/server/v3');

/** Where install-k8s.sh puts its builds; MUSTER_TOOL_CACHE moves it, as for the script. */
export function toolCache(): string {
  return process.env.MUSTER_TOOL_CACHE || join(homedir(), '.cache', 'muster-tools');
}

function program(dir: string, name: string): string {
  const path = join(toolCache(), dir, 'bin', name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${name} is not built at ${path}; build it with: bash test/install-k8s.sh (npm test does this through test/install-tools.sh; the first build takes minutes)`);
  }
  return path;
}

/** A program of a built version (default the plan's default); a version no module file names is refused. */
export function k8sProgram(name: K8sProgramName, version: string = K8S_VERSION): string {
  if (!K8S_VERSIONS.includes(version)) {
    throw new Error(`no test module file builds Kubernetes ${version} (built: ${K8S_VERSIONS.join(', ')}); add test/k8s-1.N/go.mod and list it in test/install-k8s.sh`);
  }
  return program(`k8s-${version}`, name);
}

/** The static pod images muster renders for a control plane, each to its built program of `version`. */
const CONTROL_PLANE_IMAGES: readonly K8sProgramName[] = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

/**
 * The programs the static pod runner needs for an assignment's manifests: the control-plane images
 * of its kubernetes_version (keyed "REPO/NAME:TAG", so a manifest still naming another version is
 * refused rather than run with the wrong program) and etcd (keyed by name: its image tag is
 * kubeadm's, e.g. 3.6.8-0, while the tests run the etcd test/etcd/go.mod names).
 */
export function programTableFor(a: { kubernetes_version: string; settings: { kubernetes_image_repository: string } | null }): ProgramTable {
  const repo = (a.settings?.kubernetes_image_repository || DEFAULT_IMAGE_REPOSITORIES.kubernetes).replace(/\/+$/, '');
  const table: Record<string, string> = { [`${repo}/etcd`]: etcdProgram('etcd') };
  for (const name of CONTROL_PLANE_IMAGES) table[`${repo}/${name}:${a.kubernetes_version}`] = k8sProgram(name, a.kubernetes_version);
  return table;
}

export function etcdProgram(name: EtcdProgramName): string {
  return program(`etcd-${ETCD_VERSION}`, name);
}
