// Bounded inputs against a real coordinator: oversized unauthenticated calls, the token checked
// before the CSR, the per-source join budget, failed joins logged at warn but rate-limited, and
// authenticated input that would poison peers, logs or the status table refused or escaped.
import { test } from 'uvu';
import { compileAdmissionOptions } from '../../coordinator/server/admission/admission.ts';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempDir, testCoordinator, threeNodePlan, waitFor, captureLogger } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { rejects } from '../helpers/assert.ts';
import { join as joinCoordinator } from '../../agent/client/join.ts';
import { agentClient, pinnedBootstrapClient } from '../../agent/client/channels.ts';
import { unary } from '../../shared/wire/status.ts';
import { formatStatus } from '../../coordinator/cli/admin-commands.ts';
import { loadAdminConfig } from '../../coordinator/admin/config.ts';
import { connectAdmin } from '../../coordinator/admin/client.ts';
import type { AgentClient } from '../../shared/wire/proto.ts';

const net = addressBlock(import.meta.url);
const dir = tempDir();
const dataDir = join(dir, 'coord');
const planFile = join(dir, 'plan.yaml');
writeFileSync(planFile, threeNodePlan('bounded', '', { addresses: [net.host(2), net.host(3), net.host(4)] }));
let c: Awaited<ReturnType<typeof testCoordinator>>;
const log = captureLogger('agent');
let node: AgentClient;

const joinParams = (token: string, nodeName: string, address: string) => ({ coordinator: c.address, token, caHash: c.identity.caPin, insecureSkipCaVerification: false, nodeName, machineId: 'm', address, labels: {}, agentVersion: 't' });

test.before(async () => {
  c = await testCoordinator(dataDir, { planFile, listen: `${net.host(1)}:0`, admission: { joinBudget: { burst: 40, refillPerSecond: 0.01 }, failedJoinLinesPerSource: 3 } });
  const { token } = await c.state.tokens.create({});
  const id = await joinCoordinator(joinParams(token, 'node-2', net.host(3)), log);
  node = agentClient(c.address, id);
});
test.after(async () => {
  node.close();
  await c.close();
});

test('unauthenticated Joins of 7.8 MB are refused before they are read, and the coordinator carries on', async () => {
  const big = 'x'.repeat(7.8 * 1024 * 1024);
  const clients = Array.from({ length: 16 }, () => pinnedBootstrapClient(c.address, c.identity.serverCa.certPem));
  try {
    const errors = await Promise.all(clients.map((b) => rejects(() => unary(c.address, b, 'Join', { token: 'abcdef.0123456789abcdef', node_name: 'n', csr_pem: big }, 20_000))));
    for (const e of errors) assert.is(e.kind, 'resource-exhausted', e.message);
  } finally {
    for (const b of clients) b.close();
  }
  // Still serving: a watch of a joined node answers.
  const r = await unary(c.address, node, 'WatchAssignment', { applied_revision: 0, hold_ms: 0 }, 5000);
  assert.ok(r.changed || r.waiting_reason !== undefined);
});

test('the token is checked before the CSR is parsed: a bad token with garbage gets the token error', async () => {
  const b = pinnedBootstrapClient(c.address, c.identity.serverCa.certPem);
  try {
    const e = await rejects(() => unary(c.address, b, 'Join', { token: 'abcdef.0123456789abcdef', node_name: 'node-g', csr_pem: 'garbage' }, 5000));
    assert.is(e.reason, 'token-unknown', e.message);
  } finally {
    b.close();
  }
});

test('failed joins are logged at warn, rate-limited per source; a spent budget answers RESOURCE_EXHAUSTED with a retry-after hint', async () => {
  const b = pinnedBootstrapClient(c.address, c.identity.serverCa.certPem);
  try {
    let exhausted: (Error & Record<string, unknown>) | null = null;
    for (let i = 0; i < 60 && !exhausted; i++) {
      const e = await rejects(() => unary(c.address, b, 'Join', { token: 'abcdef.0123456789abcdef', node_name: `node-f${i}`, csr_pem: '' }, 5000));
      if (e.kind === 'resource-exhausted') exhausted = e;
    }
    assert.ok(exhausted, 'the budget never ran out');
    assert.ok(Number(exhausted.retryAfterMs) > 0, `retry-after hint: ${exhausted.retryAfterMs}`);
    const warns = c.log.lines.filter((l) => / warn .*join from .* failed/.test(l));
    assert.ok(warns.length >= 1 && warns.length <= 3, `${warns.length} warn lines:\n${warns.join('\n')}`);
    assert.ok(warns.every((l) => !l.includes('0123456789abcdef')), 'a token secret in the log');
  } finally {
    b.close();
  }
});

test("a report's address must be an IP: terminal escapes and names cannot reach peers' hosts entries or probes", async () => {
  for (const address of [`${net.host(3)}\u001b[31m`, 'evil.example.com', '10.0.0.1\n10.0.0.2']) {
    const e = await rejects(() => unary(c.address, node, 'Report', { full: false, sent_at_ms: Date.now(), address }, 5000));
    assert.is(e.kind, 'invalid-argument', address);
    assert.match(e.message, /report from node-2: address/);
  }
  const labels = await rejects(() => unary(c.address, node, 'Report', { full: false, sent_at_ms: Date.now(), labels: { 'bad key!': 'v' } }, 5000));
  assert.is(labels.kind, 'invalid-argument');
  const version = await rejects(() => unary(c.address, node, 'Report', { full: false, sent_at_ms: Date.now(), agent_version: 'v1\u001b]0;pwned\u0007' }, 5000));
  assert.is(version.kind, 'invalid-argument');
  const huge = await rejects(() =>
    unary(c.address, node, 'Report', { full: true, sent_at_ms: Date.now(), facts: { network: { hostname: 'h', interfaces: Array.from({ length: 2000 }, (_, i) => ({ name: `eth${i}`, addresses: [] })) } } }, 5000),
  );
  assert.is(huge.kind, 'invalid-argument');
  // Nothing of it was stored.
  assert.is(c.state.nodes.get('node-2')!.address, net.host(3));
});

