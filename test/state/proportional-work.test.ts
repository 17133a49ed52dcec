// A change's work is proportional to the nodes it changes, not to the fleet: a plan change that
// touches k nodes writes k assignment bodies and wakes k watchers, and a join writes and wakes
// the joiner alone -- counted at the store (every op of every transaction) and at the watchers.
// Not timed: counts are what a slow machine cannot change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClusterState } from '../../coordinator/state/cluster-state.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { PREFIX } from '../../coordinator/state/records.ts';
import { parseToken } from '../../coordinator/trust/tokens.ts';
import { silentLogger } from '../../shared/log/logger.ts';
import type { Op } from '../../coordinator/store/store.ts';
import { addressBlock } from '../helpers/addresses.ts';

const net = addressBlock(import.meta.url);
const FLEET = 200;
const name = (i: number) => `node-${String(i).padStart(3, '0')}`;

/** All FLEET nodes named; `labelled` workers carry a label (the change under test). */
function plan(labelled: number[] = [], extra = 0): string {
  const workers = Array.from({ length: FLEET - 1 + extra }, (_, k) => `    - { host: ${name(k + 1)}, ip: ${net.host(k + 3)}${labelled.includes(k + 1) ? ', labels: { wave: "2" }' : ''} }`).join('\n');
  return `cluster:
  name: prop
  version: v1.36.3
  networking: { pod_cidr_block: 10.200.0.0/16, service_cidr_block: 172.17.0.0/16 }
  preflight: { ignore: [all] }
etcd: { expected_count: 1, nodes: [ { host: ${name(0)}, ip: ${net.host(2)} } ] }
master: { expected_count: 1, nodes: [ { host: ${name(0)}, ip: ${net.host(2)} } ] }
worker:
  expected_count: ${FLEET - 1 + extra}
  nodes:
${workers}
`;
}

/** A store that remembers every op it committed. */
class CountingStore extends MemoryStore {
  ops: Op[] = [];
  override txn(...args: Parameters<MemoryStore['txn']>): ReturnType<MemoryStore['txn']> {
    this.ops.push(...args[0]);
    return super.txn(...args);
  }
  take(prefix: string): string[] {
    const keys = this.ops.filter((o) => o.key.startsWith(prefix)).map((o) => o.key.slice(prefix.length));
    this.ops = [];
    return keys.sort();
  }
}

test('a plan change touching k nodes writes k bodies and wakes k watchers; a join writes and wakes one', async () => {
  const store = new CountingStore();
  const s = await ClusterState.open({ store, logger: silentLogger(), recomputeDelayMs: 0 });
  try {
    const woken: string[] = [];
    s.onAssignmentsChanged((names) => woken.push(...names));
    const { token } = await s.tokens.create({ uses: 0, neverExpires: true, description: 'test' });
    const { id, secret } = parseToken(token);
    const joinNode = (i: number) =>
      s.nodes.join({ tokenId: id, tokenSecret: secret, name: name(i), machineId: `m-${i}`, address: net.host(i + 2), labels: {}, agentVersion: 'test', keyId: `key-${i}`, sign: () => ({ certPem: `cert-${i}`, serial: `${i + 1}` }) });
    await s.applyPlan(plan(), 'plan.yaml');
    for (let i = 0; i < FLEET; i++) await joinNode(i);
    await s.idle();
    assert.is([...Array(FLEET).keys()].filter((i) => s.assignments.get(name(i))).length, FLEET, 'every node assigned');

    // k = 3 of 199 workers change.
    store.take('');
    woken.length = 0;
    const changed = [7, 50, 151];
    const r = await s.applyPlan(plan(changed), 'plan2.yaml');
    await s.idle();
    const expected = changed.map(name).sort();
    assert.equal(r.changedNodes, expected);
    assert.equal(store.take(PREFIX.assignments), expected, 'bodies written: the changed nodes only');
    assert.equal([...new Set(woken)].sort(), expected, 'watchers woken: the changed nodes only');

    // A newcomer the plan names: one body written, one node woken, nobody else touched.
    await s.applyPlan(plan(changed, 1), 'plan3.yaml');
    await s.idle();
    store.take('');
    woken.length = 0;
    await joinNode(FLEET);
    await s.idle();
    assert.equal(store.take(PREFIX.assignments), [name(FLEET)]);
    assert.equal([...new Set(woken)], [name(FLEET)]);
  } finally {
    await s.close();
  }
});

test.run();
