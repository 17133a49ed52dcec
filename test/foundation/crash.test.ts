// SIGKILL the coordinator while agents join and admins create tokens; restart it; nothing that
// was acknowledged is lost, and agents carry on without re-joining.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { COORDINATOR_NODE_FLAGS } from '../../shared/constants.ts';
import { tempDir, threeNodePlan, runAgent, waitFor, type RunningAgent } from '../helpers/cluster.ts';
import { loadAdminConfig } from '../../coordinator/admin/config.ts';
import { connectAdmin, type Admin } from '../../coordinator/admin/client.ts';

const helper = join(import.meta.dirname, '../helpers/coordinator-process.ts');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function startProcess(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [...COORDINATOR_NODE_FLAGS, helper, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

test('SIGKILL mid-traffic loses nothing acknowledged; agents continue without re-joining', async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'coord');
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, threeNodePlan());
  const port = await freePort();
  const args = ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--plan', planFile, '--log-level', 'warn'];
  let proc = startProcess(args);
  const agents: RunningAgent[] = [];
  let admin: Admin | null = null;
  try {
    await waitFor('coordinator up', () => proc.output().includes('Join nodes'), 20_000);
    admin = connectAdmin(await loadAdminConfig({ dataDir, env: {} }));
    const { token } = await admin.call('CreateToken', { ttl_ms: 0, uses: 0, description: 'agents' });
    const nodes = [
      ['node-1', '127.0.0.2'],
      ['node-2', '127.0.0.3'],
      ['node-3', '127.0.0.4'],
    ] as const;
    for (const [name, address] of nodes) {
      agents.push(runAgent({ coordinator: `127.0.0.1:${port}`, token, caHash: undefined, insecureSkipCaVerification: true, nodeName: name, address, stateDir: join(dir, name, 'state'), root: join(dir, name, 'root') }));
    }
    // Admin traffic: create tokens as fast as acknowledgements come, until the kill.
    const acknowledged: string[] = [];
    let killed = false;
    const traffic = (async () => {
      for (let i = 0; i < 2000 && !killed; i++) {
        try {
          const r = await admin!.call('CreateToken', { ttl_ms: 0, uses: 1, description: `t${i}` }, 2000);
          acknowledged.push(r.info!.id);
        } catch {
          break; // the coordinator died mid-call: that one was not acknowledged
        }
      }
    })();
    await waitFor('agents applied', () => agents.every((a) => a.agent.appliedRevision > 0), 20_000);
    await waitFor('some tokens acknowledged', () => acknowledged.length >= 20, 20_000);
    const appliedBefore = agents.map((a) => a.agent.appliedRevision);
    proc.child.kill('SIGKILL');
    killed = true;
    await proc.exited;
    await traffic;
    admin.close();

    // Agents keep their last applied state and retry.
    await waitFor('agents waiting for coordinator', () => agents.every((a) => a.agent.phase === 'waiting-for-coordinator'), 10_000);
    assert.equal(agents.map((a) => a.agent.appliedRevision), appliedBefore);

    proc = startProcess(args);
    await waitFor('coordinator up again', () => proc.output().includes('Join command'), 20_000);
    admin = connectAdmin(await loadAdminConfig({ dataDir, env: {} }));
    const tokens = await admin.call('ListTokens', {});
    const have = new Set(tokens.tokens.map((t) => t.id));
    const lost = acknowledged.filter((id) => !have.has(id));
    assert.equal(lost, [], `acknowledged tokens lost: ${lost.join(', ')}`);
    const agentToken = tokens.tokens.find((t) => t.description === 'agents')!;
    assert.is(agentToken.uses, 3);

    await waitFor('agents back to watching', () => agents.every((a) => a.agent.phase === 'watching'), 20_000);
    const status = await admin.call('Status', {});
    assert.equal(status.nodes.map((n) => [n.name, n.state]), nodes.map(([n]) => [n, 'applied']));
    assert.is((await admin.call('ListTokens', {})).tokens.find((t) => t.description === 'agents')!.uses, 3, 'no re-join');
    assert.ok(agents.every((a) => a.log.lines.filter((l) => l.includes('joined 127.0.0.1')).length === 1), 'each agent joined exactly once');
  } finally {
    admin?.close();
    await Promise.all(agents.map((a) => a.stop()));
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
});

test.run();
