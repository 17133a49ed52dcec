// SIGKILL the coordinator (a child process, real sqlite store) while agents join, while admins
// create tokens, and while a plan change rolls out; restart it on the same data dir and address.
// Nothing that was acknowledged is lost, no token use is counted twice, no agent gives up, and
// every agent converges: what it applied (applied.json in its state dir) is exactly what the
// restarted coordinator serves it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempDir, runAgent, waitFor, type RunningAgent } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { freePort, spawnCoordinator, type CoordinatorChild } from '../helpers/coordinator-child.ts';
import { loadAdminConfig } from '../../coordinator/admin/config.ts';
import { connectAdmin, type Admin } from '../../coordinator/admin/client.ts';
import { IdentityStore } from '../../agent/identity/identity-store.ts';
import { agentClient } from '../../agent/client/channels.ts';
import { unary } from '../../shared/wire/status.ts';

const net = addressBlock(import.meta.url);
const COORDINATOR_HOST = net.host(1);
/** Node i (0-based) listens on 127.A.B.(10+i). */
const nodeAddress = (i: number) => net.host(10 + i);
const nodeName = (i: number) => `node-${i + 1}`;

/** node-1 is etcd and master, node-2..n workers; `extra` goes into every worker's entry. */
function plan(n: number, extra = ''): string {
  const workers = Array.from({ length: n - 1 }, (_, i) => `    - { host: ${nodeName(i + 1)}, ip: ${nodeAddress(i + 1)}${extra} }`).join('\n');
  return `cluster:
  name: crash
  version: v1.36.3
  networking:
    pod_cidr_block: 172.16.0.0/16
    service_cidr_block: 172.17.0.0/16
etcd:
  expected_count: 1
  nodes:
    - { host: node-1, ip: ${nodeAddress(0)} }
master:
  expected_count: 1
  nodes:
    - { host: node-1, ip: ${nodeAddress(0)} }
worker:
  expected_count: ${n - 1}
  nodes:
${workers}
`;
}

interface Cluster {
  dir: string;
  dataDir: string;
  address: string;
  args: string[];
  proc: CoordinatorChild;
  admin: Admin;
  caPin: string;
  agents: RunningAgent[];
  /** Agents whose run() rejected (phase "failed"), by name. */
  failed: Map<string, unknown>;
}

async function startCluster(extraArgs: string[] = []): Promise<Cluster> {
  const dir = tempDir('muster-crash-');
  const dataDir = join(dir, 'coord');
  const port = await freePort(COORDINATOR_HOST);
  const address = `${COORDINATOR_HOST}:${port}`;
  const args = ['--data-dir', dataDir, '--listen', address, '--log-level', 'warn', ...extraArgs];
  const proc = spawnCoordinator(args);
  await proc.until('Join nodes');
  const cfg = await loadAdminConfig({ dataDir, env: {} });
  return { dir, dataDir, address, args, proc, admin: connectAdmin(cfg), caPin: cfg.ca_hash, agents: [], failed: new Map() };
}

function startAgent(k: Cluster, i: number, token: string | undefined): RunningAgent {
  const name = nodeName(i);
  const a = runAgent({ coordinator: k.address, token, caHash: k.caPin, nodeName: name, address: nodeAddress(i), stateDir: join(k.dir, name, 'state'), root: join(k.dir, name, 'root') });
  a.done.catch((err) => k.failed.set(name, err));
  return a;
}

/** SIGKILL, then the same command line again; a fresh admin connection. */
async function crashAndRestart(k: Cluster): Promise<void> {
  await k.proc.kill();
  k.admin.close();
  k.proc = spawnCoordinator(k.args);
  await k.proc.until('Join command');
  k.admin = connectAdmin(await loadAdminConfig({ dataDir: k.dataDir, env: {} }));
}

async function shutdown(k: Cluster): Promise<void> {
  k.admin.close();
  await Promise.all(k.agents.map((a) => a.stop()));
  await k.proc.stop();
}

/** Every agent applied what the coordinator assigns it, as Status sees it. */
async function untilConverged(k: Cluster, what: string): Promise<void> {
  await waitFor(
    what,
    async () => {
      const s = await k.admin.call('Status', {}, 5000).catch(() => null);
      if (!s || s.nodes.length !== k.agents.length) return false;
      return s.nodes.every((n) => n.state === 'applied' && n.assigned_revision > 0 && n.applied_revision === n.assigned_revision) && k.agents.every((a) => a.agent.phase === 'watching');
    },
    60_000,
    50,
  );
}

