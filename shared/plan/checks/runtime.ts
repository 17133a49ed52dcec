// The container runtime and image settings: a containerd release line muster renders a config
// for (1.7: config.toml version 2; 2.x: version 3), registry names that are host[:port][/path],
// and an air-gapped plan that mirrors one set of images but would still pull the other from a
// public registry.
import { defineCheck } from './check.ts';
import { DEFAULT_IMAGE_REPOSITORIES } from '../schema.ts';

const CONTAINERD_LINE = /^(1\.7|2\.\d+)(\.\d+)?$/;
/** host[:port][/path], no scheme: what a container image reference starts with. */
const REPOSITORY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9._-]+)*$/i;

export const runtimeCheck = defineCheck('container-runtime', (ctx, r) => {
  const rt = ctx.plan.container_runtime;
  if (rt.type === 'containerd' && !CONTAINERD_LINE.test(rt.version)) {
    r.error('container_runtime.version', `containerd "${rt.version}" is not a release line muster renders a configuration for`, 'write 2.1 (config.toml version 3) or 1.7 (version 2), or leave it out for 2.1');
  }
  if (rt.type === 'docker' && rt.version) r.warning('container_runtime.version', `version "${rt.version}" is ignored for docker (it picks containerd's config schema)`, 'remove container_runtime.version');
  for (const [i, reg] of rt.insecure_registries.entries()) {
    if (!REPOSITORY.test(reg)) r.error(`container_runtime.insecure_registries[${i}]`, `"${reg}" is not a registry host[:port]`, 'write it without a scheme, e.g. registry.local:5000');
  }
});

export const imagesCheck = defineCheck('images', (ctx, r) => {
  const im = ctx.plan.cluster.images;
  let valid = true;
  for (const key of ['kubernetes', 'calico'] as const) {
    if (!REPOSITORY.test(im[key])) valid = false;
    if (!REPOSITORY.test(im[key])) r.error(`cluster.images.${key}`, `"${im[key]}" is not an image repository (host[:port][/path])`, `write e.g. ${DEFAULT_IMAGE_REPOSITORIES[key]} or your mirror, without https://`);
  }
  const mirrored = (['kubernetes', 'calico'] as const).filter((k) => im[k] !== DEFAULT_IMAGE_REPOSITORIES[k]);
  if (valid && mirrored.length === 1) {
    const pub = mirrored[0] === 'kubernetes' ? 'calico' : 'kubernetes';
    r.warning(`cluster.images.${pub}`, `the ${mirrored[0]} images come from ${im[mirrored[0]!]}, but the ${pub} images still from the public ${im[pub]}`, `set cluster.images.${pub} to your mirror too if nodes cannot reach ${im[pub]}`);
  }
});
