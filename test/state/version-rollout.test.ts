// A plan change from Kubernetes 1.35 to 1.36 reaches the masters one at a time, each only after
// the one before applied its new version, and the workers after every master (a kubelet may not
// be newer than the API servers). Simulated agents: each applies what it was handed by rendering
// it with muster's renderer (the kube-apiserver manifest must name its version's image) and
// reports the apply, as the agent does; the test decides when each reports, so the holds are seen
// without timing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { ClusterState } from '../../coordinator/state/cluster-state.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { parseToken } from '../../coordinator/trust/tokens.ts';
import { rolloutHolds } from '../../coordinator/assign/rollout.ts';
import { renderNodeFiles } from '../../shared/render/index.ts';
import { silentLogger } from '../../shared/log/logger.ts';
import type { AssignmentOut } from '../../shared/wire/types.ts';
import { addressBlock } from '../helpers/addresses.ts';

const net = addressBlock(import.meta.url);
const MASTERS = ['m1', 'm2', 'm3'];
const NODES = [...MASTERS, 'w1'];
const ip = (n: string) => net.host(NODES.indexOf(n) + 2);

function plan(version: string, shutdownDelay = '15s'): string {
  const list = (names: string[]) => names.map((n) => `    - { host: ${n}, ip: ${ip(n)} }`).join('\n');
  return `cluster:
  name: rollout
  version: ${version}
  networking: { pod_cidr_block: 10.200.0.0/16, service_cidr_block: 172.17.0.0/16 }
  preflight: { ignore: [all] }
etcd:
  expected_count: 3
  nodes:
${list(MASTERS)}
master:
  expected_count: 3
  load_balancer: ${ip('m1')}:6443
  apiserver_shutdown_delay: ${shutdownDelay}
  nodes:
${list(MASTERS)}
worker:
  expected_count: 1
  nodes:
${list(['w1'])}
`;
}

/** A coordinator's state with `planText` applied and every node of NODES joined. */
async function joinedCluster(planText: string): Promise<ClusterState> {
  const s = await ClusterState.open({ store: new MemoryStore(), logger: silentLogger(), recomputeDelayMs: 0 });
  const { token } = await s.tokens.create({ uses: 0, neverExpires: true, description: 'test' });
  const { id, secret } = parseToken(token);
  await s.applyPlan(planText, 'plan.yaml');
  for (const [i, name] of NODES.entries()) {
    await s.nodes.join({ tokenId: id, tokenSecret: secret, name, machineId: `m-${i}`, address: ip(name), labels: {}, agentVersion: 'test', keyId: `key-${i}`, sign: () => ({ certPem: `cert-${i}`, serial: `${i + 1}` }) });
  }
  await s.idle();
  return s;
}

test('pure: one master at a time, the others wait for it; non-masters wait for every master', () => {
  const body = (roles: string[], v: string) => ({ roles, kubernetes_version: v });
  const previous = new Map([
    ['m1', { body: body(['master'], 'v1.35.4'), revision: 4 }],
    ['m2', { body: body(['master'], 'v1.35.4'), revision: 5 }],
    ['w1', { body: body(['worker'], 'v1.35.4'), revision: 6 }],
  ]);
  const next = new Map([...previous].map(([n, p]) => [n, body([...p.body.roles], 'v1.36.3')]));
  const applied = new Map([['m1', { revision: 4, ok: true }], ['m2', { revision: 5, ok: true }]]);
  const holds = rolloutHolds({ previous, next, applied: (n) => applied.get(n) });
  assert.equal(holds.map((h) => [h.name, h.waitingFor]), [['m2', 'm1'], ['w1', 'm1']]);
  // m1 was handed 1.36 (revision 7) but has not applied it: m2 and w1 wait for it.
  previous.set('m1', { body: body(['master'], 'v1.36.3'), revision: 7 });
  assert.equal(rolloutHolds({ previous, next, applied: (n) => applied.get(n) }).map((h) => [h.name, h.waitingFor]), [['m2', 'm1'], ['w1', 'm1']]);
  // A failed apply keeps them waiting; an ok apply of revision 7 releases m2 (w1 still waits, for m2).
  applied.set('m1', { revision: 7, ok: false });
  assert.equal(rolloutHolds({ previous, next, applied: (n) => applied.get(n) }).map((h) => h.name), ['m2', 'w1']);
  applied.set('m1', { revision: 7, ok: true });
  assert.equal(rolloutHolds({ previous, next, applied: (n) => applied.get(n) }).map((h) => [h.name, h.waitingFor]), [['w1', 'm2']]);
  // No version change: nothing is held, whatever the reports say.
  assert.equal(rolloutHolds({ previous, next: new Map([...previous].map(([n, p]) => [n, p.body])), applied: () => undefined }), []);
});