test('a node holds a bounded number of watches; hold_ms 0 answers at once', async () => {
  const held = Array.from({ length: 4 }, () => unary(c.address, node, 'WatchAssignment', { applied_revision: 0, hold_ms: 60_000, probe_plan_id: Number.MAX_SAFE_INTEGER }, 65_000).catch((e: Error) => e));
  await waitFor('four watches held', () => c.hub.pendingFor('node-2') >= 4, 10_000);
  // With an assignment it already holds (have = its revision), so nothing is new: hold 0 returns now.
  const rev = c.state.assignments.get('node-2')?.revision ?? 0;
  const e = await rejects(() => unary(c.address, node, 'WatchAssignment', { applied_revision: rev, hold_ms: 60_000 }, 10_000));
  assert.is(e.kind, 'unavailable');
  assert.match(e.message, /at most 4 may be open at once/);
  c.hub.notify(['node-2']);
  await Promise.all(held);
  const quick = await unary(c.address, node, 'WatchAssignment', { applied_revision: rev, hold_ms: 0, probe_plan_id: Number.MAX_SAFE_INTEGER }, 3000);
  assert.is(quick.changed, false);
});

test('free text from a node (an apply error) is escaped in the log and the status table: no forged lines, no escape codes', async () => {
  const rev = c.state.assignments.get('node-2')?.revision ?? 1;
  const evil = 'oops\n2026-12-01T00:00:00.000Z info  coordinator: node node-1 joined\u001b[2J\u001b[31m';
  await unary(c.address, node, 'ReportApply', { revision: rev, ok: false, error: evil, files: [], duration_ms: 1, roles: [] }, 5000);
  const lines = c.log.lines.join('\n').split('\n');
  assert.not.ok(lines.some((l) => l.startsWith('2026-12-01T00:00:00.000Z')), 'a forged log line');
  assert.not.ok(lines.some((l) => l.includes('\u001b')), 'an escape code in the log');
  assert.ok(lines.some((l) => / warn .*node node-2 failed to apply revision/.test(l) && l.includes('\\n2026-12-01')));
  const admin = connectAdmin(await loadAdminConfig({ dataDir, env: {} }));
  try {
    const table = formatStatus(await admin.call('Status', {}));
    assert.not.ok(table.includes('\u001b'), 'an escape code in the status table');
    const row = table.split('\n').filter((l) => l.startsWith('node-2'));
    assert.is(row.length, 1, table);
    assert.ok(table.split('\n').every((l) => !l.startsWith('2026-12-01')), table);
  } finally {
    admin.close();
  }
});

test('a probe port that is not a port is refused on the watch, so it never reaches peers\' plans (which they would echo back)', async () => {
  const e = await rejects(() => unary(c.address, node, 'WatchAssignment', { applied_revision: 0, hold_ms: 0, probe_port: 70000 }, 5000));
  assert.is(e.kind, 'invalid-argument');
  assert.match(e.message, /probe_port 70000 is not a TCP port/);
});

test('an apply report installs only what the node was handed: made-up revisions and roles count for nothing', async () => {
  await unary(c.address, node, 'ReportApply', { revision: 987_654, ok: true, error: '', files: [], duration_ms: 1, roles: ['etcd', 'master'] }, 5000);
  const rec = c.state.reports.applies.get('node-2')!;
  assert.is(rec.revision, 987_654);
  assert.is(rec.roles, undefined, `installed roles ${JSON.stringify(rec.roles)}`);
  assert.ok(c.log.lines.some((l) => / warn .*node node-2 reported applying revision 987654, which the coordinator did not hand it/.test(l)));
});

test('one source cannot hold every unverified connection slot', async () => {
  const { connect } = await import('node:net');
  const [host, port] = [c.address.slice(0, c.address.lastIndexOf(':')), Number(c.address.slice(c.address.lastIndexOf(':') + 1))];
  const cap = compileAdmissionOptions().maxUnverifiedPerSource; // the default the coordinator runs with
  const open = (localAddress: string) =>
    new Promise<{ closedAtOnce: boolean; sock: import('node:net').Socket }>((resolve) => {
      const sock = connect({ host, port, localAddress });
      sock.on('error', () => undefined);
      sock.once('connect', () => {
        // A refused connection is closed by the coordinator at once; an admitted one waits for its ClientHello.
        const t = setTimeout(() => resolve({ closedAtOnce: false, sock }), 3000);
        sock.once('close', () => {
          clearTimeout(t);
          resolve({ closedAtOnce: true, sock });
        });
      });
    });
  const held = await Promise.all(Array.from({ length: cap }, () => open(net.host(90))));
  try {
    assert.is(held.filter((h) => h.closedAtOnce).length, 0);
    const extra = await open(net.host(90));
    assert.ok(extra.closedAtOnce, 'the connection over the per-source cap was not closed');
    // Another source still gets in, and a node's calls work.
    const fromElsewhere = await open(net.host(91));
    assert.not.ok(fromElsewhere.closedAtOnce);
    fromElsewhere.sock.destroy();
    await unary(c.address, node, 'WatchAssignment', { applied_revision: 0, hold_ms: 0 }, 5000);
  } finally {
    for (const h of held) h.sock.destroy();
  }
});

test.run();
