// systemd units for the host daemons muster runs (kubelet, kube-proxy), built from a small
// description so every unit has the same shape and passes `systemd-analyze verify`.
import { hashHeader } from '../header.ts';
import { execArg } from '../runtime/systemd.ts';

/** Where the host daemons' binaries are expected (kubeadm's packages install them there). */
export const BIN = { kubelet: '/usr/bin/kubelet', kubeProxy: '/usr/bin/kube-proxy' } as const;

export interface UnitSpec {
  description: string;
  documentation: string;
  after: string[];
  wants: string[];
  execStart: string[];
}

/** ExecStart with one argument per continuation line: diffs of a flag change stay one line. Each is quoted for systemd. */
export function execStart(argv: readonly string[]): string {
  return argv.map((a, i) => (i === 0 ? execArg(a) : `    ${execArg(a)}`)).join(' \\\n');
}

export function renderUnit(u: UnitSpec): string {
  return `${hashHeader()}[Unit]
Description=${u.description}
Documentation=${u.documentation}
StartLimitIntervalSec=0
Wants=${u.wants.join(' ')}
After=${u.after.join(' ')}

[Service]
ExecStart=${execStart(u.execStart)}
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}
