// Hostile values against the node renderers, both layers: plan validation refuses each one,
// naming the field; and a renderer handed such a value anyway (an assignment built by hand, a
// validation bug) quotes it so the file still parses back to exactly that value -- a newline in
// an ExecStart argument never becomes a directive of its own, `%` never reaches systemd as a
// specifier, a quote never closes a TOML or JSON string, and no registry host puts a file
// outside /etc/containerd/certs.d.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { posix } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { parsePlan } from '../../shared/plan/index.ts';
import { renderNode } from '../../shared/render/index.ts';
import { compileContext } from '../../shared/render/context.ts';
import { kubeletFlags } from '../../shared/render/node/kubelet.ts';
import { criDockerdArgs } from '../../shared/render/runtime/cri-dockerd.ts';
import { renderHosts, mergeManagedBlock, BLOCK_END } from '../../shared/render/os/hosts.ts';
import { CERTS_D, renderRegistryHosts } from '../../shared/render/runtime/registry-hosts.ts';
import { execLine } from '../../shared/render/runtime/systemd.ts';
import { hashHeader } from '../../shared/render/header.ts';
import type { FileSpec } from '../../shared/render/types.ts';
import type { AssignmentOut } from '../../shared/wire/types.ts';
import { assignment } from './fixture-nodes.ts';
import { tomlSections } from './toml-sections.ts';

/** The values each attack uses: every character class that means something in some node file. */
const NL = 'x\nExecStartPre=/bin/sh -c "touch /tmp/pwned"';
const PCT = 'a%H%m%%b';
const QUOTES = `a"b'c\\d] [x] $HOME`;

// ---- the plan layer ----------------------------------------------------------------------------

const base = (cluster: string[], top: string[] = [], worker = '{ host: w1, ip: 10.0.0.3 }') =>
  [
    'cluster:', '  name: prod', ...cluster, ...top,
    'etcd: { expected_count: 1, nodes: [{ host: e1, ip: 10.0.0.1 }] }',
    'master: { expected_count: 1, nodes: [{ host: m1, ip: 10.0.0.2 }] }',
    `worker: { expected_count: 1, nodes: [${worker}] }`,
  ].join('\n') + '\n';
const q = (s: string) => JSON.stringify(s);

