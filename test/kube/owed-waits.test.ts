// A readiness wait that a run of the agent did not see through is owed across a restart: the
// agent saved "revision 7 applied, etcd readiness owed" (it was stopped mid-wait, or the wait
// failed), and a new run must not re-report revision 7 as applied until the member is ready --
// the rollout would restart the next etcd member on that report. Here no member answers (none
// runs on this machine's loopback metrics port), so the owed wait fails and the re-report says so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, testCoordinator, runAgent, waitFor } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { AGENT_STATE } from '../../shared/constants.ts';

const net = addressBlock(import.meta.url);

test('a restarted agent waits for what it owed before it re-reports its applied revision', async () => {
  const dir = tempDir('muster-owed-');
  const c = await testCoordinator(join(dir, 'coord'), { listen: `${net.host(1)}:0` });
  const stateDir = join(dir, 'node-2/state');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const assignment = { revision: 7, node_name: 'node-2', node_ip: net.host(3), roles: ['etcd', 'worker'], kubernetes_version: 'v1.36.3' };
  writeFileSync(join(stateDir, AGENT_STATE.appliedFile), JSON.stringify({ revision: 7, appliedAtMs: 1, assignment, owed: { etcd: true, apiServer: false } }), { mode: 0o600 });
  const { token } = await c.state.tokens.create({});
  const a = runAgent({ coordinator: c.address, token, caHash: c.identity.caPin, nodeName: 'node-2', address: net.host(3), stateDir, root: join(dir, 'node-2/root'), readyTimeoutMs: 1_000 });
  try {
    const line = await waitFor('the owed wait to end', () => a.log.lines.find((l) => l.includes('revision 7 is applied, but')), 20_000);
    assert.match(line, 'the local etcd member did not come back ready');
    assert.ok(a.log.lines.some((l) => l.includes('waiting for the local etcd member to be ready')), 'readiness only: the restart happened before this run');
  } finally {
    await a.stop();
    await c.close();
  }
});

test('a readiness wait longer than the offline threshold keeps the node online: it reports while it waits', async () => {
  const dir = tempDir('muster-owed-');
  // Offline after 1.5 s of silence; the wait lasts 4 s, so a silent wait would read as offline.
  const c = await testCoordinator(join(dir, 'coord'), { listen: `${net.host(1)}:0`, offlineAfterMs: 1_500 });
  const stateDir = join(dir, 'node-2/state');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const assignment = { revision: 7, node_name: 'node-2', node_ip: net.host(3), roles: ['etcd', 'worker'], kubernetes_version: 'v1.36.3' };
  writeFileSync(join(stateDir, AGENT_STATE.appliedFile), JSON.stringify({ revision: 7, appliedAtMs: 1, assignment, owed: { etcd: true, apiServer: false } }), { mode: 0o600 });
  const { token } = await c.state.tokens.create({});
  const a = runAgent({ coordinator: c.address, token, caHash: c.identity.caPin, nodeName: 'node-2', address: net.host(3), stateDir, root: join(dir, 'node-2/root'), readyTimeoutMs: 4_000, reportIntervalMs: 300 });
  const states: string[] = [];
  try {
    await waitFor('the wait to start', () => a.log.lines.some((l) => l.includes('waiting for the local etcd member')), 20_000);
    const row = () => c.state.status().find((r) => r.name === 'node-2');
    assert.ok(row()!.lastSeenMs > 0, 'the join counts as contact');
    await waitFor('the owed wait to end', () => {
      states.push(row()?.state ?? 'none');
      return a.log.lines.some((l) => l.includes('revision 7 is applied, but'));
    }, 20_000, 100);
    assert.ok(states.length > 20, `sampled through the wait (${states.length})`);
    assert.not.ok(states.includes('offline'), `never offline while it waits: ${[...new Set(states)].join(', ')}`);
  } finally {
    await a.stop();
    await c.close();
  }
});

test.run();
