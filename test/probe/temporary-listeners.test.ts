import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { openTemporaryListeners, checkReach } from '../../agent/probe/index.ts';
import { freePort } from './helpers.ts';
import { addressBlock } from '../helpers/addresses.ts';

const net = addressBlock(import.meta.url);
const H = net.host(7);
const SRC = net.host(2);

test('free ports are opened, held ones reported busy; peers reach the opened ones until close()', async () => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen({ host: H, port: 0 }, r));
  const busyPort = (holder.address() as { port: number }).port;
  const free1 = await freePort(H);
  const free2 = await freePort(H);
  const l = await openTemporaryListeners([busyPort, free1, free2, free1], H);
  try {
    assert.equal(l.opened, [free1, free2]);
    assert.equal(l.busy, [busyPort]);
    assert.equal(l.failed, []);
    const res = await checkReach([free1, free2].map((port) => ({ node_name: 'node-x', address: H, port })), { sourceAddress: SRC });
    assert.equal(res.map((r) => r.ok), [true, true]);
  } finally {
    await l.close();
    holder.close();
  }
  const after = await checkReach([{ node_name: 'node-x', address: H, port: free1 }], { sourceAddress: SRC });
  assert.is(after[0]!.ok, false);
});

test('a listener on the wildcard address makes the port busy for a specific address too', async () => {
  const port = await freePort('0.0.0.0');
  const holder = createServer();
  await new Promise<void>((r) => holder.listen({ host: '0.0.0.0', port }, r));
  try {
    const l = await openTemporaryListeners([port], H);
    await l.close();
    assert.equal(l.busy, [port]);
    assert.equal(l.opened, []);
  } finally {
    holder.close();
  }
});

test('an address that is not ours is a failure with a reason, not "busy"', async () => {
  const l = await openTemporaryListeners([0], '192.0.2.1');
  await l.close();
  assert.equal(l.opened, []);
  assert.equal(l.busy, []);
  assert.is(l.failed.length, 1);
  assert.match(l.failed[0]!.error, /^EADDRNOTAVAIL/);
});

test.run();