test('pure: new settings roll over the masters one at a time (the others are not held); version and settings together', () => {
  const body = (roles: string[], v: string, delay: string) => ({ roles, kubernetes_version: v, settings: { kubernetes_image_repository: 'registry.k8s.io', apiserver_shutdown_delay: delay } });
  const previous = new Map([
    ['m1', { body: body(['master'], 'v1.36.3', '15s'), revision: 4 }],
    ['m2', { body: body(['master'], 'v1.36.3', '15s'), revision: 5 }],
    ['m3', { body: body(['etcd', 'master'], 'v1.36.3', '15s'), revision: 6 }],
    ['w1', { body: body(['worker'], 'v1.36.3', '15s'), revision: 7 }],
  ]);
  const applied = new Map([...previous].map(([n, p]) => [n, { revision: p.revision, ok: true }]));
  const next = new Map([...previous].map(([n, p]) => [n, body([...p.body.roles], 'v1.36.3', '35s')]));
  const holds = rolloutHolds({ previous, next, applied: (n) => applied.get(n) });
  assert.equal(holds.map((h) => [h.name, h.waitingFor, h.change]), [['m2', 'm1', 'settings (apiserver_shutdown_delay)'], ['m3', 'm1', 'settings (apiserver_shutdown_delay)']], 'the worker\'s settings are not held');
  // m1 took it (revision 8) and has not reported: m2 and m3 wait for it; once it did, m2 goes.
  previous.set('m1', { body: next.get('m1')!, revision: 8 });
  assert.equal(rolloutHolds({ previous, next, applied: (n) => applied.get(n) }).map((h) => [h.name, h.waitingFor]), [['m2', 'm1'], ['m3', 'm1']]);
  applied.set('m1', { revision: 8, ok: true });
  assert.equal(rolloutHolds({ previous, next, applied: (n) => applied.get(n) }).map((h) => [h.name, h.waitingFor]), [['m3', 'm2']]);
  // Version and settings at once: named together; the worker's version waits for the masters.
  const both = new Map([...previous].map(([n, p]) => [n, body([...p.body.roles], 'v1.37.0', '35s')]));
  const h2 = rolloutHolds({ previous, next: both, applied: (n) => applied.get(n) });
  assert.equal(h2.map((h) => [h.name, h.change]), [['m2', 'Kubernetes v1.36.3 -> v1.37.0 and settings (apiserver_shutdown_delay)'], ['m3', 'Kubernetes v1.36.3 -> v1.37.0 and settings (apiserver_shutdown_delay)'], ['w1', 'Kubernetes v1.36.3 -> v1.37.0']]);
  // A body from a coordinator older than a settings field (absent) counts as a change of that field.
  const old = new Map([...previous].map(([n, p]) => [n, { body: { ...p.body, settings: { kubernetes_image_repository: 'registry.k8s.io' } }, revision: p.revision }]));
  assert.equal(rolloutHolds({ previous: old, next, applied: (n) => applied.get(n) }).map((h) => h.name), ['m2', 'm3']);
  // Settings that do not change hold nothing, key order notwithstanding.
  const reordered = new Map([...previous].map(([n, p]) => [n, { ...p.body, settings: { apiserver_shutdown_delay: p.body.settings.apiserver_shutdown_delay, kubernetes_image_repository: 'registry.k8s.io' } }]));
  assert.equal(rolloutHolds({ previous, next: reordered, applied: (n) => applied.get(n) }), []);
});