const PLAN_ATTACKS: { name: string; text: string; field: string }[] = [
  { name: 'newline in the cluster name', text: base([]).replace('name: prod', `name: ${q(`prod${NL}`)}`), field: 'cluster.name' },
  { name: 'cluster_domain with a specifier and a blank', text: base(['  networking:', `    cluster_domain: ${q(`cluster.local ${PCT}`)}`]), field: 'cluster.networking.cluster_domain' },
  { name: 'http_proxy with a newline', text: base(['  networking:', `    http_proxy: ${q(`http://proxy:3128${NL}`)}`]), field: 'cluster.networking.http_proxy' },
  { name: 'https_proxy with a quote', text: base(['  networking:', `    https_proxy: ${q('http://proxy:3128/"x')}`]), field: 'cluster.networking.https_proxy' },
  { name: 'no_proxy with a blank and a %', text: base(['  networking:', `    no_proxy: ${q('localhost,a b,%H')}`]), field: 'cluster.networking.no_proxy' },
  { name: 'pod CIDR with a trailing newline', text: base(['  networking:', `    pod_cidr_block: ${q('172.16.0.0/16\n')}`]), field: 'cluster.networking.pod_cidr_block' },
  { name: 'image repository with ..', text: base(['  images: { kubernetes: "registry.local/../../k8s", calico: registry.local/calico }']), field: 'cluster.images.kubernetes' },
  { name: 'extra SAN with a blank', text: base(['  certificates:', `    apiserver_cert_extra_sans: [${q('k8s.example.com evil')}]`]), field: 'cluster.certificates.apiserver_cert_extra_sans[0]' },
  { name: 'insecure registry escaping certs.d', text: base([], ['container_runtime: { type: containerd, insecure_registries: ["reg.local/../../../systemd/system"] }']), field: 'container_runtime.insecure_registries[0]' },
  { name: 'insecure registry with a TOML quote', text: base([], [`container_runtime: { type: containerd, insecure_registries: [${q('reg"]\n[x')}] }`]), field: 'container_runtime.insecure_registries[0]' },
  { name: 'registry mirror breaking out of a TOML string', text: base([], [`container_runtime: { registry_mirrors: [${q('https://m"]\n[host."evil"]')}] }`]), field: 'container_runtime.registry_mirrors[0]' },
  { name: 'registry mirror with a path escape', text: base([], ['container_runtime: { registry_mirrors: ["https://m.local/../../x"] }']), field: 'container_runtime.registry_mirrors[0]' },
  { name: 'log driver with a newline', text: base([], [`container_runtime: { logs: { driver: ${q(`json-file${NL}`)} } }`]), field: 'container_runtime.logs.driver' },
  { name: 'log option value with a newline', text: base([], [`container_runtime: { logs: { opts: { max-size: ${q('50m\n')} } } }`]), field: 'container_runtime.logs.opts["max-size"]' },
  { name: 'storage option key with a quote', text: base([], [`container_runtime: { storage: { opts: { ${q('a"b')}: x } } }`]), field: 'container_runtime.storage.opts["a\\"b"]' },
  { name: 'node ip with an IPv6 zone (a systemd specifier)', text: base([], [], '{ host: w1, ip: "fe80::1%m" }'), field: 'worker.nodes[0].ip' },
  { name: 'node ip with a trailing newline', text: base([], [], `{ host: w1, ip: ${q('10.0.0.3\n')} }`), field: 'worker.nodes[0].ip' },
  { name: 'internal_ip with a leading blank', text: base([], [], `{ host: w1, ip: 10.0.0.3, internal_ip: ${q(' 10.0.0.4')} }`), field: 'worker.nodes[0].internal_ip' },
  { name: 'node host with a newline', text: base([], [], `{ host: ${q('w1\n10.0.0.9 bank')}, ip: 10.0.0.3 }`), field: 'worker.nodes[0].host' },
  { name: 'node host that is the END marker', text: base([], [], `{ host: ${q(BLOCK_END)}, ip: 10.0.0.3 }`), field: 'worker.nodes[0].host' },
  { name: 'label value with a blank', text: base([], [], `{ host: w1, ip: 10.0.0.3, labels: { disk: ${q('ssd --v=9')} } }`), field: 'worker.nodes[0].labels.disk' },
  { name: 'taint value with a %', text: base([], [], `{ host: w1, ip: 10.0.0.3, taints: [{ key: k, value: ${q(PCT)}, effect: NoSchedule }] }`), field: 'worker.nodes[0].taints[0].value' },
  { name: 'load balancer short name with a blank', text: base([]).replace('master: { expected_count: 1,', `master: { load_balanced_short_name: ${q('k8s lb')}, expected_count: 1,`), field: 'master.load_balanced_short_name' },
];

test('the attack base plan is valid', () => {
  const r = parsePlan(base([]), 'p.yaml');
  assert.equal(r.problems.filter((p) => p.severity === 'error'), []);
});

for (const a of PLAN_ATTACKS) {
  test(`plan: ${a.name} is refused, naming ${a.field}`, () => {
    const r = parsePlan(a.text, 'p.yaml');
    assert.is(r.plan, null);
    const paths = r.problems.filter((p) => p.severity === 'error').map((p) => p.path);
    assert.ok(paths.includes(a.field), `errors name ${a.field}: ${JSON.stringify(paths)}`);
  });
}

// ---- the renderers ---------------------------------------------------------------------------

/**
 * systemd's reading of an ExecStart= value (systemd.syntax(7)): continuation lines, double and
 * single quotes, C escapes in quotes, "%%" and "$$" (any other "%" or "$" would be expanded).
 */
function systemdArgv(value: string): string[] {
  const text = value.replace(/\\\n/g, ' ');
  assert.not.match(text, /\n/, 'the value is one logical line');
  const args: string[] = [];
  let i = 0;
  const expand = (s: string) => {
    assert.not.match(s.replace(/%%/g, ''), /%/, `no specifier in ${JSON.stringify(s)}`);
    assert.not.match(s.replace(/\$\$/g, ''), /\$/, `no variable in ${JSON.stringify(s)}`);
    return s.replace(/%%/g, '%').replace(/\$\$/g, '$');
  };
  while (i < text.length) {
    if (text[i] === ' ') { i++; continue; }
    let arg = '';
    if (text[i] === '"') {
      i++;
      while (text[i] !== '"') {
        assert.ok(i < text.length, 'quote closed');
        if (text[i] === '\\') {
          const c = text[i + 1]!;
          const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '"': '"' };
          if (c === 'x') { arg += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16)); i += 4; continue; }
          assert.ok(simple[c] !== undefined, `known escape \\${c}`);
          arg += simple[c];
          i += 2;
          continue;
        }
        arg += text[i++];
      }
      i++;
    } else {
      while (i < text.length && text[i] !== ' ') {
        assert.ok(!'"\'\\'.includes(text[i]!), `unquoted ${text[i]} in an argument`);
        arg += text[i++];
      }
    }
    args.push(expand(arg));
  }
  return args;
}

