// A three-node control plane from what muster wrote, for end-to-end tests, the demo and the bench:
// the real coordinator and one real muster-agent per node, each in its own network namespace,
// the plan's load balancer a TCP proxy in a namespace of its own, and every static pod manifest
// an agent wrote run (test/helpers/control-plane/static-pods.ts) inside its node's namespace with
// the paths mapped into the node's root. The coordinator and agents run from the TypeScript
// sources, so a test runs the code of the checkout (no build step in between).
//
// bringUpControlPlane() returns once the etcd members and every API server are ready, with the
// time each phase took; teardown() stops everything and removes the namespaces, and runs on
// process exit too.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdProgram, k8sProgram } from '../k8s-programs.ts';
import type { ProgramTable } from '../static-pod-spec.ts';
import { createTestNetwork, type NetnsHost, type TestNetwork } from './network.ts';
import { execInNetns, spawnInNetns, type NsProcess } from './process.ts';
import { superviseStaticPods, type NodePods } from './static-pods.ts';

const REPO = new URL('../../../', import.meta.url).pathname;
const COORDINATOR_MAIN = join(REPO, 'coordinator/cli/main.ts');
const AGENT_MAIN = join(REPO, 'agent/cli/main.ts');
const TCP_PROXY = new URL('./tcp-proxy.ts', import.meta.url).pathname;

export const COORDINATOR_PORT = 7443;
export const APISERVER_PORT = 6443;

export interface ControlPlaneNode {
  readonly name: string;
  readonly roles: readonly ('etcd' | 'master' | 'worker')[];
  readonly host: NetnsHost;
  /** The node's / for its agent and its static pods. */
  readonly root: string;
  readonly stateDir: string;
  agent: NsProcess;
  readonly pods: NodePods;
}

export interface PhaseTimes {
  /** Coordinator start until every agent has joined (its node is known). */
  joinMs: number;
  /** Until every node holds its cluster certificates (kubeconfigs written). */
  certificatesMs: number;
  /** Until every node applied its assignment (manifests written). */
  renderApplyMs: number;
  /** Until every etcd member and API server is ready by its manifest's probes. */
  componentsMs: number;
  totalMs: number;
}