test('pure: etcd members that are not masters go one at a time after the masters, each after the one before applied', () => {
  const body = (roles: string[], v: string) => ({ roles, kubernetes_version: v, settings: { kubernetes_image_repository: 'registry.k8s.io' } });
  const roles: Record<string, string[]> = { m1: ['etcd', 'master'], m2: ['etcd', 'master'], e1: ['etcd'], e2: ['etcd'], e3: ['etcd', 'worker'], w1: ['worker'] };
  const previous = new Map(Object.entries(roles).map(([n, r], k) => [n, { body: body(r, 'v1.35.4'), revision: k + 1 }]));
  const applied = new Map([...previous].map(([n, p]) => [n, { revision: p.revision, ok: true }]));
  const next = new Map(Object.entries(roles).map(([n, r]) => [n, body(r, 'v1.36.3')]));
  const holds = () => rolloutHolds({ previous, next, applied: (n) => applied.get(n) }).map((h) => [h.name, h.waitingFor, h.waitingForRole]);
  const take = (n: string, revision: number, ok?: boolean) => {
    previous.set(n, { body: next.get(n)!, revision });
    if (ok !== undefined) applied.set(n, { revision, ok });
  };
  assert.equal(holds(), [['m2', 'm1', 'master'], ['e1', 'm1', 'master'], ['e2', 'm1', 'master'], ['e3', 'm1', 'master'], ['w1', 'm1', 'master']], 'm1 first; the etcd members and the worker after the masters');
  take('m1', 10, true);
  assert.equal(holds(), [['e1', 'm2', 'master'], ['e2', 'm2', 'master'], ['e3', 'm2', 'master'], ['w1', 'm2', 'master']]);
  take('m2', 11, true);
  assert.equal(holds(), [['e2', 'e1', 'etcd member'], ['e3', 'e1', 'etcd member']], 'the masters are done: the worker goes, the etcd members one at a time');
  take('e1', 12);
  assert.equal(holds(), [['e2', 'e1', 'etcd member'], ['e3', 'e1', 'etcd member']], 'e1 has its new body but has not reported: its etcd may still be down');
  applied.set('e1', { revision: 12, ok: false });
  assert.equal(holds(), [['e2', 'e1', 'etcd member'], ['e3', 'e1', 'etcd member']], 'a failed apply holds the others: restarting one more member could lose quorum');
  applied.set('e1', { revision: 12, ok: true });
  assert.equal(holds(), [['e3', 'e2', 'etcd member']]);
  take('e2', 13, true);
  assert.equal(holds(), [], 'the last member goes');
});

test('pure: a member that has not applied goes first; one that is down holds every change that restarts another etcd member, not a master without etcd', () => {
  const body = (roles: string[], registry: string, delay = '15s') => ({ roles, kubernetes_version: 'v1.36.3', settings: { kubernetes_image_repository: registry, apiserver_shutdown_delay: delay } });
  const roles: Record<string, string[]> = { m1: ['etcd', 'master'], m2: ['master'], e1: ['etcd'], e2: ['etcd'], w1: ['worker'] };
  const previous = new Map(Object.entries(roles).map(([n, r], k) => [n, { body: body(r, 'bad.example'), revision: k + 1 }]));
  // e2 could not pull from the bad registry: its apply failed. The fixed registry reaches it before e1.
  const applied = new Map([...previous].map(([n, p]) => [n, { revision: p.revision, ok: n !== 'e2' }]));
  const fixed = new Map(Object.entries(roles).map(([n, r]) => [n, body(r, 'registry.k8s.io')]));
  const holds = (next: Map<string, ReturnType<typeof body>>) => rolloutHolds({ previous, next, applied: (n) => applied.get(n) }).map((h) => [h.name, h.waitingFor, h.change]);
  const change = 'settings (kubernetes_image_repository)';
  assert.equal(holds(fixed), [['m1', 'e2', change], ['m2', 'e2', change], ['e1', 'e2', change], ['w1', 'm1', change]], 'e2, which has not applied, before the masters; the worker after the masters');
  previous.set('e2', { body: fixed.get('e2')!, revision: 10 });
  assert.equal(holds(fixed), [['m1', 'e2', change], ['e1', 'e2', change], ['w1', 'm1', change]], 'e2 has it, not yet applied: the stacked master and e1 wait, the master without etcd goes');
  applied.set('e2', { revision: 10, ok: true });
  assert.equal(holds(fixed), [['m2', 'm1', change], ['e1', 'm1', change], ['w1', 'm1', change]]);
  previous.set('e2', { body: body(roles.e2!, 'bad.example'), revision: 5 });
  applied.set('e2', { revision: 5, ok: false });
  // e2 is down and gets nothing new (a master-only setting changes): the stacked master waits for
  // it, the master without etcd does not, and etcd-only members are not held (they do not change).
  const delay = new Map(Object.entries(roles).map(([n, r]) => [n, body(r, 'bad.example', n.startsWith('m') ? '35s' : '15s')]));
  assert.equal(holds(delay), [['m1', 'e2', 'settings (apiserver_shutdown_delay)']]);
  // A new version for all, e2 changing too: e2 goes first, even before the masters (one exception
  // to the version order: restarting a healthy member now could lose quorum); the worker waits for the masters.
  const version = new Map(Object.entries(roles).map(([n, r]) => [n, { ...body(r, 'bad.example'), kubernetes_version: 'v1.37.0' }]));
  assert.equal(rolloutHolds({ previous, next: version, applied: (n) => applied.get(n) }).map((h) => [h.name, h.waitingFor]), [['m1', 'e2'], ['m2', 'e2'], ['e1', 'e2'], ['w1', 'm1']]);
});