/**
 * What each agent has on disk as applied equals what the coordinator serves it now: WatchAssignment
 * with applied_revision 0 and no hold, over the agent's own identity.
 */
async function assertAppliedIsServed(k: Cluster): Promise<Map<string, Record<string, unknown>>> {
  const served = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < k.agents.length; i++) {
    const name = nodeName(i);
    const store = new IdentityStore(join(k.dir, name, 'state'));
    const id = await store.load();
    assert.ok(id, `${name} has an identity`);
    const applied = await store.loadApplied();
    assert.ok(applied, `${name} has applied something`);
    const client = agentClient(k.address, id!);
    try {
      const w = await unary(k.address, client, 'WatchAssignment', { applied_revision: 0, hold_ms: 0, probe_plan_id: 0 }, 10_000);
      assert.ok(w.changed && w.assignment, `${name} is served an assignment`);
      assert.is(applied!.revision, Number(w.assignment!.revision), `${name}: applied revision is the served one`);
      assert.equal(JSON.parse(JSON.stringify(applied!.assignment)), JSON.parse(JSON.stringify(w.assignment)), `${name}: applied body is the served one`);
      served.set(name, w.assignment as unknown as Record<string, unknown>);
    } finally {
      client.close();
    }
  }
  return served;
}

function joinedLines(a: RunningAgent): number {
  return a.log.lines.filter((l) => / joined \S+ as node /.test(l)).length;
}

test('SIGKILL mid-traffic loses nothing acknowledged; agents continue without re-joining', async () => {
  const dir = tempDir('muster-crash-');
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, plan(3));
  const k = await startCluster(['--plan', planFile]);
  try {
    const { token } = await k.admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'agents' });
    for (let i = 0; i < 3; i++) k.agents.push(startAgent(k, i, token));
    // Admin traffic: create tokens as fast as acknowledgements come, until the kill.
    const acknowledged: string[] = [];
    let killed = false;
    const admin = k.admin;
    const traffic = (async () => {
      for (let i = 0; i < 2000 && !killed; i++) {
        try {
          const r = await admin.call('CreateToken', { ttl_ms: 0, uses: 1, description: `t${i}` }, 2000);
          acknowledged.push(r.info!.id);
        } catch {
          break; // the coordinator died mid-call: that one was not acknowledged
        }
      }
    })();
    await waitFor('agents applied', () => k.agents.every((a) => a.agent.appliedRevision > 0), 30_000);
    await waitFor('some tokens acknowledged', () => acknowledged.length >= 20, 20_000);
    const appliedBefore = k.agents.map((a) => a.agent.appliedRevision);
    await k.proc.kill();
    killed = true;
    await traffic;

    // Agents keep their last applied state and retry.
    await waitFor('agents waiting for coordinator', () => k.agents.every((a) => a.agent.phase === 'waiting-for-coordinator'), 10_000);
    assert.equal(k.agents.map((a) => a.agent.appliedRevision), appliedBefore);

    k.admin.close();
    k.proc = spawnCoordinator(k.args);
    await k.proc.until('Join command');
    k.admin = connectAdmin(await loadAdminConfig({ dataDir: k.dataDir, env: {} }));
    const tokens = await k.admin.call('ListTokens', {});
    const have = new Set(tokens.tokens.map((t) => t.id));
    const lost = acknowledged.filter((id) => !have.has(id));
    assert.equal(lost, [], `acknowledged tokens lost: ${lost.join(', ')}`);
    assert.is(tokens.tokens.find((t) => t.description === 'agents')!.uses, 3);

    await untilConverged(k, 'agents back to watching, all applied');
    const status = await k.admin.call('Status', {});
    assert.equal(status.nodes.map((n) => [n.name, n.state]), [0, 1, 2].map((i) => [nodeName(i), 'applied']));
    assert.is((await k.admin.call('ListTokens', {})).tokens.find((t) => t.description === 'agents')!.uses, 3, 'no re-join');
    assert.ok(k.agents.every((a) => joinedLines(a) === 1), 'each agent joined exactly once');
    await assertAppliedIsServed(k);
    assert.equal([...k.failed.keys()], [], 'no agent failed');
  } finally {
    await shutdown(k);
  }
});

const BURST = 8;

