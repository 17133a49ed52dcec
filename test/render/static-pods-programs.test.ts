// The static pods' flags against the real programs of the built version (test/helpers/
// k8s-programs.ts): each component's `--help` lists every flag muster renders for it, and none of
// them as deprecated (the programs list deprecated flags with a "DEPRECATED" / "Deprecated" note).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';
import { renderNodeFiles } from '../../shared/render/index.ts';
import { K8S_VERSION, etcdProgram, k8sProgram } from '../helpers/k8s-programs.ts';
import { renderAssignment } from './fixtures.ts';

const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
/**
 * Deprecated flags muster renders on purpose, because kubeadm still does: kube-scheduler marks
 * --kubeconfig deprecated in favour of a KubeSchedulerConfiguration (--config with
 * clientConnection.kubeconfig), and kubeadm 1.36 still passes the flag. Any other deprecation fails.
 */
const DEPRECATED_AS_KUBEADM: Record<string, string[]> = { 'kube-scheduler': ['kubeconfig'] };
const program = (name: (typeof COMPONENTS)[number]) => (name === 'etcd' ? etcdProgram('etcd') : k8sProgram(name));

function help(path: string): string {
  try {
    return execFileSync(path, ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, maxBuffer: 8 << 20 });
  } catch (e) {
    // Some programs print their help to stderr or exit non-zero after it; the text is what counts.
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
}

/** The help entries by flag: the flag's line and its description, up to the next flag's line. */
function entries(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let flag = '';
  for (const line of text.split('\n')) {
    // "      --flag string   text" (Kubernetes) or "  --flag 'default'" (etcd); "-v, --v Level" too.
    const m = /^\s*(?:-\w, )?--([a-z0-9][a-z0-9-]*)(?=[\s=]|$)/.exec(line);
    if (m) out.set((flag = m[1]!), line);
    // A line at column 0 is a section heading ("Deprecated flags:", "Member:"): the entry ended.
    else if (!/^\s/.test(line)) flag = '';
    else if (flag) out.set(flag, `${out.get(flag)}\n${line}`);
  }
  return out;
}

test(`every flag of the static pods is one the ${K8S_VERSION} programs list in --help`, () => {
  const a = renderAssignment({ roles: ['etcd', 'master'], kubernetes_version: K8S_VERSION });
  const pods = renderNodeFiles({ assignment: a }).files.filter((f) => f.path.startsWith('/etc/kubernetes/manifests/')).map((f) => parse(f.content));
  assert.equal(pods.map((p) => p.metadata.name).sort(), [...COMPONENTS]);
  for (const pod of pods) {
    const [bin, ...args] = pod.spec.containers[0].command as string[];
    const known = entries(help(program(bin as (typeof COMPONENTS)[number])));
    assert.ok(known.size > 50, `${bin} printed its help (${known.size} flags read from it)`);
    const flags = args.map((arg) => arg.slice(2, arg.indexOf('=')));
    assert.equal(flags.filter((f) => !known.has(f)), [], `${bin} ${K8S_VERSION} knows every flag muster renders`);
    const deprecated = flags.filter((f) => /deprecated/i.test(known.get(f)!));
    assert.equal(deprecated, DEPRECATED_AS_KUBEADM[bin!] ?? [], `${bin} ${K8S_VERSION}: no rendered flag is deprecated but those kubeadm renders too`);
  }
});

test.run();
