// A Kismatic plan is accepted as it is; this says so once and points to `muster plan import`.
import { defineCheck } from './check.ts';

export const kismaticFormatCheck = defineCheck('kismatic-format', (ctx, r) => {
  if (ctx.format !== 'kismatic') return;
  r.warning('', 'this is a Kismatic plan: muster reads it, ignoring settings that have no meaning in muster', 'run "muster plan import FILE -o muster-cluster.yaml" to convert it and see what is left out');
});