test('pure: a new etcd member list or networking restarts the control plane one node at a time; the workers are not held for them', () => {
  const members = (names: string[]) => names.map((n) => ({ name: n, peer_url: `https://${n}:2380` }));
  const body = (roles: string[], etcd: string[], proxy = '') => ({ roles, kubernetes_version: 'v1.36.3', settings: {}, etcd_members: members(etcd), networking: { http_proxy: proxy } });
  const roles: Record<string, string[]> = { m1: ['etcd', 'master'], m2: ['master'], e1: ['etcd'], w1: ['worker'] };
  const previous = new Map(Object.entries(roles).map(([n, r], k) => [n, { body: body(r, ['e1', 'm1']), revision: k + 1 }]));
  const applied = new Map([...previous].map(([n, p]) => [n, { revision: p.revision, ok: true }]));
  const holds = (next: Map<string, ReturnType<typeof body>>) => rolloutHolds({ previous, next, applied: (n) => applied.get(n) }).map((h) => [h.name, h.waitingFor, h.change]);
  // A third member (e2, new: never held) changes every current member's --initial-cluster and every API server's --etcd-servers.
  const grown = new Map(Object.entries(roles).map(([n, r]) => [n, body(r, ['e1', 'e2', 'm1'])]));
  assert.equal(holds(grown), [['m2', 'm1', 'etcd members'], ['e1', 'm1', 'etcd members']]);
  const proxied = new Map(Object.entries(roles).map(([n, r]) => [n, body(r, ['e1', 'm1'], 'http://proxy:3128')]));
  assert.equal(holds(proxied), [['m2', 'm1', 'networking'], ['e1', 'm1', 'networking']], 'every static pod carries the proxy variables');
});

test('pure: an operator\'s renewal (certs renew --all) reaches the control plane one node at a time, then the workers a batch at a time; an older request holds nothing', () => {
  const body = (roles: string[], renew: number) => ({ roles, kubernetes_version: 'v1.36.3', settings: {}, pki: { renew_before_ms: renew } });
  const roles: Record<string, string[]> = { m1: ['etcd', 'master'], e1: ['etcd'], e2: ['etcd'], w1: ['worker'], w2: ['worker'] };
  const previous = new Map(Object.entries(roles).map(([n, r], k) => [n, { body: body(r, 0), revision: k + 1 }]));
  const applied = new Map([...previous].map(([n, p]) => [n, { revision: p.revision, ok: true }]));
  const next = new Map(Object.entries(roles).map(([n, r]) => [n, body(r, 5_000)]));
  const holds = () => rolloutHolds({ previous, next, applied: (n) => applied.get(n) }).map((h) => [h.name, h.waitingFor, h.change]);
  assert.equal(holds(), [['e1', 'm1', 'certificate renewal'], ['e2', 'm1', 'certificate renewal'], ['w1', 'm1', 'certificate renewal'], ['w2', 'm1', 'certificate renewal']], 'm1 goes alone');
  // m1 handed the request (revision 6), not yet applied: everyone still waits for it; applied, e1 goes.
  previous.set('m1', { body: body(roles.m1!, 5_000), revision: 6 });
  assert.equal(holds().map((h) => h[0]), ['e1', 'e2', 'w1', 'w2']);
  applied.set('m1', { revision: 6, ok: true });
  assert.equal(holds(), [['e2', 'e1', 'certificate renewal'], ['w2', 'w1', 'certificate renewal']], 'the masters are done: e1 goes, e2 waits for it; the workers go a batch at a time (two workers: a batch of one)');
  // The request already applied, or an older one: nothing is held.
  const same = new Map([...previous].map(([n, p]) => [n, p.body]));
  assert.equal(rolloutHolds({ previous, next: same, applied: (n) => applied.get(n) }), []);
  const older = new Map(Object.entries(roles).map(([n, r]) => [n, body(r, 0)]));
  previous.forEach((p, n) => previous.set(n, { ...p, body: body(roles[n]!, 5_000) }));
  assert.equal(rolloutHolds({ previous, next: older, applied: () => ({ revision: 99, ok: true }) }), [], 'a target whose request is older restarts nothing for it');
});

