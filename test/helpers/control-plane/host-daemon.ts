// A host daemon muster renders as a systemd unit (kube-proxy), run as a process of a test node:
// the ExecStart of the rendered unit, with each absolute path of its flags and of its config file
// mapped into the node root, as the static pod runner maps a pod's mounts. Besides that prefix,
// one setting differs, and is listed in NETNS_DEVIATIONS with why: what a test network namespace
// cannot do that the node's initial namespace can.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

/** The argv of a unit's ExecStart (continuation lines joined; no quoting used by these units). */
export function unitExecStart(unitText: string): string[] {
  const joined = unitText.replace(/\\\n/g, ' ');
  const line = joined.split('\n').find((l) => l.startsWith('ExecStart='));
  if (!line) throw new Error('the unit has no ExecStart');
  const argv = line.slice('ExecStart='.length).trim().split(/\s+/);
  if (argv.some((a) => /["'$%]/.test(a))) throw new Error(`ExecStart uses quoting or expansion this helper does not reproduce: ${line}`);
  return argv;
}

/**
 * nf_conntrack_max is global and writable only from the initial network namespace; kube-proxy
 * writes it when it differs from maxPerCore x CPUs and exits on the refusal. kind runs kube-proxy
 * with maxPerCore 0 (leave it alone) for the same reason. A real node runs kube-proxy in its
 * initial namespace, where muster's rendered value (the default) applies.
 */
export const NETNS_DEVIATIONS: Readonly<Record<string, unknown>> = { 'conntrack.maxPerCore': 0 };

const mapPath = (root: string, p: string) => (p.startsWith('/') ? join(root, p) : p);

/**
 * kube-proxy's rendered unit and config, ready to run under `root`: returns the args (without the
 * program) with --config pointing at a mapped copy of the config written to `outFile`.
 */
export function kubeProxyArgs(root: string, outFile: string): { program: string; args: string[]; config: Record<string, unknown> } {
  const [program, ...flags] = unitExecStart(readFileSync(join(root, 'etc/systemd/system/kube-proxy.service'), 'utf8'));
  const args: string[] = [];
  let config: Record<string, unknown> = {};
  for (const f of flags) {
    const m = /^--([^=]+)=(.*)$/.exec(f);
    if (!m) throw new Error(`kube-proxy flag ${f} is not --name=value`);
    if (m[1] === 'config') {
      config = parse(readFileSync(mapPath(root, m[2]!), 'utf8')) as Record<string, unknown>;
      const cc = config.clientConnection as { kubeconfig?: string } | undefined;
      if (cc?.kubeconfig) cc.kubeconfig = mapPath(root, cc.kubeconfig);
      if (config.conntrack !== undefined) throw new Error('the rendered kube-proxy config sets conntrack: NETNS_DEVIATIONS would override it; decide what the test should run');
      config.conntrack = { maxPerCore: NETNS_DEVIATIONS['conntrack.maxPerCore'] };
      writeFileSync(outFile, stringify(config));
      args.push(`--config=${outFile}`);
    } else if (m[2]!.startsWith('/')) {
      args.push(`--${m[1]}=${mapPath(root, m[2]!)}`);
    } else args.push(f);
  }
  return { program: program!, args, config };
}