/** The ExecStart= values of a unit, and every directive line (name=) it holds. */
function unitLines(content: string): { execStarts: string[]; directives: string[] } {
  const logical = content.replace(/\\\n/g, ' ').split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith('['));
  return {
    execStarts: logical.filter((l) => l.startsWith('ExecStart=')).map((l) => l.slice('ExecStart='.length)),
    directives: logical.map((l) => l.slice(0, l.indexOf('='))),
  };
}

function hostile(patch: (a: AssignmentOut) => void, k: Parameters<typeof assignment>[0] = {}): AssignmentOut {
  const a = assignment(k);
  patch(a);
  return a;
}

const fileAt = (files: FileSpec[], path: string) => {
  const f = files.find((x) => x.path === path);
  assert.ok(f, `${path} is rendered`);
  return f!;
};

test('execLine: every character class round-trips through systemd\'s quoting', () => {
  const args = [NL, PCT, QUOTES, '', 'tab\there', '\r\x01\x7f', 'semi;colon', ';', 'trailing\\'];
  assert.equal(systemdArgv(execLine('/bin/x', args)), ['/bin/x', ...args]);
});

test('kubelet drop-in: a hostile node ip, node name and labels stay arguments; no directive is added', () => {
  const a = hostile((x) => {
    x.node_ip = 'fe80::1%m';
    x.node_name = `w1${NL}`;
    x.labels = { disk: `ssd ${QUOTES}`, [`k${PCT}`]: NL };
  }, { roles: ['worker'] });
  const files = renderNode({ assignment: a });
  const dropIn = fileAt(files, '/etc/systemd/system/kubelet.service.d/10-muster.conf');
  const { execStarts, directives } = unitLines(dropIn.content);
  assert.equal(directives, ['ExecStart', 'ExecStart'], 'only the clearing line and the one command');
  assert.is(execStarts[0], '');
  assert.equal(systemdArgv(execStarts[1]!), ['/usr/bin/kubelet', ...kubeletFlags(compileContext({ assignment: a }))]);
  assert.ok(systemdArgv(execStarts[1]!).includes('--node-ip=fe80::1%m'), 'the % reaches the kubelet, not systemd');
});