export interface ControlPlane {
  readonly dir: string;
  readonly net: TestNetwork;
  readonly coordinatorHost: NetnsHost;
  readonly lb: NetnsHost;
  /** https://LB:6443 */
  readonly apiServer: string;
  readonly dataDir: string;
  readonly planFile: string;
  readonly nodes: readonly ControlPlaneNode[];
  node(name: string): ControlPlaneNode;
  readonly masters: readonly ControlPlaneNode[];
  coordinator: NsProcess;
  readonly proxy: NsProcess;
  readonly times: PhaseTimes;
  /** `muster ARGS --data-dir DATA` inside the coordinator's namespace. */
  muster(args: readonly string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
  /** A program with the node's paths, inside a namespace (the coordinator's by default: an admin's machine). */
  exec(argv: readonly string[], o?: { ns?: string; timeoutMs?: number; input?: string }): Promise<{ stdout: string; stderr: string }>;
  /** kubectl with a kubeconfig, inside the coordinator's namespace (or `ns`). */
  kubectl(kubeconfig: string, args: readonly string[], o?: { ns?: string; timeoutMs?: number; input?: string }): Promise<{ stdout: string; stderr: string }>;
  /** The admin kubeconfig (`muster kubeconfig admin`), made once. */
  readonly adminKubeconfig: string;
  teardown(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Cluster name in the plan. @default cp */
  name?: string;
  /** Kubernetes version in the plan. @default v1.36.3 */
  version?: string;
  /** Progress lines (the demo prints them). */
  progress?: (line: string) => void;
  /** Static pod images to programs. @default controlPlanePrograms() (the default version's) */
  programs?: ProgramTable;
  /** Bound on the whole bring-up. @default 6 min */
  timeoutMs?: number;
}

const NODE_LAYOUT = [
  { name: 'node-1', octet: 11, roles: ['etcd', 'master'] },
  { name: 'node-2', octet: 12, roles: ['etcd', 'master'] },
  { name: 'node-3', octet: 13, roles: ['etcd', 'worker'] },
] as const;

export function controlPlanePlan(o: { name: string; version: string; nodes: { name: string; ip: string; roles: readonly string[] }[]; lb: string }): string {
  const group = (role: string) => {
    const ns = o.nodes.filter((n) => n.roles.includes(role));
    return `  expected_count: ${ns.length}\n  nodes:\n${ns.map((n) => `    - { host: ${n.name}, ip: ${n.ip} }`).join('\n')}`;
  };
  // Preflight is not under test here (the nodes are namespaces of one machine): ignore: [all].
  return `cluster:
  name: ${o.name}
  version: ${o.version}
  networking:
    pod_cidr_block: 172.16.0.0/16
    service_cidr_block: 172.17.0.0/16
  preflight:
    max_peer_latency_ms: 1000
    ignore: [all]
etcd:
${group('etcd')}
master:
  load_balancer: ${o.lb}:${APISERVER_PORT}
${group('master')}
worker:
${group('worker')}
`;
}

/** Static pod images to the built programs (the plan's default registry). */
export function controlPlanePrograms(): ProgramTable {
  return {
    'registry.k8s.io/etcd': etcdProgram('etcd'),
    'registry.k8s.io/kube-apiserver': k8sProgram('kube-apiserver'),
    'registry.k8s.io/kube-controller-manager': k8sProgram('kube-controller-manager'),
    'registry.k8s.io/kube-scheduler': k8sProgram('kube-scheduler'),
  };
}

async function until<T>(what: string, deadline: number, fn: () => T | undefined | false | Promise<T | undefined | false>, everyMs = 200): Promise<T> {
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`control plane: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function bringUpControlPlane(o: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const programs = o.programs ?? controlPlanePrograms();
  const kubectlBin = k8sProgram('kubectl');
  const progress = o.progress ?? (() => {});
  const deadline = Date.now() + (o.timeoutMs ?? 360_000);
  const dir = mkdtempSync(join(tmpdir(), 'muster-cp-'));
  const net = createTestNetwork({ coord: 2, lb: 3, ...Object.fromEntries(NODE_LAYOUT.map((n) => [n.name.replace('node-', 'n'), n.octet])) });
  const processes: NsProcess[] = [];
  const nodes: ControlPlaneNode[] = [];
  let torn = false;
  const teardown = async () => {
    if (torn) return;
    torn = true;
    process.off('exit', onExit);
    await Promise.all(nodes.map((n) => n.pods.stop().catch(() => {})));
    await Promise.all([...nodes.map((n) => n.agent), ...processes].map((p) => p.stop(5_000).catch(() => {})));
    net.teardown();
    if (!process.env.MUSTER_KEEP_CP_DIR) rmSync(dir, { recursive: true, force: true });
  };
  const onExit = () => net.teardown();
  process.on('exit', onExit);
  // Every process and pod adds its own kill-on-exit listener: a dozen are expected here.
  process.setMaxListeners(Math.max(process.getMaxListeners(), 64));
  try {
    const coordinatorHost = net.host('coord');
    const lb = net.host('lb');
    const dataDir = join(dir, 'coordinator');
    const planFile = join(dir, 'plan.yaml');
    const layout = NODE_LAYOUT.map((n) => ({ ...n, host: net.host(n.name.replace('node-', 'n')) }));
    writeFileSync(planFile, controlPlanePlan({ name: o.name ?? 'cp', version: o.version ?? 'v1.36.3', nodes: layout.map((n) => ({ name: n.name, ip: n.host.ip, roles: n.roles })), lb: lb.ip }));

    const t0 = Date.now();
    progress(`coordinator on ${coordinatorHost.ip}:${COORDINATOR_PORT} (netns ${coordinatorHost.ns})`);
    const coordinator = spawnInNetns(coordinatorHost.ns, 'coordinator', [process.execPath, COORDINATOR_MAIN, 'coordinator', 'serve', '--data-dir', dataDir, '--plan', planFile, '--listen', `${coordinatorHost.ip}:${COORDINATOR_PORT}`]);
    processes.push(coordinator);
    const join_ = await coordinator.waitForOutput(/muster-agent run --coordinator (\S+) --token (\S+) --ca-hash (\S+)/, 60_000);
    const [, coordAddr, token, caHash] = join_;

    const proxy = spawnInNetns(lb.ns, 'load balancer', [process.execPath, TCP_PROXY, `${lb.ip}:${APISERVER_PORT}`, ...layout.filter((n) => n.roles.includes('master' as never)).map((n) => `${n.host.ip}:${APISERVER_PORT}`)]);
    processes.push(proxy);
    await proxy.waitForOutput(/^listening$/m, 30_000);

    for (const n of layout) {
      const root = join(dir, n.name, 'root');
      const stateDir = join(dir, n.name, 'state');
      mkdirSync(root, { recursive: true });
      progress(`${n.name} (${n.roles.join(',')}) on ${n.host.ip} (netns ${n.host.ns}), root ${root}`);
      const agent = spawnInNetns(n.host.ns, `agent ${n.name}`, [process.execPath, AGENT_MAIN, 'run', '--coordinator', coordAddr!, '--token', token!, '--ca-hash', caHash!, '--state-dir', stateDir, '--root', root, '--node-name', n.name, '--address', n.host.ip, '--probe-port', '0', '--ready-timeout-ms', '300000']);
      const pods = superviseStaticPods({ node: n.name, root, netns: n.host.ns, programs });
      nodes.push({ name: n.name, roles: n.roles, host: n.host, root, stateDir, agent, pods });
    }
    const agentFailed = () => {
      for (const n of nodes) if (n.agent.child.exitCode !== null) throw new Error(`agent ${n.name} exited (${n.agent.child.exitCode}); log tail:\n${n.agent.tail()}`);
    };
    await until('every agent to join', deadline, () => { agentFailed(); return nodes.every((n) => existsSync(join(n.stateDir, 'identity.pem'))); });
    const joinMs = Date.now() - t0;
    progress(`joined: ${joinMs} ms`);
    await until('every node to hold its kubeconfigs', deadline, () => { agentFailed(); return nodes.every((n) => existsSync(join(n.root, 'etc/kubernetes/kubelet.conf'))); });
    const certificatesMs = Date.now() - t0;
    progress(`certificates: ${certificatesMs} ms`);
    await until('every agent to apply its assignment', deadline, () => { agentFailed(); return nodes.every((n) => /applied revision \d+/.test(n.agent.logs)); });
    const renderApplyMs = Date.now() - t0;
    progress(`rendered and applied: ${renderApplyMs} ms`);
    const masters = nodes.filter((n) => n.roles.includes('master'));
    const ready = async (n: ControlPlaneNode, pod: string) => {
      const p = await n.pods.started(pod, 0, Math.max(1, deadline - Date.now()));
      await p.ready();
      progress(`${n.name}: ${pod} ready (${Date.now() - t0} ms)`);
    };
    await Promise.all([...nodes.filter((n) => n.roles.includes('etcd')).map((n) => ready(n, 'etcd')), ...masters.map((n) => ready(n, 'kube-apiserver'))]);
    const componentsMs = Date.now() - t0;

    const exec: ControlPlane['exec'] = (argv, x = {}) => execInNetns(x.ns ?? coordinatorHost.ns, argv, { timeoutMs: x.timeoutMs, input: x.input });
    const muster: ControlPlane['muster'] = (args, timeoutMs) => execInNetns(coordinatorHost.ns, [process.execPath, COORDINATOR_MAIN, ...args, '--data-dir', dataDir], { timeoutMs });
    const adminKubeconfig = join(dir, 'admin.conf');
    await muster(['kubeconfig', 'admin', '-o', adminKubeconfig]);
    const cp: ControlPlane = {
      dir,
      net,
      coordinatorHost,
      lb,
      apiServer: `https://${lb.ip}:${APISERVER_PORT}`,
      dataDir,
      planFile,
      nodes,
      masters,
      node(name) {
        const n = nodes.find((x) => x.name === name);
        if (!n) throw new Error(`no node ${name}`);
        return n;
      },
      coordinator,
      proxy,
      times: { joinMs, certificatesMs: certificatesMs, renderApplyMs, componentsMs, totalMs: componentsMs },
      muster,
      exec,
      kubectl: (kubeconfig, args, x = {}) => exec([kubectlBin, `--kubeconfig=${kubeconfig}`, ...args], x),
      adminKubeconfig,
      teardown,
    };
    return cp;
  } catch (err) {
    const tails = nodes.map((n) => `--- agent ${n.name}\n${n.agent.tail(15)}\n--- pods ${n.name}: ${n.pods.errors.join('\n') || 'no start errors'}`).join('\n');
    await teardown();
    throw new Error(`${(err as Error).message}\n${tails}`, { cause: err });
  }
}
