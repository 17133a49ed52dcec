// Issue 13, upgrade path: the three-node control plane of test/helpers/control-plane/ at the
// previous minor (v1.35.4), then the plan moves to v1.36.3. The coordinator hands the new version
// to one master at a time (coordinator/assign/rollout.ts), each master's agent reports the apply only
// once its own API server is ready at the new version (agent/kube/api-server-ready.ts), so when the
// second master's manifest changes, the first already serves v1.36.3 -- and the API stays up through
// the load balancer all along.
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

const manifestVersion = (n: ControlPlaneNode) => /kube-apiserver:(v[0-9.]+)/.exec(readFileSync(join(n.root, 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8'))?.[1];

async function serverVersion(c: ControlPlane, n: ControlPlaneNode): Promise<string> {
  const r = await c.kubectl(c.adminKubeconfig, [`--server=https://${n.host.ip}:6443`, 'get', '--raw', '/version'], { timeoutMs: 20_000 });
  return JSON.parse(r.stdout).gitVersion;
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
  const order: string[] = [];
  const violations: string[] = [];
  const lbFailures: string[] = [];
  let applying = true;
  const watch = (async () => {
    while (applying) {
      for (const m of c.masters) {
        if (order.includes(m.name) || manifestVersion(m) !== K8S_VERSION) continue;
        for (const earlier of order) {
          const e = c.node(earlier);
          const v = await serverVersion(c, e).catch((err: Error) => `unreachable (${err.message.slice(-200)})`);
          if (v !== K8S_VERSION) violations.push(`${m.name}'s manifest changed while ${earlier} served ${v}`);
        }
        order.push(m.name);
      }
      await c.kubectl(c.adminKubeconfig, ['get', '--raw', '/readyz'], { timeoutMs: 20_000 }).catch((e: Error) => lbFailures.push(e.message.slice(-300)));
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  try {
    await c.muster(['plan', 'apply', next, '--wait', '--timeout', '12m'], 13 * 60_000);
    // `--wait` follows the nodes the apply changed; masters held by the rollout come after it.
    const deadline = Date.now() + 8 * 60_000;
    while (order.length < c.masters.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    for (const m of c.masters) {
      while (Date.now() < deadline && (await serverVersion(c, m).catch(() => '')) !== K8S_VERSION) await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    applying = false;
    await watch;
  }
  console.log(`  masters changed in order: ${order.join(', ')}; ${lbFailures.length} failed /readyz through the load balancer`);
  assert.equal(violations, []);
  assert.equal([...order].sort(), c.masters.map((m) => m.name).sort(), 'every master changed');
  for (const m of c.masters) assert.is(await serverVersion(c, m), K8S_VERSION, `${m.name} serves ${K8S_VERSION}`);
  // A restarting API server serves on for --shutdown-delay-duration while its /readyz fails, so a
  // connection the load balancer places on it before its next check (500 ms) is answered, never
  // reset: by that /readyz saying "shutdown failed". Only that is allowed.
  assert.ok(lbFailures.every((f) => /shutdown failed/.test(f)) && lbFailures.length <= 3, `through the load balancer: ${lbFailures.join(' | ')}`);
});

test.run();
