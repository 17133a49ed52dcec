// The admin config file: where the admin CLI finds a coordinator and the credentials to call it
// (address, CA pin, CA, client certificate and key), like kubeadm's admin.conf. The coordinator
// writes its own into its data dir (0600); for another machine, `muster admin issue` makes one
// per operator (revocable; see coordinator/state/admins.ts), to put in its
// ~/.config/muster/admin.yaml (or pass --config).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { parse, stringify } from 'yaml';
import { writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import { ConfigError } from '../../shared/errors/index.ts';
import { COORDINATOR_DATA } from '../../shared/constants.ts';
import { caPin } from '../../shared/pki/x509.ts';

export interface AdminConfig {
  coordinator: string;
  ca_hash: string;
  ca_cert: string;
  client_cert: string;
  client_key: string;
}

export async function writeAdminConfig(path: string, cfg: AdminConfig): Promise<void> {
  const text =
    '# muster admin credentials: keep this file private (it grants full control of the coordinator).\n' +
    stringify(cfg, { lineWidth: 0 });
  await writeFileAtomic(path, text, { mode: 0o600 });
}

export function defaultAdminConfigPath(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'muster', 'admin.yaml');
}

export interface AdminConfigSource {
  /** --config FILE */
  config?: string;
  /** --data-dir DIR: use DIR/admin.yaml (on the coordinator host). */
  dataDir?: string;
  /** --coordinator HOST:PORT overrides the address in the file. */
  coordinator?: string;
  env: Record<string, string | undefined>;
}

export async function loadAdminConfig(src: AdminConfigSource): Promise<AdminConfig & { path: string }> {
  const path = src.config ?? src.env.MUSTER_CONFIG ?? (src.dataDir ? join(src.dataDir, COORDINATOR_DATA.adminConfig) : defaultAdminConfigPath(src.env));
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read admin config ${path}: ${(err as NodeJS.ErrnoException).code ?? err}; on the coordinator host pass --data-dir DIR, elsewhere copy DIR/${COORDINATOR_DATA.adminConfig} from it and pass --config FILE`,
    );
  }
  const raw = (parse(text) ?? {}) as Partial<AdminConfig>;
  for (const k of ['coordinator', 'ca_hash', 'ca_cert', 'client_cert', 'client_key'] as const) {
    if (typeof raw[k] !== 'string' || !raw[k]) throw new ConfigError(`admin config ${path}: field "${k}" is missing or not a string`);
  }
  const cfg = raw as AdminConfig;
  if (caPin(cfg.ca_cert) !== cfg.ca_hash) {
    throw new ConfigError(`admin config ${path}: ca_cert does not match ca_hash ${cfg.ca_hash}; the file was edited or mixed from two coordinators`);
  }
  return { ...cfg, coordinator: src.coordinator ?? src.env.MUSTER_COORDINATOR ?? cfg.coordinator, path };
}
