// The control-plane static pods: the exact command line of each component per Kubernetes minor,
// every manifest a valid Pod (kubernetes-models), mounts that cover exactly the files the flags
// name, probes on ports the component listens on, images only from the plan's repository, and
// the certificates hash that restarts a pod whose certificates were renewed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { Pod } from 'kubernetes-models/v1';
import { renderNodeFiles, type FileSpec } from '../../shared/render/index.ts';
import { compileContext } from '../../shared/render/context.ts';
import { MANAGED_NOTICE } from '../../shared/render/header.ts';
import { MINORS } from '../../shared/render/versions.ts';
import { buildFlags, type FlagRow } from '../../shared/render/static-pods/flags.ts';
import { CERTIFICATES_HASH_ANNOTATION } from '../../shared/render/static-pods/pod.ts';
import { APISERVER_REQUEST_TIMEOUT_S, APISERVER_SHUTDOWN_DELAY_S } from '../../shared/constants.ts';
import { renderEtcdManifest } from '../../shared/render/static-pods/etcd.ts';
import { nodeCidrMaskSize } from '../../shared/render/static-pods/kube-controller-manager.ts';
import type { AssignmentOut } from '../../shared/wire/types.ts';
import { renderAssignment, type AssignmentKnobs } from './fixtures.ts';

const MANIFESTS = '/etc/kubernetes/manifests';
const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
type Component = (typeof COMPONENTS)[number];

function manifests(a: AssignmentOut, certificateHashes?: Record<string, string>): FileSpec[] {
  return renderNodeFiles({ assignment: a, ...(certificateHashes ? { certificateHashes } : {}) }).files.filter((f) => f.path.startsWith(`${MANIFESTS}/`));
}

// Parsed pods, loosely typed: the test reads what the YAML says, not what the renderer meant.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
function pods(a: AssignmentOut, certificateHashes?: Record<string, string>): Map<Component, Json> {
  return new Map(manifests(a, certificateHashes).map((f) => [f.path.slice(MANIFESTS.length + 1, -'.yaml'.length) as Component, parse(f.content)]));
}
const stackedMaster = (k: Partial<AssignmentKnobs> = {}) => renderAssignment({ roles: ['etcd', 'master'], ...k });
const container = (pod: Json) => pod.spec.containers[0];
const flagValue = (pod: Json, flag: string): string | undefined => {
  const arg = (container(pod).command as string[]).find((c) => c.startsWith(`--${flag}=`));
  return arg?.slice(flag.length + 3);
};

