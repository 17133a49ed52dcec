// The Kubernetes version: an exact release, vX.Y.Z (optionally with a pre-release suffix)
// (`version`), of a minor muster supports (`version-supported`). Two rules, so that
// `muster plan import` can convert a Kismatic plan whose only fault is its (always old) version.
import { defineCheck } from './check.ts';
import { DEFAULT_KUBERNETES_VERSION } from '../schema.ts';
import { SUPPORTED_RANGE, isSupportedVersion, parseKubernetesVersion } from '../k8s-version.ts';

export const versionCheck = defineCheck('version', (ctx, r) => {
  const v = ctx.plan.cluster.version;
  if (parseKubernetesVersion(v)) return;
  const fixed = `v${v}`;
  r.error('cluster.version', `"${v}" is not a Kubernetes version of the form vX.Y.Z`, parseKubernetesVersion(fixed) ? `write ${fixed}` : `write a full release such as ${DEFAULT_KUBERNETES_VERSION}`);
});

export const SUPPORTED_VERSION_RULE = 'version-supported';

export const supportedVersionCheck = defineCheck(SUPPORTED_VERSION_RULE, (ctx, r) => {
  const v = ctx.plan.cluster.version;
  const parsed = parseKubernetesVersion(v);
  if (!parsed || isSupportedVersion(parsed)) return;
  r.error('cluster.version', `Kubernetes ${v} is not supported: muster supports ${SUPPORTED_RANGE}`, `write a release from ${SUPPORTED_RANGE}, such as ${DEFAULT_KUBERNETES_VERSION}`);
});
