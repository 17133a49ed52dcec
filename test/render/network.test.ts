// The Calico manifests per network mode, policy and Kubernetes minor: parsed back as YAML and
// asserted on structure -- the IP pool (cidr, block size, encapsulation, NAT), the BGP
// configuration of routed plans, calico-node's pool env matching the pool, images from the plan's
// repository at one Calico version, the CNI config install-cni writes, the CRDs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { assignment, context, type NodeKnobs } from './fixture-nodes.ts';
import { CALICO_VERSION, CNI_NETWORK_CONFIG, blockSizeFor, renderCalico } from '../../shared/render/network/calico.ts';
import { CALICO_KINDS } from '../../shared/render/network/calico-crds.ts';
import { renderNodeFiles } from '../../shared/render/index.ts';

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: any; data?: Record<string, string>; rules?: any[] };

function docs(content: string): Doc[] {
  return parseAllDocuments(content).map((d) => {
    assert.equal(d.errors, []);
    return d.toJS() as Doc;
  }).filter(Boolean);
}

function rendered(k: NodeKnobs) {
  const [crds, manifests] = renderCalico(context(k));
  return { crds: docs(crds!.content), all: docs(manifests!.content), text: manifests!.content };
}

const find = (all: Doc[], kind: string, name?: string) => all.find((d) => d.kind === kind && (!name || d.metadata.name === name));