// ---- the exact command lines ----
// kubeadm's flags for these four components are the same on 1.34, 1.35 and 1.36 (its 1.36 change,
// dropping the controller manager's flexvolume mount, is a mount muster never had); the rows
// still say per minor, so a flag that changes is one row here and one in the component table.
const PKI = '/etc/kubernetes/pki';
const ETCD = [
  'etcd',
  '--advertise-client-urls=https://10.0.0.5:2379',
  `--cert-file=${PKI}/etcd/server.crt`,
  '--client-cert-auth=true',
  '--data-dir=/var/lib/etcd',
  '--feature-gates=InitialCorruptCheck=true',
  '--initial-advertise-peer-urls=https://10.0.0.5:2380',
  '--initial-cluster=e1=https://10.0.0.11:2380,w1=https://10.0.0.5:2380',
  '--initial-cluster-state=new',
  `--key-file=${PKI}/etcd/server.key`,
  '--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.5:2379',
  '--listen-metrics-urls=http://127.0.0.1:2381',
  '--listen-peer-urls=https://10.0.0.5:2380',
  '--name=w1',
  `--peer-cert-file=${PKI}/etcd/peer.crt`,
  '--peer-client-cert-auth=true',
  `--peer-key-file=${PKI}/etcd/peer.key`,
  `--peer-trusted-ca-file=${PKI}/etcd/ca.crt`,
  '--snapshot-count=10000',
  `--trusted-ca-file=${PKI}/etcd/ca.crt`,
  '--watch-progress-notify-interval=5s',
];
const APISERVER = [
  'kube-apiserver',
  '--advertise-address=10.0.0.5',
  '--allow-privileged=true',
  '--authorization-mode=Node,RBAC',
  `--client-ca-file=${PKI}/ca.crt`,
  '--enable-admission-plugins=NodeRestriction',
  `--etcd-cafile=${PKI}/etcd/ca.crt`,
  `--etcd-certfile=${PKI}/apiserver-etcd-client.crt`,
  `--etcd-keyfile=${PKI}/apiserver-etcd-client.key`,
  '--etcd-servers=https://10.0.0.11:2379,https://10.0.0.5:2379',
  `--kubelet-client-certificate=${PKI}/apiserver-kubelet-client.crt`,
  `--kubelet-client-key=${PKI}/apiserver-kubelet-client.key`,
  '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
  `--proxy-client-cert-file=${PKI}/front-proxy-client.crt`,
  `--proxy-client-key-file=${PKI}/front-proxy-client.key`,
  '--requestheader-allowed-names=front-proxy-client',
  `--requestheader-client-ca-file=${PKI}/front-proxy-ca.crt`,
  '--requestheader-extra-headers-prefix=X-Remote-Extra-',
  '--requestheader-group-headers=X-Remote-Group',
  '--requestheader-username-headers=X-Remote-User',
  '--secure-port=6443',
  '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
  `--service-account-key-file=${PKI}/sa.pub`,
  `--service-account-signing-key-file=${PKI}/sa.key`,
  '--service-cluster-ip-range=172.17.0.0/16',
  '--shutdown-delay-duration=15s',
  '--shutdown-send-retry-after=true',
  `--tls-cert-file=${PKI}/apiserver.crt`,
  `--tls-private-key-file=${PKI}/apiserver.key`,
];
const CONTROLLER_MANAGER = [
  'kube-controller-manager',
  '--allocate-node-cidrs=false',
  '--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf',
  '--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf',
  '--bind-address=127.0.0.1',
  `--client-ca-file=${PKI}/ca.crt`,
  '--cluster-cidr=172.16.0.0/16',
  '--cluster-name=render-test',
  '--controllers=*,-csrsigning',
  '--kubeconfig=/etc/kubernetes/controller-manager.conf',
  '--leader-elect=true',
  '--node-cidr-mask-size=26',
  `--requestheader-client-ca-file=${PKI}/front-proxy-ca.crt`,
  `--root-ca-file=${PKI}/ca.crt`,
  '--secure-port=10257',
  `--service-account-private-key-file=${PKI}/sa.key`,
  '--service-cluster-ip-range=172.17.0.0/16',
  '--use-service-account-credentials=true',
];
const SCHEDULER = [
  'kube-scheduler',
  '--authentication-kubeconfig=/etc/kubernetes/scheduler.conf',
  '--authorization-kubeconfig=/etc/kubernetes/scheduler.conf',
  '--bind-address=127.0.0.1',
  '--kubeconfig=/etc/kubernetes/scheduler.conf',
  '--leader-elect=true',
  '--secure-port=10259',
];
const COMMANDS: Record<34 | 35 | 36, Record<Component, string[]>> = {
  34: { etcd: ETCD, 'kube-apiserver': APISERVER, 'kube-controller-manager': CONTROLLER_MANAGER, 'kube-scheduler': SCHEDULER },
  35: { etcd: ETCD, 'kube-apiserver': APISERVER, 'kube-controller-manager': CONTROLLER_MANAGER, 'kube-scheduler': SCHEDULER },
  36: { etcd: ETCD, 'kube-apiserver': APISERVER, 'kube-controller-manager': CONTROLLER_MANAGER, 'kube-scheduler': SCHEDULER },
};

for (const minor of [34, 35, 36] as const) {
  for (const component of COMPONENTS) {
    test(`${component} on v1.${minor}: the exact command line and image`, () => {
      const got = pods(stackedMaster({ kubernetes_version: `v1.${minor}.2` })).get(component);
      assert.ok(got, `${component}.yaml is rendered on an etcd+master node`);
      assert.equal(container(got).command, COMMANDS[minor][component]);
      assert.is(container(got).image, component === 'etcd' ? `registry.k8s.io/etcd:${MINORS[minor].etcd}` : `registry.k8s.io/${component}:v1.${minor}.2`);
    });
  }
}

