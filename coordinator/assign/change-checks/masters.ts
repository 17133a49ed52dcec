// The API server runs on masters: a plan that leaves none takes the cluster's control plane away.
import { defineChangeCheck, holding } from './check.ts';
import { listNames } from '../order.ts';

export const lastMasterCheck = defineChangeCheck('last-master', (ctx, refuse) => {
  const masters = holding(ctx, 'master');
  if (masters.length === 0) return;
  const m = ctx.next.master;
  const canHoldMaster = m.expected_count > 0 && (m.nodes.length > 0 || m.pool !== null);
  if (!canHoldMaster) {
    const why = m.expected_count <= 0 ? `master.expected_count is ${m.expected_count}` : 'master names no nodes and has no pool';
    refuse('master', masters, `master: ${why}, which takes the role from every current master (${listNames(masters)}) and leaves the cluster without an API server: keep at least one master, or use --force`);
    return;
  }
  // The group could hold masters, but the engine gives the role to none (nodes named that
  // never joined, a pool whose selector matches nothing).
  if (ctx.nodes.every((n) => n.after !== null && !n.after.includes('master'))) {
    refuse('master', masters, `master: under the new plan no node holds the master role (today: ${listNames(masters)}), which leaves the cluster without an API server: name a node that has joined under master.nodes, or use --force`);
  }
});