const rows: { name: string; knobs: NodeKnobs; pool: Record<string, unknown>; backend: string; bgpAs?: number; probes: string[] }[] = [
  {
    name: 'overlay IP-in-IP', knobs: { network: 'overlay', overlayMode: 'ipip' },
    pool: { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' }, backend: 'bird', probes: ['-felix-live', '-bird-live'],
  },
  {
    name: 'overlay VXLAN (no BGP, no bird probes)', knobs: { network: 'overlay', overlayMode: 'vxlan' },
    pool: { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Always', natOutgoing: true, nodeSelector: 'all()' }, backend: 'vxlan', probes: ['-felix-live'],
  },
  {
    name: 'routed BGP with the plan\'s AS, /24 blocks', knobs: { network: 'routed', podBlockSize: 256 },
    pool: { cidr: '10.244.0.0/16', blockSize: 24, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, nodeSelector: 'all()' }, backend: 'bird', bgpAs: 64512, probes: ['-felix-live', '-bird-live'],
  },
];

for (const minor of [34, 35, 36] as const) {
  for (const row of rows) {
    test(`calico v1.${minor}: ${row.name}`, () => {
      const { all, text } = rendered({ ...row.knobs, minor });
      assert.match(text, /^# Managed by muster-agent/);
      assert.equal(find(all, 'IPPool', 'default-ipv4-ippool')?.spec, row.pool);
      const bgp = find(all, 'BGPConfiguration', 'default');
      if (row.bgpAs) assert.equal(bgp?.spec, { asNumber: row.bgpAs, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info' });
      else assert.is(bgp, undefined, 'overlay plans ignore the AS number');
      assert.is(find(all, 'ConfigMap', 'calico-config')?.data?.calico_backend, row.backend);

      const ds = find(all, 'DaemonSet', 'calico-node')!;
      const pod = ds.spec.template.spec;
      const node = pod.containers[0];
      const env = Object.fromEntries(node.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
      assert.equal(
        [env.CALICO_IPV4POOL_CIDR, env.CALICO_IPV4POOL_BLOCK_SIZE, env.CALICO_IPV4POOL_IPIP, env.CALICO_IPV4POOL_VXLAN, env.CALICO_IPV4POOL_NAT_OUTGOING],
        [row.pool.cidr, String(row.pool.blockSize), row.pool.ipipMode, row.pool.vxlanMode, String(row.pool.natOutgoing)],
        'the env pool calico-node creates when none exists is the IPPool',
      );
      assert.is(env.DATASTORE_TYPE, 'kubernetes');
      assert.is(env.IP_AUTODETECTION_METHOD, 'kubernetes-internal-ip');
      assert.equal(node.livenessProbe.exec.command.slice(1), row.probes);
      assert.is(pod.priorityClassName, 'system-node-critical');
      assert.ok(pod.hostNetwork);

      const images = all.flatMap((d) => d.spec?.template?.spec ? [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers].map((c: any) => c.image) : []);
      assert.equal(images.sort(), [
        `registry.local:5000/calico/cni:${CALICO_VERSION}`,
        `registry.local:5000/calico/kube-controllers:${CALICO_VERSION}`,
        `registry.local:5000/calico/node:${CALICO_VERSION}`,
      ], 'every image from the plan\'s Calico repository, one version');
    });
  }
}

test('network policy: off adds no policy and says Calico still enforces NetworkPolicies; on adds default-deny ingress outside kube-system', () => {
  const off = rendered({ policy: false });
  assert.is(find(off.all, 'GlobalNetworkPolicy'), undefined);
  assert.match(off.text, /network policy: off .*still enforces any NetworkPolicy/);
  const on = rendered({ policy: true });
  assert.equal(find(on.all, 'GlobalNetworkPolicy', 'muster-default-deny-ingress')?.spec, {
    order: 2000, namespaceSelector: "kubernetes.io/metadata.name != 'kube-system'", selector: 'all()', types: ['Ingress'],
  });
  assert.match(on.text, /network policy: on/);
});

test('the CNI config install-cni writes: calico with calico-ipam and its kubeconfig, then portmap', () => {
  const { all } = rendered({});
  const raw = find(all, 'ConfigMap', 'calico-config')!.data!.cni_network_config!;
  assert.is(raw, CNI_NETWORK_CONFIG);
  const cni = JSON.parse(raw.replace('__CNI_MTU__', '1440'));
  assert.equal(cni.plugins.map((p: any) => p.type), ['calico', 'portmap']);
  assert.equal(cni.plugins[0].ipam, { type: 'calico-ipam' });
  assert.is(cni.plugins[0].kubernetes.kubeconfig, '__KUBECONFIG_FILEPATH__');
  assert.is(cni.plugins[0].mtu, 1440);
  const init = find(all, 'DaemonSet', 'calico-node')!.spec.template.spec.initContainers[0];
  assert.equal(init.env[0], { name: 'CNI_CONF_NAME', value: '10-calico.conflist' });
  // Decided: muster renders no CNI file itself (see calico.ts).
  const paths = renderNodeFiles({ assignment: assignment({ roles: ['worker'] }) }).files.map((f) => f.path);
  assert.not.ok(paths.some((p) => p.startsWith('/etc/cni/')));
});

test('RBAC: every ServiceAccount is bound to its ClusterRole; Calico\'s kinds all have a CRD', () => {
  const { all, crds } = rendered({});
  for (const sa of all.filter((d) => d.kind === 'ServiceAccount')) {
    assert.ok(find(all, 'ClusterRole', sa.metadata.name), sa.metadata.name);
    const b = find(all, 'ClusterRoleBinding', sa.metadata.name) as any;
    assert.equal(b.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'kube-system' }]);
  }
  assert.is(crds.length, CALICO_KINDS.length);
  const plurals = crds.map((c) => c.spec.names.plural);
  // Every crd.projectcalico.org resource the roles name (the legacy v2.6 globalfelixconfigs /
  // globalbgpconfigs aside) has a definition.
  const named = new Set(all.filter((d) => d.kind === 'ClusterRole').flatMap((r) => r.rules!).filter((r) => r.apiGroups.includes('crd.projectcalico.org')).flatMap((r) => r.resources as string[]).map((r) => r.split('/')[0]!));
  const legacy = new Set(['globalfelixconfigs', 'globalbgpconfigs']);
  for (const r of named) if (!legacy.has(r)) assert.ok(plurals.includes(r), `CRD for ${r}`);
  for (const c of crds) {
    assert.is(c.metadata.name, `${c.spec.names.plural}.crd.projectcalico.org`);
    assert.equal(c.spec.versions[0].schema, { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } });
  }
});

test('block sizes: 64 addresses -> /26, 1 -> /32, 4096 -> /20; outside Calico\'s /20../32 refused', () => {
  assert.equal([blockSizeFor(64), blockSizeFor(256), blockSizeFor(1), blockSizeFor(4096)], [26, 24, 32, 20]);
  assert.throws(() => blockSizeFor(8192), /between 1 and 4096/);
  assert.throws(() => blockSizeFor(100), /power of two/);
});

test('Calico only on masters', () => {
  const paths = (roles: string[]) => renderNodeFiles({ assignment: assignment({ roles }) }).files.map((f) => f.path);
  assert.ok(paths(['master']).includes('/etc/kubernetes/addons/calico.yaml'));
  assert.not.ok(paths(['worker']).some((p) => p.startsWith('/etc/kubernetes/addons/')));
  assert.not.ok(paths(['etcd']).some((p) => p.startsWith('/etc/kubernetes/addons/')));
});

test('deterministic: the same input renders the same bytes', () => {
  const a = renderNodeFiles({ assignment: assignment({ network: 'routed', policy: true, hostsFiles: true }) }).files;
  const b = renderNodeFiles({ assignment: assignment({ network: 'routed', policy: true, hostsFiles: true }) }).files;
  assert.equal(a, b);
});

test.run();