// ---- the flag table mechanism ----
test('flag rows: since/until bound a flag to minors, undefined leaves it out, sorted, files collected, a repeat is an error', () => {
  const rows: FlagRow<{ on: boolean }>[] = [
    { flag: 'zeta', value: () => '1' },
    { flag: 'old', value: () => 'x', until: 34 },
    { flag: 'new', value: () => 'y', since: 36 },
    { flag: 'middle', value: () => 'z', since: 35, until: 35 },
    { flag: 'cert', value: () => '/p/a.crt', file: true },
    { flag: 'also-cert', value: () => '/p/a.crt', file: true },
    { flag: 'maybe', value: (c) => (c.on ? 'on' : undefined) },
  ];
  assert.equal(buildFlags(rows, 34, { on: false }), { args: ['--also-cert=/p/a.crt', '--cert=/p/a.crt', '--old=x', '--zeta=1'], files: ['/p/a.crt'] });
  assert.equal(buildFlags(rows, 35, { on: true }).args, ['--also-cert=/p/a.crt', '--cert=/p/a.crt', '--maybe=on', '--middle=z', '--zeta=1']);
  assert.equal(buildFlags(rows, 36, { on: false }).args, ['--also-cert=/p/a.crt', '--cert=/p/a.crt', '--new=y', '--zeta=1']);
  const twice: FlagRow<null>[] = [{ flag: 'a', value: () => '1', until: 35 }, { flag: 'a', value: () => '2', since: 35 }];
  assert.equal(buildFlags(twice, 34, null).args, ['--a=1']);
  assert.throws(() => buildFlags(twice, 35, null), /--a is in the table twice for minor 35/);
});

// ---- which nodes get which pods; the file itself ----
test('roles: etcd nodes get etcd, masters the three control-plane pods, workers none; 0600, the kubelet acts, notice first', () => {
  const names = (roles: string[]) => manifests(renderAssignment({ roles })).map((f) => f.path).sort();
  assert.equal(names(['worker']), []);
  assert.equal(names(['etcd']), [`${MANIFESTS}/etcd.yaml`]);
  assert.equal(names(['master']), [`${MANIFESTS}/kube-apiserver.yaml`, `${MANIFESTS}/kube-controller-manager.yaml`, `${MANIFESTS}/kube-scheduler.yaml`]);
  assert.equal(names(['etcd', 'master', 'worker']).length, 4);
  for (const f of manifests(stackedMaster())) {
    assert.is(f.mode, 0o600, f.path);
    assert.equal(f.triggers, [{ kind: 'static-pod' }], f.path);
    assert.not.ok(f.secret, `${f.path} holds paths, not keys`);
    assert.is(f.content.split('\n')[0], `# ${MANAGED_NOTICE}`, `${f.path}: the managed notice is the first line`);
  }
});

test('rendering is deterministic: the same input gives the same bytes', () => {
  const hashes = { apiserver: 'aa', 'etcd-server': 'bb', 'ca:kubernetes': 'cc' };
  assert.equal(manifests(stackedMaster(), hashes), manifests(stackedMaster(), { ...hashes }));
});