test('cri-dockerd unit: a hostile image repository stays one argument', () => {
  const a = hostile((x) => { x.settings!.kubernetes_image_repository = `reg${PCT}/${QUOTES}${NL}`; }, { roles: ['worker'], runtime: 'docker' });
  const unit = fileAt(renderNode({ assignment: a }), '/etc/systemd/system/cri-docker.service');
  const { execStarts, directives } = unitLines(unit.content);
  assert.not.ok(directives.includes('ExecStartPre'));
  assert.equal(systemdArgv(execStarts[0]!), ['/usr/local/bin/cri-dockerd', ...criDockerdArgs(compileContext({ assignment: a }))]);
});

test('containerd config.toml: a hostile pause image is one TOML string; the tables are the usual ones', () => {
  const repo = `reg"]\n[plugins."evil"]\nx = "${QUOTES}`;
  const normal = tomlSections(fileAt(renderNode({ assignment: assignment({ roles: ['worker'] }) }), '/etc/containerd/config.toml').content);
  const a = hostile((x) => { x.settings!.kubernetes_image_repository = repo; }, { roles: ['worker'] });
  const text = fileAt(renderNode({ assignment: a }), '/etc/containerd/config.toml').content;
  const s = tomlSections(text);
  assert.equal([...s.keys()], [...normal.keys()]);
  const sandbox = /^\s*sandbox = (.*)$/m.exec(text)![1]!;
  assert.is(JSON.parse(sandbox), `${repo}/pause:${compileContext({ assignment: a }).tags.pause}`);
});

test('hosts.toml: hostile mirrors stay TOML strings, one [host] table each', () => {
  const mirrors = ['https://m1"]\n[host."https://evil"]\n  capabilities = ["push"]', `https://m2/${QUOTES}`];
  const a = hostile((x) => { x.settings!.runtime!.registry_mirrors = mirrors; }, { roles: ['worker'] });
  const f = fileAt(renderNode({ assignment: a }), `${CERTS_D}/docker.io/hosts.toml`);
  const tables = f.content.split('\n').filter((l) => l.startsWith('['));
  assert.is(tables.length, 2);
  assert.equal(tables.map((t) => JSON.parse(t.slice('[host.'.length, -1))), mirrors);
});

test('hosts.toml: an insecure registry that would leave certs.d fails the render; every path stays below certs.d', () => {
  for (const reg of ['reg.local/../../../systemd/system', '../../x', 'a/b', 'reg"x', '']) {
    const ctx = compileContext({ assignment: hostile((x) => { x.settings!.runtime!.insecure_registries = [reg]; }, { roles: ['worker'] }) });
    assert.throws(() => renderRegistryHosts(ctx), /is not a registry host\[:port\]/, reg);
  }
  const ok = compileContext({ assignment: hostile((x) => { x.settings!.runtime!.insecure_registries = ['reg.local:5000', 'REG2.local']; }, { roles: ['worker'] }) });
  for (const f of renderRegistryHosts(ok)) assert.ok(posix.normalize(f.path).startsWith(`${CERTS_D}/`) && posix.normalize(f.path) === f.path, f.path);
});

test('daemon.json: hostile log and storage options parse back as the same strings', () => {
  const a = hostile((x) => {
    const rt = x.settings!.runtime!;
    rt.log_driver = `json-file${NL}`;
    rt.log_opts = { [`max"size`]: `50m${QUOTES}` };
    rt.storage_opts = { 'dm.x': `1"}\n{"evil": true` };
    rt.insecure_registries = [];
    rt.registry_mirrors = [`https://m"]${NL}`];
  }, { roles: ['worker'], runtime: 'docker' });
  const cfg = JSON.parse(fileAt(renderNode({ assignment: a }), '/etc/docker/daemon.json').content) as Record<string, unknown>;
  assert.is(cfg['log-driver'], `json-file${NL}`);
  assert.equal(cfg['log-opts'], { [`max"size`]: `50m${QUOTES}` });
  assert.equal(cfg['storage-opts'], [`dm.x=1"}\n{"evil": true`]);
  assert.equal(cfg['registry-mirrors'], [`https://m"]${NL}`]);
  assert.not.ok('evil' in cfg);
});