test('pure (review findings): a member made a master keeps its etcd turn; a node is never held by itself; a new worker waits for the masters\' version', () => {
  const body = (roles: string[], v = 'v1.35.4', registry = 'r.example') => ({ roles, kubernetes_version: v, settings: { kubernetes_image_repository: registry } });
  // e3 becomes a master in the same plan as the new version: it still restarts its etcd, so it waits its turn.
  let previous = new Map([
    ['m1', { body: body(['etcd', 'master']), revision: 1 }],
    ['m2', { body: body(['etcd', 'master']), revision: 2 }],
    ['e3', { body: body(['etcd']), revision: 3 }],
  ]);
  let applied = new Map([...previous].map(([n, p]) => [n, { revision: p.revision, ok: true }]));
  let next = new Map([['m1', body(['etcd', 'master'], 'v1.36.3')], ['m2', body(['etcd', 'master'], 'v1.36.3')], ['e3', body(['etcd', 'master'], 'v1.36.3')]]);
  const run = () => rolloutHolds({ previous, next, applied: (n) => applied.get(n) }).map((h) => [h.name, h.waitingFor]);
  assert.equal(run(), [['m2', 'm1'], ['e3', 'm1']], 'one etcd member at a time, the promoted one included');
  // m3 failed its promotion to master (a bad registry); the plan makes it a worker again and fixes
  // the registry: it must not wait for itself, nor hold the others for a body it will never apply.
  previous = new Map([
    ['m1', { body: body(['etcd', 'master'], 'v1.36.3', 'bad.example'), revision: 1 }],
    ['m2', { body: body(['etcd', 'master'], 'v1.36.3', 'bad.example'), revision: 2 }],
    ['m3', { body: body(['master'], 'v1.36.3', 'bad.example'), revision: 9 }],
    ['w1', { body: body(['worker'], 'v1.36.3', 'bad.example'), revision: 4 }],
  ]);
  applied = new Map([...previous].map(([n, p]) => [n, { revision: p.revision, ok: n !== 'm3' }]));
  next = new Map([['m1', body(['etcd', 'master'], 'v1.36.3')], ['m2', body(['etcd', 'master'], 'v1.36.3')], ['m3', body(['worker'], 'v1.36.3')], ['w1', body(['worker'], 'v1.36.3')]]);
  const holds = run();
  assert.ok(holds.every(([n, w]) => n !== w), `no node waits for itself: ${JSON.stringify(holds)}`);
  assert.equal(holds, [['m2', 'm1'], ['m3', 'm1'], ['w1', 'm1']], 'the masters first, m1 goes; the workers (m3 now one) after them');
  // A worker that joins while the masters change version gets no body until they are done.
  previous = new Map([['m1', { body: body(['master']), revision: 1 }], ['m2', { body: body(['master']), revision: 2 }]]);
  applied = new Map([...previous].map(([n, p]) => [n, { revision: p.revision, ok: true }]));
  next = new Map([['m1', body(['master'], 'v1.36.3')], ['m2', body(['master'], 'v1.36.3')], ['w9', body(['worker'], 'v1.36.3')]]);
  const h = rolloutHolds({ previous, next, applied: (n) => applied.get(n) });
  assert.equal(h.map((x) => [x.name, x.waitingFor, x.change]), [['m2', 'm1', 'Kubernetes v1.35.4 -> v1.36.3'], ['w9', 'm1', 'Kubernetes v1.36.3 (a new node)']]);
  next.set('m1', body(['master'], 'v1.35.4'));
  next.set('m2', body(['master'], 'v1.35.4'));
  next.set('w9', body(['worker'], 'v1.35.4'));
  assert.equal(rolloutHolds({ previous, next, applied: (n) => applied.get(n) }), [], 'no rollout: a new node is never held');
});