// ---- kubernetes-models ----
for (const minor of [34, 35, 36] as const) {
  test(`v1.${minor}: every manifest validates as a Pod (kubernetes-models), and the validator does reject a broken one`, () => {
    const all = pods(stackedMaster({ kubernetes_version: `v1.${minor}.0` }));
    assert.is(all.size, 4);
    for (const [name, pod] of all) {
      assert.not.throws(() => new Pod(pod).validate(), name);
      assert.is(pod.apiVersion, 'v1');
      assert.is(pod.kind, 'Pod');
      assert.is(pod.metadata.name, name);
      assert.is(pod.metadata.namespace, 'kube-system');
      assert.equal(pod.metadata.labels, { component: name, tier: 'control-plane' });
      assert.is(pod.spec.hostNetwork, true);
      assert.is(pod.spec.priorityClassName, 'system-node-critical');
      assert.equal(pod.spec.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
      assert.match(pod.metadata.annotations[CERTIFICATES_HASH_ANNOTATION], /^[0-9a-f]{64}$/);
    }
    const broken = structuredClone(all.get('kube-apiserver'));
    broken.spec.containers[0].ports[0].containerPort = 'six';
    assert.throws(() => new Pod(broken).validate(), /containerPort must be integer/);
  });
}

test('the API server restarts out of the load balancer first: it serves on for the shutdown delay while /readyz fails, and its grace period covers the delay and the drain; the others keep the default', () => {
  const all = pods(stackedMaster());
  const api = all.get('kube-apiserver');
  assert.ok(container(api).command.includes(`--shutdown-delay-duration=${APISERVER_SHUTDOWN_DELAY_S}s`));
  assert.ok(container(api).command.includes('--shutdown-send-retry-after=true'));
  assert.is(api.spec.terminationGracePeriodSeconds, APISERVER_SHUTDOWN_DELAY_S + APISERVER_REQUEST_TIMEOUT_S);
  assert.is(APISERVER_SHUTDOWN_DELAY_S, 15);
  assert.ok(api.spec.terminationGracePeriodSeconds >= APISERVER_SHUTDOWN_DELAY_S + 60, 'the delay and a request timeout fit in the grace period');
  for (const name of ['etcd', 'kube-controller-manager', 'kube-scheduler'] as const) assert.is(all.get(name).spec.terminationGracePeriodSeconds, undefined, name);
});

test("the plan's master.apiserver_shutdown_delay sets the delay and the grace period; a coordinator older than the field (\"\") gets the default", () => {
  // Only a number reaches the command line: text that is no duration renders the default, never a flag of its own.
  const cases: [string, number][] = [['35s', 35], ['2m', 120], ['0s', 0], ['', APISERVER_SHUTDOWN_DELAY_S], ['15s --authorization-mode=AlwaysAllow', APISERVER_SHUTDOWN_DELAY_S], ['-5s', 0]];
  for (const [sent, seconds] of cases) {
    const api = pods(stackedMaster({ shutdownDelay: sent })).get('kube-apiserver');
    const delays = container(api).command.filter((a: string) => a.startsWith('--shutdown-delay-duration='));
    assert.equal(delays, [`--shutdown-delay-duration=${seconds}s`], JSON.stringify(sent));
    assert.is(api.spec.terminationGracePeriodSeconds, seconds + APISERVER_REQUEST_TIMEOUT_S, JSON.stringify(sent));
    assert.not.ok(container(api).command.some((a: string) => a.startsWith('--authorization-mode=AlwaysAllow')), JSON.stringify(sent));
  }
});

test("requests as kubeadm's: apiserver 250m, controller manager 200m, scheduler 100m, etcd 100m and 100Mi", () => {
  const all = pods(stackedMaster());
  assert.equal(container(all.get('kube-apiserver')).resources, { requests: { cpu: '250m' } });
  assert.equal(container(all.get('kube-controller-manager')).resources, { requests: { cpu: '200m' } });
  assert.equal(container(all.get('kube-scheduler')).resources, { requests: { cpu: '100m' } });
  assert.equal(container(all.get('etcd')).resources, { requests: { cpu: '100m', memory: '100Mi' } });
});

// ---- mounts ----
/** Every absolute path in a flag's value: "--a=/x", "--b=k=/y,/z". URLs are not paths. */
function pathsInCommand(command: string[]): string[] {
  const out: string[] = [];
  for (const arg of command.slice(1)) {
    const value = arg.slice(arg.indexOf('=') + 1);
    for (const part of value.split(',')) {
      const v = part.includes('=') ? part.slice(part.lastIndexOf('=') + 1) : part;
      if (v.startsWith('/')) out.push(v);
    }
  }
  return out;
}

test('mounts: every file a flag names is under a hostPath mount at the same path; file mounts are exactly those files; read-only but the data dir', () => {
  for (const [name, pod] of pods(stackedMaster())) {
    const c = container(pod);
    const volumes = new Map<string, Json>(pod.spec.volumes.map((v: Json) => [v.name, v]));
    assert.is(volumes.size, pod.spec.volumes.length, `${name}: volume names are unique`);
    assert.is(c.volumeMounts.length, volumes.size, `${name}: one mount per volume`);
    for (const m of c.volumeMounts) {
      const v = volumes.get(m.name);
      assert.ok(v?.hostPath, `${name}: mount ${m.name} has a hostPath volume`);
      assert.is(v.hostPath.path, m.mountPath, `${name}: ${m.name} is mounted at its host path`);
      assert.is(m.readOnly, !(name === 'etcd' && m.mountPath === '/var/lib/etcd'), `${name}: ${m.mountPath} read-only`);
    }
    const paths = pathsInCommand(c.command);
    assert.ok(paths.length >= 1, `${name} names files`);
    for (const p of paths) {
      const covered = c.volumeMounts.some((m: Json) => p === m.mountPath || p.startsWith(`${m.mountPath}/`));
      assert.ok(covered, `${name}: ${p} (named by a flag) is under a mount`);
    }
    const fileMounts = pod.spec.volumes.filter((v: Json) => v.hostPath.type === 'File').map((v: Json) => v.hostPath.path).sort();
    assert.equal(fileMounts, [...new Set(paths.filter((p) => p !== '/var/lib/etcd'))].sort(), `${name}: no file mounted that no flag names`);
  }
});

test('mounts: the scheduler sees only its kubeconfig, the controller manager no serving or etcd key', () => {
  const all = pods(stackedMaster());
  const hostPaths = (n: Component) => all.get(n).spec.volumes.map((v: Json) => v.hostPath.path).sort();
  assert.equal(hostPaths('kube-scheduler'), ['/etc/kubernetes/scheduler.conf']);
  assert.equal(hostPaths('kube-controller-manager'), [
    '/etc/kubernetes/controller-manager.conf',
    `${PKI}/ca.crt`,
    `${PKI}/front-proxy-ca.crt`,
    `${PKI}/sa.key`,
    '/etc/pki/ca-trust',
    '/etc/pki/tls/certs',
    '/etc/ssl/certs',
  ].sort());
  for (const n of COMPONENTS) {
    if (n === 'etcd') continue;
    assert.not.ok(hostPaths(n).some((p: string) => p === PKI || p.startsWith(`${PKI}/etcd/server`) || p.startsWith(`${PKI}/etcd/peer`)), `${n} never sees etcd's keys`);
  }
});

// ---- probes ----
/** Where a component listens, read back from its own flags. */
function listeners(name: Component, pod: Json): { host: string; port: number; scheme: string }[] {
  const c = container(pod);
  if (name === 'etcd') {
    return flagValue(pod, 'listen-metrics-urls')!.split(',').map((u) => {
      const url = new URL(u);
      return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port), scheme: url.protocol === 'https:' ? 'HTTPS' : 'HTTP' };
    });
  }
  const port = Number(flagValue(pod, 'secure-port'));
  assert.ok(port > 0, `${name} names its secure port`);
  assert.ok(c, name);
  // No --bind-address: all addresses (the API server), of which the advertise address is one.
  const host = flagValue(pod, 'bind-address') ?? flagValue(pod, 'advertise-address')!;
  return [{ host, port, scheme: 'HTTPS' }];
}

