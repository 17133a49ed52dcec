// Issue 13, upgrade path: the three-node control plane of test/helpers/control-plane/ at the
// previous minor (v1.35.4), then the plan moves to v1.36.3. The coordinator hands the new version
// to one master at a time (coordinator/assign/rollout.ts), each master's agent reports the apply only
// once its own API server is ready at the new version (agent/kube/api-server-ready.ts), so when the
// second master's manifest changes, the first already serves v1.36.3 -- and the API stays up through
// the load balancer all along. The etcd image follows the minor, so the three etcd members restart
// too, one at a time (masters first, then node-3, a member that is no master), each agent
// reporting only once its restarted member is ready again (agent/kube/etcd-ready.ts). Then the same cluster takes a new master.apiserver_shutdown_delay:
// a settings change, same version, which the rollout treats alike; here the agent can tell the new
// API server from the old one only by seeing the old one go (its /readyz fails once it is told to
// stop), so when a master's manifest changes every master before it was restarted and is ready.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bringUpControlPlane, type ControlPlane, type ControlPlaneNode } from '../helpers/control-plane/cluster.ts';
import { K8S_PREVIOUS_VERSION, K8S_VERSION, programTableFor } from '../helpers/k8s-programs.ts';

let cp: ControlPlane | undefined;
test.after(async () => {
  await cp?.teardown();
  setTimeout(() => process.exit(), 2_000).unref();
});

const etcdNodes = (c: ControlPlane) => c.nodes.filter((n) => n.roles.includes('etcd'));
const etcdTag = (n: ControlPlaneNode) => /\/etcd:([0-9a-z.-]+)/.exec(readFileSync(join(n.root, 'etc/kubernetes/manifests/etcd.yaml'), 'utf8'))?.[1];
const etcdStarts = (n: ControlPlaneNode) => n.pods.starts.filter((st) => st.pod === 'etcd').length;

/** The member's own /readyz (a linearizable read: a leader and a quorum), asked inside its node's namespace. */
async function etcdReady(c: ControlPlane, n: ControlPlaneNode): Promise<string> {
  const script = `fetch('http://127.0.0.1:2381/readyz?verbose',{signal:AbortSignal.timeout(15000)}).then(async(r)=>console.log(r.status,(await r.text()).replace(/\\s+/g,' ')),(e)=>console.log('no answer',e.message))`;
  return (await c.exec([process.execPath, '-e', script], { ns: n.host.ns, timeoutMs: 20_000 })).stdout.trim();
}

