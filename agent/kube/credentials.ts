// A kubeconfig muster wrote (everything embedded, shared/render/kubeconfig.ts) read back as what an
// HTTPS client needs: the server URL, the CA bundle, the client certificate and key. Only the
// embedded shape is accepted: a kubeconfig that points at files is not one muster wrote.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { ConfigError } from '../../shared/errors/index.ts';

export interface KubeCredentials {
  server: string;
  ca: string;
  cert: string;
  key: string;
}

const b64 = (v: unknown, file: string, field: string): string => {
  if (typeof v !== 'string' || !v) throw new ConfigError(`${file}: ${field} is missing (muster writes kubeconfigs with embedded data; run muster-agent apply to rewrite it)`);
  return Buffer.from(v, 'base64').toString('utf8');
};

/** Parses kubeconfig text (its current context's cluster and user). `file` names it in errors. */
export function parseKubeconfig(text: string, file: string): KubeCredentials {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const doc: any = parse(text);
  const ctxName = doc?.['current-context'];
  const ctx = doc?.contexts?.find((c: { name: string }) => c.name === ctxName)?.context;
  if (!ctx) throw new ConfigError(`${file}: current-context "${ctxName}" names no context`);
  const cluster = doc.clusters?.find((c: { name: string }) => c.name === ctx.cluster)?.cluster;
  const user = doc.users?.find((u: { name: string }) => u.name === ctx.user)?.user;
  if (!cluster || !user) throw new ConfigError(`${file}: context "${ctxName}" names a cluster or user that is not in the file`);
  if (typeof cluster.server !== 'string' || !cluster.server.startsWith('https://')) throw new ConfigError(`${file}: clusters[].cluster.server must be an https:// URL (got ${JSON.stringify(cluster.server)})`);
  return {
    server: cluster.server,
    ca: b64(cluster['certificate-authority-data'], file, 'certificate-authority-data'),
    cert: b64(user['client-certificate-data'], file, 'client-certificate-data'),
    key: b64(user['client-key-data'], file, 'client-key-data'),
  };
}

export async function readKubeconfig(file: string): Promise<KubeCredentials> {
  return parseKubeconfig(await readFile(file, 'utf8'), file);
}
