// The container runtime and image settings: a containerd release line muster renders a config
// for (1.7: config.toml version 2; 2.x: version 3), registry names that are host[:port][/path],
// and an air-gapped plan that mirrors one set of images but would still pull the other from a
// public registry.
import { defineCheck } from './check.ts';
import { DEFAULT_IMAGE_REPOSITORIES } from '../schema.ts';
import { formatPath } from '../source.ts';

const CONTAINERD_LINE = /^(1\.7|2\.\d+)(\.\d+)?$/;
/** host[:port][/path], no scheme: what a container image reference starts with. */
const REPOSITORY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9._-]+)*$/i;
/** A path segment "." or "..": a repository path is not a file path, and containerd's hosts.toml lives at certs.d/<host>/. */
const DOT_SEGMENT = /\/\.{1,2}(\/|$)/;
/** host[:port], no path: one registry, which is also the name of its directory under certs.d. */
const REGISTRY_HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i;
/** Names of a docker log or storage driver, and the keys of their options. */
const DRIVER_WORD = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/i;

export function isRepository(text: string): boolean {
  return REPOSITORY.test(text) && !DOT_SEGMENT.test(text);
}

/** A Docker Hub mirror: an http(s) URL (or a bare host[:port], read as https) of a registry host. */
function mirrorProblem(text: string): string | null {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `has the scheme ${u.protocol.slice(0, -1)}, not http or https`;
  if (u.username || u.password || u.search || u.hash) return 'has credentials, a query or a fragment';
  const hostPath = url.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  if (!isRepository(hostPath)) return 'is not scheme://host[:port][/path] with a lowercase host';
  return null;
}

export const runtimeCheck = defineCheck('container-runtime', (ctx, r) => {
  const rt = ctx.plan.container_runtime;
  if (rt.type === 'containerd' && !CONTAINERD_LINE.test(rt.version)) {
    r.error('container_runtime.version', `containerd "${rt.version}" is not a release line muster renders a configuration for`, 'write 2.1 (config.toml version 3) or 1.7 (version 2), or leave it out for 2.1');
  }
  if (rt.type === 'docker' && rt.version) r.warning('container_runtime.version', `version "${rt.version}" is ignored for docker (it picks containerd's config schema)`, 'remove container_runtime.version');
  for (const [i, reg] of rt.insecure_registries.entries()) {
    if (!REGISTRY_HOST.test(reg)) r.error(`container_runtime.insecure_registries[${i}]`, `"${reg}" is not a registry host[:port]`, 'write it without a scheme, e.g. registry.local:5000');
  }
  for (const [i, m] of rt.registry_mirrors.entries()) {
    const problem = mirrorProblem(m);
    if (problem) r.error(`container_runtime.registry_mirrors[${i}]`, `"${m}" ${problem}`, 'write the URL of a Docker Hub mirror, e.g. https://mirror.local:5000');
  }
  for (const part of ['logs', 'storage'] as const) {
    const { driver, opts } = rt[part];
    if (driver && !DRIVER_WORD.test(driver)) r.error(`container_runtime.${part}.driver`, `"${driver}" is not a driver name`, `use letters, digits, ".", "_" and "-", e.g. ${part === 'logs' ? 'json-file' : 'overlay2'}`);
    for (const key of Object.keys(opts)) {
      if (!DRIVER_WORD.test(key)) r.error(formatPath(['container_runtime', part, 'opts', key]), `"${key}" is not an option name`, `use letters, digits, ".", "_" and "-", e.g. ${part === 'logs' ? 'max-size' : 'overlay2.size'}`);
    }
  }
});

export const imagesCheck = defineCheck('images', (ctx, r) => {
  const im = ctx.plan.cluster.images;
  let valid = true;
  for (const key of ['kubernetes', 'calico'] as const) {
    if (!isRepository(im[key])) valid = false;
    if (!isRepository(im[key])) r.error(`cluster.images.${key}`, `"${im[key]}" is not an image repository (host[:port][/path])`, `write e.g. ${DEFAULT_IMAGE_REPOSITORIES[key]} or your mirror, without https://`);
  }
  const mirrored = (['kubernetes', 'calico'] as const).filter((k) => im[k] !== DEFAULT_IMAGE_REPOSITORIES[k]);
  if (valid && mirrored.length === 1) {
    const pub = mirrored[0] === 'kubernetes' ? 'calico' : 'kubernetes';
    r.warning(`cluster.images.${pub}`, `the ${mirrored[0]} images come from ${im[mirrored[0]!]}, but the ${pub} images still from the public ${im[pub]}`, `set cluster.images.${pub} to your mirror too if nodes cannot reach ${im[pub]}`);
  }
});
