// containerd's per-registry hosts.toml files (docs/hosts.md), under config_path:
// - docker.io/hosts.toml when the plan names Docker Hub mirrors: the mirrors are tried in order,
//   then Docker Hub itself (`server`), as dockerd does with registry-mirrors;
// - <host[:port]>/hosts.toml per insecure registry: `server = "http://..."` with skip_verify.
//   An http host with a TLS setting makes containerd try HTTPS first without verifying the
//   certificate and fall back to plain HTTP (core/remotes/docker/config/hosts.go), which is what
//   dockerd's insecure-registries means. containerd 1.6 and older try only HTTP.
import type { RenderContext } from '../context.ts';
import type { FileSpec } from '../types.ts';
import { hashHeader } from '../header.ts';
import { tomlString, tomlStringArray } from './toml.ts';
import { isInsecure, mirrorHost, mirrorUrl } from './registries.ts';

export const CERTS_D = '/etc/containerd/certs.d';
/** host[:port]: the one directory level below certs.d a registry's hosts.toml sits in. */
const REGISTRY_DIR = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/;

function hostsFile(server: string, hosts: { url: string; capabilities: string[]; skipVerify: boolean }[]): string {
  let out = `${hashHeader()}server = ${tomlString(server)}\n`;
  for (const h of hosts) {
    out += `\n[host.${tomlString(h.url)}]\n  capabilities = ${tomlStringArray(h.capabilities)}\n`;
    if (h.skipVerify) out += '  skip_verify = true\n';
  }
  return out;
}

export function renderRegistryHosts(ctx: RenderContext): FileSpec[] {
  const rt = ctx.runtime;
  const files: FileSpec[] = [];
  if (rt.registryMirrors.length) {
    const mirrors = rt.registryMirrors.map((m) => ({
      url: mirrorUrl(m),
      // A mirror may serve tags too; pull + resolve is dockerd's registry-mirrors behaviour.
      capabilities: ['pull', 'resolve'],
      skipVerify: isInsecure(mirrorHost(m), rt.insecureRegistries),
    }));
    files.push({ path: `${CERTS_D}/docker.io/hosts.toml`, mode: 0o644, content: hostsFile('https://registry-1.docker.io', mirrors) });
  }
  const seen = new Set<string>(['docker.io']);
  for (const reg of [...rt.insecureRegistries].sort()) {
    const host = reg.toLowerCase();
    if (seen.has(host)) continue;
    // Plan validation admits only host[:port]; anything else here ("a/../../x") would put a file
    // outside certs.d, so it is a muster bug and fails the render rather than the node.
    if (!REGISTRY_DIR.test(host)) throw new Error(`insecure registry ${JSON.stringify(reg)} is not a registry host[:port]`);
    seen.add(host);
    const url = `http://${host}`;
    files.push({
      path: `${CERTS_D}/${host}/hosts.toml`,
      mode: 0o644,
      content: hostsFile(url, [{ url, capabilities: ['pull', 'resolve', 'push'], skipVerify: true }]),
    });
  }
  return files;
}
