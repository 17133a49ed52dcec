// The pull loop end to end over real gRPC and mutual TLS on this file's loopback block: join, report, assignment,
// apply to a node root, apply report; restart without token; plan change propagation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { tempDir, testCoordinator, threeNodePlan, runAgent, waitFor, type RunningAgent } from '../helpers/cluster.ts';
import { writeFileSync } from 'node:fs';
import { addressBlock } from '../helpers/addresses.ts';
import { loadAdminConfig } from '../../coordinator/admin/config.ts';
import { connectAdmin } from '../../coordinator/admin/client.ts';
import { formatStatus } from '../../coordinator/cli/admin-commands.ts';

const net = addressBlock(import.meta.url);
const NODES = [
  { name: 'node-1', address: net.host(2) },
  { name: 'node-2', address: net.host(3) },
  { name: 'node-3', address: net.host(4) },
];

test('three agents join, apply their assignment, survive a restart without token, follow a plan change', async () => {
  const dir = tempDir();
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, threeNodePlan('test', '', { addresses: [net.host(2), net.host(3), net.host(4)] }));
  const c = await testCoordinator(join(dir, 'coord'), { planFile, listen: `${net.host(1)}:0` });
  let agents: RunningAgent[] = [];
  try {
    const { token } = await c.state.tokens.create({ uses: 3 });
    const opts = (n: (typeof NODES)[number], withToken = true) => ({
      coordinator: c.address,
      token: withToken ? token : undefined,
      caHash: c.identity.caPin,
      nodeName: n.name,
      address: n.address,
      stateDir: join(dir, n.name, 'state'),
      root: join(dir, n.name, 'root'),
    });
    agents = NODES.map((n) => runAgent(opts(n)));
    await waitFor('all three applied', () => c.state.status().every((r) => r.state === 'applied') && c.state.status().length === 3);

    // Files under each node root, written atomically, with the role the plan gave.
    const file = (n: string) => parse(readFileSync(join(dir, n, 'root/etc/muster/assignment.yaml'), 'utf8'));
    assert.equal(file('node-1').roles.sort(), ['etcd', 'master']);
    assert.equal(file('node-2').roles, ['worker']);
    assert.is(file('node-3').node_ip, net.host(4));
    assert.match(file('node-2').pod_cidr, /^172\.16\.\d+\.\d+\/26$/);
    // Identity persisted: key 0600.
    assert.is(statSync(join(dir, 'node-2/state/identity.pem')).mode & 0o777, 0o600);
    const rows = c.state.status();
    assert.equal(rows.map((r) => [r.name, r.address, r.state]), NODES.map((n) => [n.name, n.address, 'applied']));

    // Restart node-2 without a token: no re-join, token use count unchanged.
    await agents[1]!.stop();
    const usesBefore = c.state.tokens.list()[0]!.uses;
    assert.is(usesBefore, 3);
    agents[1] = runAgent(opts(NODES[1]!, false));
    await waitFor('node-2 watching again', () => agents[1]!.agent.phase === 'watching');
    assert.is(c.state.tokens.list()[0]!.uses, 3);
    assert.ok(agents[1]!.log.lines.some((l) => l.includes('using identity of node node-2')));

    // Plan change through the admin API: workers get a label; only workers change.
    const before = Object.fromEntries(c.state.status().map((r) => [r.name, r.assignedRevision]));
    const admin = connectAdmin(await loadAdminConfig({ dataDir: join(dir, 'coord'), env: {} }));
    const t0 = Date.now();
    const res = await admin.call('ApplyPlan', { plan_yaml: threeNodePlan('test', ', labels: { tier: web }', { addresses: [net.host(2), net.host(3), net.host(4)] }), file_name: 'plan2.yaml', force: false });
    assert.equal(res.changed_nodes, ['node-2', 'node-3']);
    await waitFor('workers applied the new revision', () => file('node-2').labels?.tier === 'web' && file('node-3').labels?.tier === 'web', 5000, 10);
    const ms = Date.now() - t0;
    assert.ok(ms < 5000, `plan change took ${ms} ms`);
    const after = Object.fromEntries(c.state.status().map((r) => [r.name, r.assignedRevision]));
    assert.is(after['node-1'], before['node-1'], 'node-1 untouched');
    assert.ok(after['node-2']! > before['node-2']!);
    await waitFor('status shows applied', () => c.state.status().every((r) => r.state === 'applied'));

    // Status over the admin API reads as a table.
    const table = formatStatus(await admin.call('Status', {}));
    assert.match(table, /NAME\s+ADDRESS\s+ROLES\s+STATE\s+PREFLIGHT\s+LAST SEEN/);
    assert.match(table, new RegExp(`node-1\\s+${net.host(2).replaceAll('.', '\\.')}\\s+etcd,master\\s+applied rev \\d+\\s+passed\\s+\\d+s ago`));
    // Plan history has both plans and a diff.
    const hist = await admin.call('PlanHistory', {});
    assert.is(hist.plans.length, 2);
    assert.match(hist.plans[1]!.diff, /\+.*tier: web/);
    admin.close();
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    await c.close();
  }
});

test.run();
