// docker's files: /etc/docker/daemon.json and a systemd drop-in for docker.service. Kubernetes
// reaches docker only through cri-dockerd (cri-dockerd.ts); these files make docker fit the
// kubelet (systemd cgroups, bounded logs) and the cluster's network mode.
import type { RenderContext } from '../context.ts';
import type { FileSpec } from '../types.ts';
import { hashHeader } from '../header.ts';
import { networkMode } from '../network/mode.ts';

export const DOCKER_PATHS = {
  daemonJson: '/etc/docker/daemon.json',
  dropIn: '/etc/systemd/system/docker.service.d/10-muster.conf',
} as const;

/**
 * Open files for dockerd and its containers. A number rather than `infinity`: moby dropped
 * `LimitNOFILE=infinity` from its unit (v25) because programs that loop over every possible file
 * descriptor crawl under it; 1048576 is the kernel's default nr_open and more than the seed's
 * DOCKER_NOFILE=1000000.
 */
export const DOCKER_NOFILE = 1048576;

/** The daemon.json object (keys sorted, so the bytes are stable). */
export function dockerDaemonConfig(ctx: RenderContext): Record<string, unknown> {
  const rt = ctx.runtime;
  const routed = networkMode(ctx) === 'routed';
  const cfg: Record<string, unknown> = {
    // The kubelet renders cgroupDriver: systemd; runtime and kubelet must agree.
    'exec-opts': ['native.cgroupdriver=systemd'],
    'log-driver': rt.logDriver,
    'log-opts': sorted(rt.logOpts),
    // Overlay: docker keeps its defaults. Pods do not use docker0 (cri-dockerd hands pods to CNI),
    // and Calico's IP pool does its own outgoing NAT, so docker's rules only serve plain `docker
    // run` containers. Routed: pod addresses are meant to be seen unchanged by the network, and
    // Calico (felix) programs the forwarding and NAT rules itself; docker's masquerade of its
    // bridge and the FORWARD DROP policy it sets when it manages iptables must not interfere, so
    // docker leaves iptables alone (the seed's advice for routed pod networks, seed 002).
    iptables: !routed,
    'ip-masq': !routed,
    // Containers outlive a dockerd restart. A plan change to any setting here restarts docker on
    // every node that gets it; without live-restore that restart stops every pod's containers on
    // the node (with it, the kubelet and cri-dockerd find them running when docker is back). A
    // restart is seconds; containers that log more than a pipe's buffer (64 KiB) meanwhile wait
    // for docker to read it. Swarm mode refuses live-restore; muster's nodes are not in a swarm.
    'live-restore': true,
  };
  if (rt.storageDriver) cfg['storage-driver'] = rt.storageDriver;
  const opts = Object.entries(rt.storageOpts).sort(([a], [b]) => cmp(a, b)).map(([k, v]) => `${k}=${v}`);
  if (opts.length) cfg['storage-opts'] = opts;
  if (rt.mtu > 0) cfg.mtu = rt.mtu;
  if (rt.registryMirrors.length) cfg['registry-mirrors'] = [...rt.registryMirrors];
  if (rt.insecureRegistries.length) cfg['insecure-registries'] = [...rt.insecureRegistries];
  return sorted(cfg);
}

export function renderDocker(ctx: RenderContext): FileSpec[] {
  const restart = { kind: 'restart', unit: 'docker.service' } as const;
  return [
    {
      // JSON has no comments, and dockerd refuses unknown keys, so daemon.json is the one file
      // without muster's managed notice; the drop-in next to docker.service carries it.
      path: DOCKER_PATHS.daemonJson,
      mode: 0o644,
      content: `${JSON.stringify(dockerDaemonConfig(ctx), null, 2)}\n`,
      triggers: [restart],
    },
    {
      path: DOCKER_PATHS.dropIn,
      mode: 0o644,
      content:
        hashHeader(`docker settings live in ${DOCKER_PATHS.daemonJson} (also muster's).`) +
        `[Service]\nLimitNOFILE=${DOCKER_NOFILE}\n`,
      triggers: [{ kind: 'unit', unit: 'docker.service' }, restart],
    },
  ];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sorted<T>(o: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => cmp(a, b)));
}