test('YAML files: hostile cluster domain, proxies, taints and cluster name parse back unchanged', () => {
  const evil = `x\nkind: Secret\n---\napiVersion: v1 # ${QUOTES}`;
  const a = hostile((x) => {
    x.networking!.cluster_domain = evil;
    x.networking!.http_proxy = evil;
    x.networking!.no_proxy = `${PCT},${NL}`;
    x.cluster_name = evil;
    x.taints = [{ key: 'k', value: evil, effect: 'NoSchedule' }];
  }, { roles: ['master', 'worker'] });
  const files = renderNode({ assignment: a });
  for (const f of files.filter((x) => /\.(yaml|conf)$/.test(x.path) && x.path.includes('kube'))) {
    if (f.path.endsWith('.conf') && !f.path.includes('kube-proxy')) continue;
    const docs = parseAllDocuments(f.content);
    for (const d of docs) assert.equal(d.errors, [], f.path);
  }
  const kubelet = parse(fileAt(files, '/var/lib/kubelet/config.yaml').content) as { clusterDomain: string; registerWithTaints: { value: string }[] };
  assert.is(kubelet.clusterDomain, evil);
  assert.is(kubelet.registerWithTaints.find((t) => t.value)?.value, evil);
  const apiserver = parse(fileAt(files, '/etc/kubernetes/manifests/kube-apiserver.yaml').content) as { kind: string; spec: { containers: { command: string[]; env: { name: string; value: string }[] }[] } };
  assert.is(apiserver.kind, 'Pod');
  const c = apiserver.spec.containers[0]!;
  assert.ok(c.command.includes(`--service-account-issuer=https://kubernetes.default.svc.${evil}`));
  assert.equal(c.env.filter((e) => e.name.endsWith('PROXY')).map((e) => e.value), [evil, `${PCT},${NL}`]);
  const kcm = parse(fileAt(files, '/etc/kubernetes/manifests/kube-controller-manager.yaml').content) as { spec: { containers: { command: string[] }[] } };
  assert.ok(kcm.spec.containers[0]!.command.includes(`--cluster-name=${evil}`));
});

test('Calico: a pod CIDR with a newline stays on the header\'s comment line', () => {
  const a = hostile((x) => { x.networking!.pod_cidr_block = '172.16.0.0/16\nkind: Secret'; }, { roles: ['master'] });
  const f = fileAt(renderNode({ assignment: a }), '/etc/kubernetes/addons/calico.yaml');
  const head = f.content.slice(0, f.content.indexOf('---'));
  assert.ok(head.split('\n').filter(Boolean).every((l) => l.startsWith('#')), head);
  assert.ok(parseAllDocuments(f.content).every((d) => d.errors.length === 0));
  assert.is(hashHeader('a\nb\r\nc'), `${hashHeader()}# a b c\n`);
});

test('/etc/hosts: a name with a newline, a forged END marker or a blank is refused; a block never holds a marker', () => {
  for (const names of [[`w1\n10.0.0.9 bank.example.com`], [BLOCK_END], ['a b'], ['#x'], ['w1\r']]) {
    const a = hostile((x) => { x.networking!.update_hosts_files = true; x.hosts_entries = [{ ip: '10.0.0.1', names }]; }, { roles: ['worker'] });
    assert.throws(() => renderHosts(compileContext({ assignment: a })), /not an address or a host name/, JSON.stringify(names));
  }
  const a = hostile((x) => { x.hosts_entries = [{ ip: `10.0.0.1\n${BLOCK_END}`, names: ['w1'] }]; }, { roles: ['worker'] });
  assert.throws(() => renderHosts(compileContext({ assignment: a })), /not an address or a host name/);
  assert.throws(() => mergeManagedBlock('127.0.0.1 localhost\n', `10.0.0.1 a\n${BLOCK_END}\n10.0.0.2 evil\n`), /marker/);
});

test.run();
