// The kubelet as systemd would start it from what muster rendered: the argv of the effective
// ExecStart= (the drop-in's, after its clearing `ExecStart=`), read back with systemd's quoting
// rules rather than retyped, and every node path -- in the flags and in the KubeletConfiguration's
// path fields -- moved under a test node root, as the static pod runner does for pods' hostPaths.
import { posix } from 'node:path';
import { parse, stringify } from 'yaml';

const C_UNESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '"': '"' };

/** Splits one ExecStart= value into argv (systemd.service(5) "Command lines": quotes, C escapes, %% and $$). */
export function splitExecLine(value: string): string[] {
  const argv: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && /\s/.test(value[i]!)) i++;
    if (i >= value.length) break;
    let arg = '';
    if (value[i] === '"') {
      i++;
      while (i < value.length && value[i] !== '"') {
        if (value[i] === '\\') {
          const c = value[i + 1]!;
          if (c === 'x') {
            arg += String.fromCharCode(parseInt(value.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          arg += C_UNESCAPES[c] ?? c;
          i += 2;
          continue;
        }
        arg += value[i++];
      }
      if (value[i] !== '"') throw new Error(`ExecStart=: unterminated quote in ${JSON.stringify(value)}`);
      i++;
    } else {
      while (i < value.length && !/\s/.test(value[i]!)) arg += value[i++];
    }
    argv.push(arg.replace(/%%/g, '%').replace(/\$\$/g, '$'));
  }
  return argv;
}

/** The argv systemd runs for a service: the last ExecStart= of the unit then its drop-ins, an empty one clearing those before. */
export function effectiveExecStart(unitTexts: readonly string[]): string[] {
  let argv: string[] | null = null;
  for (const text of unitTexts) {
    // Continuation lines: a trailing backslash joins the next line.
    const lines = text.replace(/\\\n/g, ' ').split('\n');
    for (const line of lines) {
      const m = /^ExecStart=(.*)$/.exec(line);
      if (!m) continue;
      argv = m[1]!.trim() === '' ? null : splitExecLine(m[1]!);
    }
  }
  if (!argv) throw new Error('no ExecStart= left in the unit and its drop-ins');
  return argv;
}

/** A node path under the test root (a relative or non-path value is left alone). */
export function underRoot(root: string, nodePath: string): string {
  return nodePath.startsWith('/') ? posix.join(root, nodePath) : nodePath;
}

/** The kubelet flags whose value is a node path. */
const PATH_FLAGS = new Set(['--config', '--kubeconfig', '--bootstrap-kubeconfig', '--root-dir', '--cert-dir']);

export function mapFlags(root: string, flags: readonly string[]): string[] {
  return flags.map((f) => {
    const eq = f.indexOf('=');
    if (eq < 0 || !PATH_FLAGS.has(f.slice(0, eq))) return f;
    return `${f.slice(0, eq + 1)}${underRoot(root, f.slice(eq + 1))}`;
  });
}

/** KubeletConfiguration fields holding a node path (and the runtime endpoint, a unix:// URL of one). */
const CONFIG_PATH_FIELDS = ['staticPodPath', 'tlsCertFile', 'tlsPrivateKeyFile', 'podLogsDir', 'resolvConf'] as const;

export function mapKubeletConfig(root: string, yamlText: string): Record<string, unknown> {
  const cfg = parse(yamlText) as Record<string, unknown> & { authentication?: { x509?: { clientCAFile?: string } } };
  for (const k of CONFIG_PATH_FIELDS) if (typeof cfg[k] === 'string' && cfg[k]) cfg[k] = underRoot(root, cfg[k] as string);
  const x509 = cfg.authentication?.x509;
  if (x509?.clientCAFile) x509.clientCAFile = underRoot(root, x509.clientCAFile);
  for (const k of ['containerRuntimeEndpoint', 'imageServiceEndpoint'] as const) {
    const v = cfg[k];
    if (typeof v === 'string' && v.startsWith('unix://')) cfg[k] = `unix://${underRoot(root, v.slice('unix://'.length))}`;
  }
  return cfg;
}

export function kubeletConfigText(cfg: Record<string, unknown>): string {
  return stringify(cfg, { sortMapEntries: true });
}