test('probes: every probe resolves its named port to one the container declares and the component listens on', () => {
  for (const [name, pod] of pods(stackedMaster())) {
    const c = container(pod);
    const ports = new Map<string, number>(c.ports.map((p: Json) => [p.name, p.containerPort]));
    const probes = ['livenessProbe', 'readinessProbe', 'startupProbe'].filter((k) => c[k]);
    assert.ok(probes.includes('livenessProbe') && probes.includes('startupProbe'), `${name} has liveness and startup probes`);
    for (const k of probes) {
      const g = c[k].httpGet;
      const port = typeof g.port === 'number' ? g.port : ports.get(g.port);
      assert.ok(port, `${name} ${k}: port ${g.port} is declared`);
      const hit = listeners(name, pod).some((l) => l.host === g.host && l.port === port && l.scheme === g.scheme);
      assert.ok(hit, `${name} ${k}: ${g.scheme} ${g.host}:${port} is where it listens (${JSON.stringify(listeners(name, pod))})`);
    }
  }
  const paths = (n: Component) => {
    const c = container(pods(stackedMaster()).get(n));
    return [c.livenessProbe?.httpGet.path, c.readinessProbe?.httpGet.path, c.startupProbe?.httpGet.path];
  };
  assert.equal(paths('etcd'), ['/livez', '/readyz', '/readyz']);
  assert.equal(paths('kube-apiserver'), ['/livez', '/readyz', '/livez']);
  assert.equal(paths('kube-controller-manager'), ['/healthz', undefined, '/healthz']);
  assert.equal(paths('kube-scheduler'), ['/livez', '/readyz', '/livez']);
});