test('pure: a node is held only for what it reads: Calico\'s settings not on workers, only the image repository and the runtime on an etcd member and nothing else (its standalone kubelet), not the proxy mode', () => {
  const body = (roles: string[], settings: Record<string, string>) => ({ roles, kubernetes_version: 'v1.36.3', settings: { kubernetes_image_repository: 'r.example', calico_image_repository: 'c.example', proxy_mode: 'iptables', ...settings } });
  const roles: Record<string, string[]> = { m1: ['master'], e1: ['etcd'], e2: ['etcd'], w1: ['worker'], w2: ['worker'] };
  const previous = new Map(Object.entries(roles).map(([n, r], k) => [n, { body: body(r, {}), revision: k + 1 }]));
  const applied = new Map([...previous].map(([n, p]) => [n, { revision: p.revision, ok: true }]));
  const holds = (settings: Record<string, string>) => rolloutHolds({ previous, next: new Map(Object.entries(roles).map(([n, r]) => [n, body(r, settings)])), applied: (n) => applied.get(n) }).map((h) => [h.name, h.waitingFor]);
  assert.equal(holds({ calico_image_repository: 'mirror.example' }), [], 'only the master applies Calico');
  assert.equal(holds({ proxy_mode: 'ipvs' }), [['w1', 'm1'], ['w2', 'm1']], 'kube-proxy runs on masters and workers, not on etcd-only members');
  assert.equal(holds({ kubernetes_image_repository: 'mirror.example' }), [['e1', 'm1'], ['e2', 'm1'], ['w1', 'm1'], ['w2', 'm1']], 'the etcd image');
  const runtime = (mtu: number) => ({ runtime: { type: 'containerd', mtu } }) as unknown as Record<string, string>;
  assert.equal(holds(runtime(1400)), [['e1', 'm1'], ['e2', 'm1'], ['w1', 'm1'], ['w2', 'm1']], 'the runtime runs etcd on an etcd-only member too');
});

test('1.35 -> 1.36: the masters re-render one at a time, each after the one before applied; the worker last', async () => {
  const s = await joinedCluster(plan('v1.35.4'));
  try {
    const serial = (name: string) => `${NODES.indexOf(name) + 1}`;
    const version = (name: string) => s.assignments.get(name)?.body.kubernetes_version;
    const applied = new Map<string, number>();

    /** The simulated agent: renders its committed assignment, checks the apiserver image, reports ok. */
    const agentApplies = async (name: string) => {
      const c = s.assignments.get(name)!;
      const assignment = { ...c.body, revision: c.revision, plan_revision: c.planRevision, pki: null } as unknown as AssignmentOut;
      const { files } = renderNodeFiles({ assignment });
      if (MASTERS.includes(name)) {
        const pod = parse(files.find((f) => f.path.endsWith('manifests/kube-apiserver.yaml'))!.content);
        assert.is(pod.spec.containers[0].image, `registry.k8s.io/kube-apiserver:${c.body.kubernetes_version}`, `${name}: the manifest names its version's image`);
      }
      await s.recordApply(name, serial(name), { revision: c.revision, ok: true, error: '', files: [], durationMs: 1 });
      applied.set(name, c.revision);
      await s.idle();
    };
    for (const n of NODES) await agentApplies(n);
    assert.equal(NODES.map(version), ['v1.35.4', 'v1.35.4', 'v1.35.4', 'v1.35.4']);

    const r = await s.applyPlan(plan('v1.36.3'), 'plan2.yaml');
    assert.equal(r.refusals, [], 'a one-minor upgrade is allowed');
    assert.equal(r.changedNodes, NODES, 'the held nodes are changed nodes too (plan apply --wait waits for them)');
    await s.idle();
    // Status: a held node applied what it holds but is not up to date, and says what it waits for.
    const m2 = s.status().find((x) => x.name === 'm2')!;
    assert.is(m2.state, 'applied');
    assert.is(m2.upToDate, false, 'held: not up to date');
    assert.match(m2.detail, /^next: Kubernetes v1\.35\.4 -> v1\.36\.3 waits for master m1/);
    const seen: string[][] = [NODES.map(version) as string[]];
    for (let step = 0; step < NODES.length; step++) {
      const upgradedNotApplied = NODES.filter((n) => version(n) === 'v1.36.3' && applied.get(n) !== s.assignments.get(n)!.revision);
      assert.is(upgradedNotApplied.length, 1, `step ${step}: exactly one node handed 1.36 and not yet applied (${NODES.map((n) => `${n}=${version(n)}`).join(' ')})`);
      const [next] = upgradedNotApplied;
      assert.is(next, NODES[step], `step ${step}: masters in name order, then the worker`);
      if (step < NODES.length - 1) {
        const waiting = s.assignments.waitingReason(NODES[step + 1]!);
        assert.match(waiting ?? '', `waits for master ${next}`, `step ${step}: the next node says what it waits for`);
      }
      await agentApplies(next!);
      seen.push(NODES.map(version) as string[]);
    }
    assert.equal(seen.at(-1), ['v1.36.3', 'v1.36.3', 'v1.36.3', 'v1.36.3']);
    for (const n of NODES) assert.not.match(s.assignments.waitingReason(n) ?? '', 'waits for master', `${n}: nothing held at the end`);
    assert.ok(s.status().every((x) => x.upToDate && x.detail === ''), 'every node up to date at the end');
  } finally {
    await s.close();
  }
});

