// The real Kubernetes programs and etcd, built from Go modules by test/install-k8s.sh into a cache
// outside the checkout (npm test's pretest runs it). The versions come from test/k8s/go.mod and
// test/etcd/go.mod, the one place that names them. A missing program fails the test with the
// command that builds it; it never skips silently.
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

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

/** e.g. "v1.36.3" */
export const K8S_VERSION = requiredVersion('k8s', 'k8s.io/kubernetes');
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

export function k8sProgram(name: K8sProgramName): string {
  return program(`k8s-${K8S_VERSION}`, name);
}

export function etcdProgram(name: EtcdProgramName): string {
  return program(`etcd-${ETCD_VERSION}`, name);
}