// ---- images ----
test('a mirror repository: every image from it, and no registry.k8s.io anywhere in the node\'s files', () => {
  const a = stackedMaster({ repository: 'registry.local:5000/k8s/', kubernetes_version: 'v1.35.4' });
  const all = pods(a);
  assert.is(container(all.get('etcd')).image, `registry.local:5000/k8s/etcd:${MINORS[35].etcd}`);
  for (const n of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const) assert.is(container(all.get(n)).image, `registry.local:5000/k8s/${n}:v1.35.4`);
  for (const f of renderNodeFiles({ assignment: renderAssignment({ roles: ['etcd', 'master', 'worker'], repository: 'registry.local:5000/k8s' }) }).files) {
    assert.not.match(f.content, 'registry.k8s.io', `${f.path} names no public registry`);
  }
});

// ---- the certificates hash ----
test('certificates hash: changes with a file the pod mounts, not with one it does not', () => {
  const base = { apiserver: 'a1', 'etcd-server': 'e1', 'etcd-peer': 'p1', scheduler: 's1', 'controller-manager': 'c1', 'ca:kubernetes': 'k1', 'ca:etcd': 'x1', 'service-account': 'sa1' };
  const hash = (h: Record<string, string>) => new Map([...pods(stackedMaster(), h)].map(([n, p]) => [n, p.metadata.annotations[CERTIFICATES_HASH_ANNOTATION] as string]));
  const before = hash(base);
  const changed = (h: Record<string, string>) => {
    const after = hash({ ...base, ...h });
    return COMPONENTS.filter((n) => after.get(n) !== before.get(n));
  };
  assert.equal(changed({ apiserver: 'a2' }), ['kube-apiserver']);
  assert.equal(changed({ 'etcd-peer': 'p2' }), ['etcd']);
  assert.equal(changed({ 'ca:etcd': 'x2' }), ['etcd', 'kube-apiserver']);
  assert.equal(changed({ 'ca:kubernetes': 'k2' }), ['kube-apiserver', 'kube-controller-manager']);
  assert.equal(changed({ 'service-account': 'sa2' }), ['kube-apiserver', 'kube-controller-manager']);
  assert.equal(changed({ scheduler: 's2' }), ['kube-scheduler']);
  assert.equal(changed({ admin: 'whatever', kubelet: 'z' }), [], 'kinds no pod mounts change nothing');
  assert.equal(changed({ 'ca:front-proxy': 'f' }), ['kube-apiserver', 'kube-controller-manager'], 'a hash appearing where none was known counts');
});

