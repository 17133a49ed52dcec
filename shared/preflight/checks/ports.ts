// Role ports must be free, or held by the component that should hold them (a re-run on a node
// that is already installed passes). Like Kismatic's inspector, a port held by anything else is
// an error that names the holder.
import type { Check, Finding } from '../types.ts';
import { notReported } from '../read.ts';
import { portsForRoles, processMatches } from '../role-ports.ts';

export const portsFreeCheck: Check = {
  name: 'ports-free',
  roles: 'all',
  description: 'the role\'s TCP ports are free or held by the expected component (etcd on 2379, ...)',
  run(ctx) {
    const ports = ctx.facts.ports;
    if (!ports) return [notReported('ports')];
    const listening = (ports.listening ?? []).filter((l) => (l.protocol ?? 'tcp').startsWith('tcp'));
    const out: Finding[] = [];
    for (const rp of portsForRoles(ctx.roles, ctx.plan.cluster.networking.type)) {
      const holders = listening.filter((l) => l.port === rp.port);
      if (holders.length === 0) continue;
      if (holders.some((h) => rp.processes.some((p) => processMatches(h.process ?? '', p)))) continue;
      const h = holders[0]!;
      const who = h.process ? `${h.process}${h.pid ? ` (pid ${h.pid})` : ''}` : `an unknown process${h.pid ? ` (pid ${h.pid})` : ''}`;
      out.push({
        severity: 'error',
        found: `TCP port ${rp.port} in use by ${who} on ${h.address || '*'}`,
        required: `port ${rp.port} free for ${rp.component}`,
        fix: h.process
          ? `stop ${h.process} or move it to another port`
          : `find the holder with "ss -ltnp 'sport = :${rp.port}'" and stop it or move it to another port`,
      });
    }
    return out;
  },
};