const manifestVersion = (n: ControlPlaneNode) => /kube-apiserver:(v[0-9.]+)/.exec(readFileSync(join(n.root, 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8'))?.[1];

async function serverVersion(c: ControlPlane, n: ControlPlaneNode): Promise<string> {
  const r = await c.kubectl(c.adminKubeconfig, [`--server=https://${n.host.ip}:6443`, 'get', '--raw', '/version'], { timeoutMs: 20_000 });
  return JSON.parse(r.stdout).gitVersion;
}

interface RolloutWatch {
  /** Masters in the order their manifests were seen changed. */
  order: string[];
  /** What was wrong with the masters before each one when its manifest changed. */
  violations: string[];
  /** /readyz answers through the load balancer that were not ok. */
  lbFailures: string[];
  stop(): Promise<void>;
}

/**
 * Watches the nodes' manifests (the masters' by default) while a plan applies: when `changed`
 * first holds for a node, `problem` is asked of every node that changed before it (null: none).
 * Meanwhile the API is asked for /readyz through the load balancer, every 200 ms.
 */
function watchRollout(c: ControlPlane, changed: (m: ControlPlaneNode) => boolean, problem: (m: ControlPlaneNode, earlier: ControlPlaneNode) => Promise<string | null>, nodes: readonly ControlPlaneNode[] = c.masters): RolloutWatch {
  const w = { order: [] as string[], violations: [] as string[], lbFailures: [] as string[] };
  let watching = true;
  const loop = (async () => {
    while (watching) {
      for (const m of nodes) {
        if (w.order.includes(m.name) || !changed(m)) continue;
        for (const earlier of w.order) {
          const p = await problem(m, c.node(earlier));
          if (p) w.violations.push(p);
        }
        w.order.push(m.name);
      }
      await c.kubectl(c.adminKubeconfig, ['get', '--raw', '/readyz'], { timeoutMs: 20_000 }).catch((e: Error) => w.lbFailures.push(e.message.slice(-300)));
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    ...w,
    stop: async () => {
      watching = false;
      await loop;
    },
  };
}

test(`a ${K8S_PREVIOUS_VERSION} control plane moves to ${K8S_VERSION} one master at a time, each ready before the next`, async () => {
  const programs = { ...programTableFor({ kubernetes_version: K8S_PREVIOUS_VERSION, settings: null }), ...programTableFor({ kubernetes_version: K8S_VERSION, settings: null }) };
  const c = (cp = await bringUpControlPlane({ name: 'up', version: K8S_PREVIOUS_VERSION, programs, progress: (l) => console.log(`  ${l}`) }));
  for (const m of c.masters) {
    assert.is(manifestVersion(m), K8S_PREVIOUS_VERSION);
    assert.is(await serverVersion(c, m), K8S_PREVIOUS_VERSION);
  }

  const plan = readFileSync(c.planFile, 'utf8');
  assert.match(plan, `version: ${K8S_PREVIOUS_VERSION}`);
  const next = join(c.dir, 'plan-next.yaml');
  writeFileSync(next, plan.replace(`version: ${K8S_PREVIOUS_VERSION}`, `version: ${K8S_VERSION}`));

  // Watch the masters' manifests while the plan applies; when one changes, every master that changed
  // before it must already serve the new version. The API must answer through the load balancer.
  const w = watchRollout(
    c,
    (m) => manifestVersion(m) === K8S_VERSION,
    async (m, e) => {
      const v = await serverVersion(c, e).catch((err: Error) => `unreachable (${err.message.slice(-200)})`);
      return v === K8S_VERSION ? null : `${m.name}'s manifest changed while ${e.name} served ${v}`;
    },
  );
  // The etcd image follows the minor: every member's manifest changes too (node-3's, an etcd
  // member that is no master, after the masters'). When one changes, every member that changed
  // before it must have been restarted and be ready again, or two members are down at once.
  const etcdBefore = new Map(etcdNodes(c).map((n) => [n.name, { tag: etcdTag(n), starts: etcdStarts(n) }]));
  const we = watchRollout(
    c,
    (n) => etcdTag(n) !== etcdBefore.get(n.name)!.tag,
    async (n, e) => {
      if (etcdStarts(e) <= etcdBefore.get(e.name)!.starts) return `${n.name}'s etcd manifest changed while ${e.name}'s etcd had not been restarted`;
      const r = await etcdReady(c, e);
      return r.startsWith('200 ') ? null : `${n.name}'s etcd manifest changed while ${e.name}'s etcd was not ready: ${r}`;
    },
    etcdNodes(c),
  );
  const { order, violations, lbFailures } = w;
  const applyAt = Date.now();
  try {
    await c.muster(['plan', 'apply', next, '--wait', '--timeout', '12m'], 13 * 60_000);
    // `--wait` follows the nodes the apply changed; nodes held by the rollout come after it.
    const deadline = Date.now() + 8 * 60_000;
    while ((order.length < c.masters.length || we.order.length < etcdNodes(c).length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    for (const m of c.masters) {
      while (Date.now() < deadline && (await serverVersion(c, m).catch(() => '')) !== K8S_VERSION) await new Promise((r) => setTimeout(r, 500));
    }
    // The last member's manifest may have just changed: its restart is the runner's next step.
    for (const n of etcdNodes(c)) {
      await n.pods.started('etcd', applyAt, Math.max(1, deadline - Date.now()));
      while (Date.now() < deadline && !(await etcdReady(c, n)).startsWith('200 ')) await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await w.stop();
    await we.stop();
  }
  console.log(`  masters changed in order: ${order.join(', ')}; etcd members: ${we.order.join(', ')}; ${lbFailures.length} failed /readyz through the load balancer`);
  assert.equal(violations, []);
  assert.equal(we.violations, []);
  assert.equal(we.order, etcdNodes(c).map((n) => n.name).sort(), 'every etcd member, the masters first, in name order');
  for (const n of etcdNodes(c)) assert.ok(etcdStarts(n) > etcdBefore.get(n.name)!.starts, `${n.name}'s etcd was restarted`);
  assert.equal([...order].sort(), c.masters.map((m) => m.name).sort(), 'every master changed');
  for (const m of c.masters) assert.is(await serverVersion(c, m), K8S_VERSION, `${m.name} serves ${K8S_VERSION}`);
  // A restarting API server serves on for --shutdown-delay-duration while its /readyz fails, so a
  // connection the load balancer places on it before its next check (500 ms) is answered, never
  // reset: by that /readyz saying "shutdown failed". Only that is allowed.
  assert.ok(lbFailures.every((f) => /shutdown failed/.test(f)) && lbFailures.length <= 3, `through the load balancer: ${lbFailures.join(' | ')}`);
});

test('a new API server shutdown delay reaches the masters one at a time, each restarted and ready before the next', async () => {
  const c = cp;
  assert.ok(c, 'the control plane of the test before');
  const DELAY = '3s';
  const manifest = (n: ControlPlaneNode) => readFileSync(join(n.root, 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8');
  const apiStarts = (n: ControlPlaneNode) => n.pods.starts.filter((st) => st.pod === 'kube-apiserver').length;
  const startsBefore = new Map(c.masters.map((m) => [m.name, apiStarts(m)]));
  for (const m of c.masters) assert.not.match(manifest(m), `--shutdown-delay-duration=${DELAY}`);
  // The kubelet stand-in replaces a pod 3 s after its manifest changed, as a kubelet may: the
  // old API server answers ready meanwhile, and an agent that took that answer for the new
  // server's would let the next master go while this one has yet to restart.
  for (const m of c.masters) m.pods.lagMs = 3_000;
  const current = join(c.dir, 'plan-next.yaml');
  const next = join(c.dir, 'plan-delay.yaml');
  writeFileSync(next, readFileSync(current, 'utf8').replace(/^master:\n/m, `master:\n  apiserver_shutdown_delay: ${DELAY}\n`));

  const w = watchRollout(
    c,
    (m) => manifest(m).includes(`--shutdown-delay-duration=${DELAY}`),
    async (m, e) => {
      if (apiStarts(e) <= startsBefore.get(e.name)!) return `${m.name}'s manifest changed while ${e.name}'s API server had not been restarted`;
      const r = await c.kubectl(c.adminKubeconfig, [`--server=https://${e.host.ip}:6443`, 'get', '--raw', '/readyz'], { timeoutMs: 20_000 }).catch((err: Error) => ({ stdout: `unreachable (${err.message.slice(-200)})` }));
      return r.stdout.trim() === 'ok' ? null : `${m.name}'s manifest changed while ${e.name} was not ready: ${r.stdout.trim()}`;
    },
  );
  const { order, violations, lbFailures } = w;
  try {
    await c.muster(['plan', 'apply', next, '--wait', '--timeout', '12m'], 13 * 60_000);
    const deadline = Date.now() + 8 * 60_000;
    while (Date.now() < deadline && c.masters.some((m) => apiStarts(m) <= startsBefore.get(m.name)! || !order.includes(m.name))) await new Promise((r) => setTimeout(r, 500));
  } finally {
    await w.stop();
  }
  console.log(`  masters took the new delay in order: ${order.join(', ')}; ${lbFailures.length} failed /readyz through the load balancer`);
  assert.equal(violations, []);
  assert.equal(order, c.masters.map((m) => m.name).sort(), 'every master, in name order');
  for (const m of c.masters) {
    assert.ok(apiStarts(m) > startsBefore.get(m.name)!, `${m.name}'s API server was restarted`);
    assert.ok(m.pods.pods.get('kube-apiserver')?.spec.args.includes(`--shutdown-delay-duration=${DELAY}`), `${m.name} runs with the new delay`);
  }
  assert.ok(lbFailures.every((f) => /shutdown failed/.test(f)) && lbFailures.length <= 3, `through the load balancer: ${lbFailures.join(' | ')}`);
});

test.run();
