// Races the red team found between calls admitted on committed state and mutations still
// committing, made deterministic by holding the store's commits: a report already in flight when
// an operator removes its node must not bring the node's records back, and one node cannot pile
// up reports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { join as joinCoordinator } from '../../agent/client/join.ts';
import { agentClient } from '../../agent/client/channels.ts';
import { unary } from '../../shared/wire/status.ts';
import { TracedStore } from '../helpers/traced-store.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { tempDir, testCoordinator, captureLogger } from '../helpers/cluster.ts';
import { rejects } from '../helpers/assert.ts';

const net = addressBlock(import.meta.url);

async function setup() {
  const store = new TracedStore(new MemoryStore());
  const c = await testCoordinator(join(tempDir(), 'coord'), { store, listen: `${net.host(1)}:0` });
  const { token } = await c.state.tokens.create({});
  const id = await joinCoordinator({ coordinator: c.address, token, caHash: c.identity.caPin, insecureSkipCaVerification: false, nodeName: 'node-r', machineId: 'm', address: net.host(10), labels: {}, agentVersion: 't' }, captureLogger());
  return { store, c, client: agentClient(c.address, id) };
}

const report = (hostname: string) => ({ full: true, sent_at_ms: Date.now(), facts: { network: { hostname, fqdn: hostname, interfaces: [], default_interface: '', default_address: '' } } });

test('a report in flight when its node is removed does not bring its records back', async () => {
  const { store, c, client } = await setup();
  try {
    store.hold();
    const from = store.timeline.length;
    const removed = c.state.removeNode('node-r');
    await store.until(/^txn-submitted t\d+$/, from);
    // The node's call is admitted on committed state, where the node is still live.
    // It is refused inside its mutation, which sees the removal queued before it: no write at all.
    const e = await unary(c.address, client, 'Report', report('late'), 5000).catch((err: Error & { reason?: string }) => err);
    store.release();
    await removed;
    assert.ok(e instanceof Error, 'the late report was taken');
    assert.is((e as Error & { reason?: string }).reason, 'node-removed');
    assert.is(c.state.reports.facts.get('node-r'), undefined, 'the removed node has facts again');
    assert.is(c.state.nodes.get('node-r')!.removedAtMs > 0, true);
  } finally {
    client.close();
    await c.close();
  }
});

test('one node has at most two reports in flight; the third is told to retry', async () => {
  const { store, c, client } = await setup();
  try {
    store.hold();
    const from = store.timeline.length;
    const first = unary(c.address, client, 'Report', report('a'), 10_000);
    const second = unary(c.address, client, 'Report', report('b'), 10_000);
    await store.until(/^txn-submitted t\d+$/, from);
    await store.until(/^txn-submitted t\d+$/, store.indexOf(/^txn-submitted/, from) + 1);
    const e = await rejects(() => unary(c.address, client, 'Report', report('c'), 5000));
    assert.is(e.kind, 'unavailable');
    assert.match(e.message, /already has 2 reports in flight/);
    store.release();
    await Promise.all([first, second]);
    await unary(c.address, client, 'Report', report('d'), 5000);
  } finally {
    client.close();
    await c.close();
  }
});

test.run();