test('SIGKILL during a burst of joins: after the restart every agent joins once, converges, and the token counts each node once', async () => {
  const k = await startCluster();
  try {
    await k.admin.call('ApplyPlan', { plan_yaml: plan(BURST), file_name: 'plan.yaml', force: false });
    const { token, info } = await k.admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'burst' });
    // Kill as soon as the first agent holds its identity: the others are mid-join (key made,
    // CA fetched, Join sent, committed but not answered...) or not yet started.
    let joinedAtKill = -1;
    const firstJoined = Promise.withResolvers<void>();
    for (let i = 0; i < BURST; i++) {
      const a = startAgent(k, i, token);
      a.agent.onPhase((p) => {
        if (p === 'reporting' && joinedLines(a) > 0) firstJoined.resolve();
      });
      k.agents.push(a);
    }
    const timeout = setTimeout(() => firstJoined.reject(new Error('no agent joined within 30 s')), 30_000);
    await firstJoined.promise.finally(() => clearTimeout(timeout));
    await k.proc.kill();
    joinedAtKill = k.agents.filter((a) => joinedLines(a) > 0).length;
    console.log(`  (${joinedAtKill} of ${BURST} agents held an identity when the coordinator was killed)`);

    await crashAndRestart(k);
    await untilConverged(k, `all ${BURST} agents joined and applied after the restart`);
    const tok = (await k.admin.call('ListTokens', {})).tokens.find((t) => t.id === info!.id)!;
    assert.is(tok.uses, BURST, 'each node counted once on the token');
    const status = await k.admin.call('Status', {});
    assert.equal(status.nodes.map((n) => n.name).sort(), Array.from({ length: BURST }, (_, i) => nodeName(i)).sort());
    for (const a of k.agents) assert.is(joinedLines(a), 1, `${a.log.lines.join('\n')}\n: joined once`);
    const served = await assertAppliedIsServed(k);
    assert.equal(served.get('node-1')!.roles, ['etcd', 'master']);
    const blocks = [...served.values()].map((s) => s.pod_cidr);
    assert.is(new Set(blocks).size, BURST, `pod blocks unique: ${blocks.join(' ')}`);
    assert.equal([...k.failed.keys()], [], 'no agent failed');
  } finally {
    await shutdown(k);
  }
});

test('SIGKILL right after a plan change is acknowledged, while agents apply it: the change survives and every agent converges to it', async () => {
  const k = await startCluster();
  const nodes = 4;
  try {
    await k.admin.call('ApplyPlan', { plan_yaml: plan(nodes), file_name: 'plan.yaml', force: false });
    const { token, info } = await k.admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'agents' });
    for (let i = 0; i < nodes; i++) k.agents.push(startAgent(k, i, token));
    await untilConverged(k, 'all agents applied the first plan');
    const before = Object.fromEntries((await k.admin.call('Status', {})).nodes.map((n) => [n.name, n.assigned_revision]));

    // Acknowledged means durable: kill the instant the answer arrives, as agents are being woken.
    const res = await k.admin.call('ApplyPlan', { plan_yaml: plan(nodes, ', labels: { tier: web }'), file_name: 'labels.yaml', force: false });
    await k.proc.kill();
    assert.equal(res.changed_nodes, ['node-2', 'node-3', 'node-4']);

    await crashAndRestart(k);
    const status = await k.admin.call('Status', {});
    assert.is(status.plan_revision, res.plan_revision, 'the acknowledged plan is in force after the crash');
    await untilConverged(k, 'all agents applied the new plan');
    const after = await k.admin.call('Status', {});
    assert.is(after.nodes.find((n) => n.name === 'node-1')!.assigned_revision, before['node-1'], 'node-1 untouched');
    const served = await assertAppliedIsServed(k);
    for (const n of ['node-2', 'node-3', 'node-4']) {
      assert.ok(Number(served.get(n)!.revision) > before[n]!, `${n} moved on`);
      assert.is((served.get(n)!.labels as Record<string, string>).tier, 'web', `${n} applied the new labels`);
    }
    assert.is((await k.admin.call('ListTokens', {})).tokens.find((t) => t.id === info!.id)!.uses, nodes, 'no re-join');
    assert.ok(k.agents.every((a) => joinedLines(a) === 1));
    assert.equal([...k.failed.keys()], [], 'no agent failed');
  } finally {
    await shutdown(k);
  }
});

test.run();
