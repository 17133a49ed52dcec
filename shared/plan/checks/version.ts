// The Kubernetes version must be an exact release, vX.Y.Z (optionally with a pre-release suffix).
import { defineCheck } from './check.ts';

const VERSION = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$/;

export const versionCheck = defineCheck('version', (ctx, r) => {
  const v = ctx.plan.cluster.version;
  if (VERSION.test(v)) return;
  const fixed = `v${v}`;
  r.error('cluster.version', `"${v}" is not a Kubernetes version of the form vX.Y.Z`, VERSION.test(fixed) ? `write ${fixed}` : 'write a full release such as v1.31.2');
});
