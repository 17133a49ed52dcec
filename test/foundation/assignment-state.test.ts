// Role assignment inside a running coordinator: pool members and pod blocks under concurrent
// joins, stability across a coordinator restart, and plan changes refused unless forced.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempDir, testCoordinator, waitFor, captureLogger } from '../helpers/cluster.ts';
import { rejects } from '../helpers/assert.ts';
import { join as joinCoordinator } from '../../agent/client/join.ts';
import { agentClient } from '../../agent/client/channels.ts';
import { unary } from '../../shared/wire/status.ts';
import { loadAdminConfig } from '../../coordinator/admin/config.ts';
import { connectAdmin } from '../../coordinator/admin/client.ts';
import { addressBlock } from '../helpers/addresses.ts';

const net = addressBlock(import.meta.url);

const WORKERS = 40;
const plan = (podCidr = '172.16.0.0/16') => `cluster:
  name: pools
  version: v1.36.3
  networking:
    pod_cidr_block: ${podCidr}
    service_cidr_block: 172.17.0.0/16
etcd:
  expected_count: 1
  nodes: [ { host: node-000, ip: ${net.host(2)} } ]
master:
  expected_count: 1
  nodes: [ { host: node-000, ip: ${net.host(2)} } ]
worker:
  expected_count: ${WORKERS}
  pool: { min_cpus: 1 }
`;

test('concurrent joins fill a pool with unique pod blocks; a restart keeps every assignment; risky plan changes need --force', async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'coord');
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, plan());
  let c = await testCoordinator(dataDir, { planFile, listen: `${net.host(1)}:0` });
  const log = captureLogger('agents');
  try {
    const { token } = await c.state.tokens.create({});
    const names = Array.from({ length: WORKERS + 1 }, (_, i) => `node-${String(i).padStart(3, '0')}`);
    // All joins at once, then one report each so pools can judge the node's CPUs.
    const ids = await Promise.all(
      names.map((n, i) =>
        joinCoordinator({ coordinator: c.address, token, caHash: c.identity.caPin, insecureSkipCaVerification: false, nodeName: n, machineId: `m-${n}`, address: net.host(i + 2), labels: {}, agentVersion: 'test' }, log),
      ),
    );
    await Promise.all(
      ids.map(async (id) => {
        const client = agentClient(c.address, id);
        await unary(c.address, client, 'Report', { facts: { cpu: { logical_cores: 2 } }, full: true, sent_at_ms: Date.now() }, 5000);
        client.close();
      }),
    );
    await waitFor('every node assigned', () => names.every((n) => c.state.assignments.get(n)));
    const blocks = names.map((n) => c.state.assignments.get(n)!.body.pod_cidr);
    assert.is(new Set(blocks).size, names.length, `pod blocks handed out twice: ${blocks.join(' ')}`);
    assert.ok(blocks.every((b) => /^172\.16\.\d+\.\d+\/26$/.test(b)));
    assert.equal(c.state.assignments.get('node-000')!.body.roles, ['etcd', 'master']);
    assert.ok(names.slice(1).every((n) => c.state.assignments.get(n)!.body.roles.join() === 'worker'));

    // Restart: the same assignments with the same revisions.
    const before = Object.fromEntries(names.map((n) => [n, JSON.stringify(c.state.assignments.get(n))]));
    await c.close();
    c = await testCoordinator(dataDir, { planFile, listen: `${net.host(1)}:0` });
    await c.state.idle(); // the recompute a start runs has run, and changed nothing:
    for (const n of names) assert.is(JSON.stringify(c.state.assignments.get(n)), before[n], `${n} changed across a restart`);

    // Changing the pod CIDR of a live cluster is refused with the reason, and accepted with --force.
    const admin = connectAdmin(await loadAdminConfig({ dataDir, env: {} }));
    const e = await rejects(() => admin.call('ApplyPlan', { plan_yaml: plan('10.244.0.0/16'), file_name: 'new.yaml', force: false }));
    assert.is(e.kind, 'failed-precondition');
    assert.match(e.message, /would disrupt the running cluster/);
    assert.match(e.message, /pod_cidr_block/);
    assert.is((await admin.call('PlanHistory', {})).plans.length, 1, 'refused plan not stored');
    const ok = await admin.call('ApplyPlan', { plan_yaml: plan('10.244.0.0/16'), file_name: 'new.yaml', force: true });
    assert.is(ok.changed_nodes.length, names.length);
    const hist = await admin.call('PlanHistory', {});
    assert.is(hist.plans.length, 2);
    assert.ok(hist.plans[1]!.forced);
    assert.ok(names.every((n) => c.state.assignments.get(n)!.body.pod_cidr.startsWith('10.244.')));
    admin.close();
  } finally {
    await c.close();
  }
});

test.run();
