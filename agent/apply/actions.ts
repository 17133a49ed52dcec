// What a change set sets off, in the order a node needs it: reload systemd once if any unit
// changed, enable the units, load sysctls and modules, then restart services -- the container
// runtime before the kubelet before kube-proxy. Pure: the triggers of the changed files in, the
// list of actions out; services.ts runs them.
import type { FileSpec, Trigger } from '../../shared/render/types.ts';

export type Action =
  | { kind: 'daemon-reload' }
  | { kind: 'enable'; unit: string }
  | { kind: 'sysctl' }
  | { kind: 'modules' }
  | { kind: 'restart'; unit: string };

/** Restart order; units not listed go after these, by name. */
const RESTART_ORDER = ['containerd.service', 'docker.service', 'cri-docker.socket', 'cri-docker.service', 'kubelet.service', 'kube-proxy.service'];

function rank(unit: string): number {
  const i = RESTART_ORDER.indexOf(unit);
  return i < 0 ? RESTART_ORDER.length : i;
}

export function actionsFor(changed: readonly FileSpec[], extraRestarts: readonly string[] = []): Action[] {
  const triggers: Trigger[] = changed.flatMap((f) => f.triggers ?? []);
  const units = new Set(triggers.filter((t) => t.kind === 'unit').map((t) => (t as { unit: string }).unit));
  const restarts = new Set([...triggers.filter((t) => t.kind === 'restart').map((t) => (t as { unit: string }).unit), ...extraRestarts]);
  const out: Action[] = [];
  if (units.size) out.push({ kind: 'daemon-reload' });
  for (const u of [...units].sort()) out.push({ kind: 'enable', unit: u });
  if (triggers.some((t) => t.kind === 'sysctl')) out.push({ kind: 'sysctl' });
  if (triggers.some((t) => t.kind === 'modules')) out.push({ kind: 'modules' });
  for (const u of [...restarts].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) out.push({ kind: 'restart', unit: u });
  return out;
}

export function describeAction(a: Action): string {
  switch (a.kind) {
    case 'daemon-reload':
      return 'systemctl daemon-reload';
    case 'enable':
      return `systemctl enable ${a.unit}`;
    case 'sysctl':
      return 'sysctl --system';
    case 'modules':
      return 'systemctl restart systemd-modules-load.service';
    case 'restart':
      return `systemctl restart ${a.unit}`;
  }
}