// ---- etcd's cluster ----
test('etcd: initial cluster in the assignment order; a lone member names itself; a member list without this node is a bug', () => {
  const a = stackedMaster();
  a.etcd_members = [...a.etcd_members].reverse();
  assert.is(flagValue(pods(a).get('etcd'), 'initial-cluster'), 'w1=https://10.0.0.5:2380,e1=https://10.0.0.11:2380');
  assert.is(flagValue(pods(a).get('kube-apiserver'), 'etcd-servers'), 'https://10.0.0.5:2379,https://10.0.0.11:2379');
  a.etcd_members = [];
  assert.is(flagValue(pods(a).get('etcd'), 'initial-cluster'), 'w1=https://10.0.0.5:2380');
  assert.is(flagValue(pods(a).get('kube-apiserver'), 'etcd-servers'), 'https://127.0.0.1:2379');
  a.etcd_members = [{ name: 'e1', peer_url: 'https://10.0.0.11:2380', client_url: 'https://10.0.0.11:2379' }];
  assert.throws(() => renderEtcdManifest(compileContext({ assignment: a })), /do not include it/);
});

test('etcd and the API server on an IPv6 node: bracketed URLs, ::1 for loopback and the probe', () => {
  const a = stackedMaster();
  a.node_ip = 'fd00::5';
  a.etcd_members = [{ name: 'w1', peer_url: 'https://[fd00::5]:2380', client_url: 'https://[fd00::5]:2379' }];
  const all = pods(a);
  const etcd = all.get('etcd');
  assert.is(flagValue(etcd, 'listen-client-urls'), 'https://[::1]:2379,https://[fd00::5]:2379');
  assert.is(flagValue(etcd, 'listen-peer-urls'), 'https://[fd00::5]:2380');
  assert.is(flagValue(etcd, 'listen-metrics-urls'), 'http://[::1]:2381');
  assert.is(container(etcd).livenessProbe.httpGet.host, '::1');
  assert.is(container(all.get('kube-apiserver')).livenessProbe.httpGet.host, 'fd00::5');
  for (const [n, pod] of all) assert.not.throws(() => new Pod(pod).validate(), n);
});

// ---- controller manager and pod blocks ----
test("controller manager: node CIDR mask from muster's block size, in the pod range's family", () => {
  assert.is(nodeCidrMaskSize('172.16.0.0/16', 64), 26);
  assert.is(nodeCidrMaskSize('10.244.0.0/16', 256), 24);
  assert.is(nodeCidrMaskSize('fd00:10::/56', 256), 120);
  assert.is(nodeCidrMaskSize('172.16.0.0/16', 100), undefined, 'not a power of two');
  assert.is(nodeCidrMaskSize('172.16.0.0/16', 0), undefined);
  const a = stackedMaster();
  a.networking = { ...a.networking!, pod_cidr_block: '10.244.0.0/16', pod_block_size: 256 };
  const kcm = pods(a).get('kube-controller-manager');
  assert.is(flagValue(kcm, 'cluster-cidr'), '10.244.0.0/16');
  assert.is(flagValue(kcm, 'node-cidr-mask-size'), '24');
  assert.is(flagValue(kcm, 'allocate-node-cidrs'), 'false', "muster's blocks, not the controller manager's");
  assert.is(flagValue(kcm, 'cluster-signing-key-file'), undefined, 'the CA key never leaves the coordinator');
});

test('service-account issuer follows the cluster domain', () => {
  const a = stackedMaster();
  a.networking = { ...a.networking!, cluster_domain: 'corp.internal' };
  assert.is(flagValue(pods(a).get('kube-apiserver'), 'service-account-issuer'), 'https://kubernetes.default.svc.corp.internal');
});

test("proxy settings reach the API server, controller manager and scheduler (as kubeadm's environment does), not etcd", () => {
  const a = stackedMaster();
  a.networking = { ...a.networking!, http_proxy: 'http://proxy.example.com:3128', https_proxy: 'http://proxy.example.com:3128', no_proxy: '.example.com,10.0.0.0/8' };
  const all = pods(a);
  const env = [
    { name: 'HTTP_PROXY', value: 'http://proxy.example.com:3128' },
    { name: 'HTTPS_PROXY', value: 'http://proxy.example.com:3128' },
    { name: 'NO_PROXY', value: '.example.com,10.0.0.0/8' },
  ];
  for (const n of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const) assert.equal(container(all.get(n)).env, env, n);
  assert.is(container(all.get('etcd')).env, undefined);
  assert.is(container(pods(stackedMaster()).get('kube-apiserver')).env, undefined, 'no proxy, no env');
});

test.run();
