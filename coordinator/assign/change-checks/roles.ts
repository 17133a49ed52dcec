// A node that installed a role runs its components (etcd member, API server, kubelet with pods):
// taking the role away tears them down under whatever runs there.
import { defineChangeCheck } from './check.ts';
import { listNames } from '../order.ts';

export const installedRolesCheck = defineChangeCheck('installed-roles', (ctx, refuse) => {
  const stripped: { name: string; roles: string[] }[] = [];
  for (const n of ctx.nodes) {
    if (!n.after) continue;
    const roles = n.installed.filter((r) => n.before.includes(r) && !n.after!.includes(r));
    if (roles.length) stripped.push({ name: n.name, roles });
  }
  if (!stripped.length) return;
  const what = listNames(stripped.map((s) => `${s.name} (${s.roles.join(', ')})`));
  refuse('roles', stripped.map((s) => s.name), `roles: the new plan takes installed roles from ${stripped.length} ${stripped.length === 1 ? 'node' : 'nodes'}: ${what}; what runs there would be torn down: keep ${stripped.length === 1 ? 'it' : 'them'} in the plan's groups (or pin roles with muster node assign NAME --role ...), or drain ${stripped.length === 1 ? 'it' : 'them'} and use --force`);
});