test('a new API server shutdown delay: the masters take it one at a time, each after the one before applied; the worker at once', async () => {
  const s = await joinedCluster(plan('v1.36.3'));
  try {
    const delay = (name: string) => s.assignments.get(name)?.body.settings?.apiserver_shutdown_delay;
    const applied = new Map<string, number>();
    /** The simulated agent: renders its committed assignment, reads the flag, reports ok. */
    const agentApplies = async (name: string) => {
      const c = s.assignments.get(name)!;
      const assignment = { ...c.body, revision: c.revision, plan_revision: c.planRevision, pki: null } as unknown as AssignmentOut;
      if (MASTERS.includes(name)) {
        const pod = parse(renderNodeFiles({ assignment }).files.find((f) => f.path.endsWith('manifests/kube-apiserver.yaml'))!.content);
        assert.ok(pod.spec.containers[0].command.includes(`--shutdown-delay-duration=${c.body.settings!.apiserver_shutdown_delay}`), `${name}: the manifest carries its delay`);
      }
      await s.recordApply(name, `${NODES.indexOf(name) + 1}`, { revision: c.revision, ok: true, error: '', files: [], durationMs: 1 });
      applied.set(name, c.revision);
      await s.idle();
    };
    for (const n of NODES) await agentApplies(n);
    assert.equal(NODES.map(delay), ['15s', '15s', '15s', '15s']);

    await s.applyPlan(plan('v1.36.3', '35s'), 'plan2.yaml');
    await s.idle();
    assert.is(delay('w1'), '35s', 'the worker is not held: its settings do not restart an API server');
    await agentApplies('w1');
    for (const [step, m] of MASTERS.entries()) {
      const handed = MASTERS.filter((n) => delay(n) === '35s' && applied.get(n) !== s.assignments.get(n)!.revision);
      assert.equal(handed, [m], `step ${step}: exactly one master handed the new delay and not yet applied (${MASTERS.map((n) => `${n}=${delay(n)}`).join(' ')})`);
      for (const later of MASTERS.slice(step + 1)) {
        assert.is(delay(later), '15s', `step ${step}: ${later} keeps its committed body`);
        assert.match(s.assignments.waitingReason(later) ?? '', `settings (apiserver_shutdown_delay) waits for master ${m}`, `step ${step}: ${later} says what it waits for`);
      }
      await agentApplies(m);
    }
    assert.equal(NODES.map(delay), ['35s', '35s', '35s', '35s']);
    for (const n of NODES) assert.not.match(s.assignments.waitingReason(n) ?? '', 'waits for master', `${n}: nothing held at the end`);
  } finally {
    await s.close();
  }
});

test.run();
