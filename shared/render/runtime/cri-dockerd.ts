// cri-dockerd's service and socket: Kubernetes talks to docker only through it (dockershim left
// the kubelet in 1.24). systemd listens on the CRI socket and hands it to cri-dockerd
// (`--container-runtime-endpoint fd://`), as in cri-dockerd's own packaging, so the kubelet can
// connect before cri-dockerd has finished starting.
import type { RenderContext } from '../context.ts';
import type { FileSpec } from '../types.ts';
import { hashHeader } from '../header.ts';
import { execLine } from './systemd.ts';

export const CRI_DOCKERD_BINARY = '/usr/local/bin/cri-dockerd';
export const CRI_DOCKERD_UNITS = { service: 'cri-docker.service', socket: 'cri-docker.socket' } as const;
const UNIT_DIR = '/etc/systemd/system';

/** The socket path of a unix:// CRI endpoint. */
export function socketPath(endpoint: string): string {
  return endpoint.replace(/^unix:\/\//, '');
}

export function criDockerdArgs(ctx: RenderContext): string[] {
  return [
    '--container-runtime-endpoint', 'fd://',
    // The sandbox image from the plan's repository: an air-gapped node never falls back to a
    // public registry for it.
    `--pod-infra-container-image=${ctx.images.pause}`,
    '--network-plugin=cni',
  ];
}

export function renderCriDockerd(ctx: RenderContext): FileSpec[] {
  const { service, socket } = CRI_DOCKERD_UNITS;
  const serviceUnit = `${hashHeader()}[Unit]
Description=CRI interface for docker (cri-dockerd)
Documentation=https://mirantis.github.io/cri-dockerd/
After=network-online.target docker.service
Wants=network-online.target
Requires=docker.service ${socket}
StartLimitIntervalSec=60
StartLimitBurst=3

[Service]
Type=notify
ExecStart=${execLine(CRI_DOCKERD_BINARY, criDockerdArgs(ctx))}
ExecReload=/bin/kill -s HUP $MAINPID
Restart=always
RestartSec=2
TimeoutSec=0
# cri-dockerd creates the pods' cgroups through docker; it needs delegation and must not take
# the pods down when it restarts.
Delegate=yes
KillMode=process
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
`;
  const socketUnit = `${hashHeader()}[Unit]
Description=CRI socket of cri-dockerd
PartOf=${service}

[Socket]
ListenStream=${socketPath(ctx.runtime.criEndpoint)}
SocketMode=0660
SocketUser=root
SocketGroup=root

[Install]
WantedBy=sockets.target
`;
  return [
    { path: `${UNIT_DIR}/${socket}`, mode: 0o644, content: socketUnit, triggers: [{ kind: 'unit', unit: socket }, { kind: 'restart', unit: socket }] },
    { path: `${UNIT_DIR}/${service}`, mode: 0o644, content: serviceUnit, triggers: [{ kind: 'unit', unit: service }, { kind: 'restart', unit: service }] },
  ];
}
