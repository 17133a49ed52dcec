import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startProbeListener, checkReach } from '../../agent/probe/index.ts';
import { runPreflight, DEFAULT_CHECKS, formatResult } from '../../shared/preflight/index.ts';
import { freePort } from './helpers.ts';
import { ctx } from '../preflight/fixtures.ts';
import { addressBlock } from '../helpers/addresses.ts';

// node-a is host 2 of this file's block (the source), node-b host 5 (listening), node-c host 6
// (nothing listens).
const net = addressBlock(import.meta.url);
const A = net.host(2);
const B = net.host(5);
const C = net.host(6);

test('an open port is reached from the given source address; a closed one names both ends', async () => {
  const b = await startProbeListener({ host: B, port: 0 });
  const closed = await freePort(C);
  try {
    const res = await checkReach(
      [{ node_name: 'node-b', address: B, port: b.port }, { node_name: 'node-c', address: C, port: closed }],
      { sourceAddress: A, timeoutMs: 1000 },
    );
    assert.equal(res, [
      { target: { node_name: 'node-b', address: B, port: b.port, sample: false }, source_address: A, ok: true, error: '' },
      { target: { node_name: 'node-c', address: C, port: closed, sample: false }, source_address: A, ok: false, error: 'ECONNREFUSED: connection refused (nothing listens on the port, or a firewall rejects it)' },
    ]);

    const report = runPreflight(ctx(['etcd'], (_f, _p, c) => (c.peers = { reach: res })), DEFAULT_CHECKS.filter((c) => c.name === 'peer-reach'));
    assert.not.ok(report.ok);
    assert.is(report.results.length, 1);
    assert.is(formatResult(report.results[0]!),
      `node-a: ERROR peer-reach: found node-a (from ${A}) unable to reach node-c at ${C}:${closed}: ECONNREFUSED: connection refused (nothing listens on the port, or a firewall rejects it); ` +
      `required TCP ${A} -> ${C}:${closed} open (port ${closed}); ` +
      `fix: open TCP port ${closed} from ${A} to ${C} in host firewalls and security groups, and check that muster-agent runs on node-c (it listens on its role ports during preflight)`);
  } finally {
    await b.close();
  }
});

test('without a source address the kernel picks one and the result reports it', async () => {
  const b = await startProbeListener({ host: B, port: 0 });
  try {
    const [r] = await checkReach([{ node_name: 'node-b', address: B, port: b.port }]);
    assert.ok(r!.ok);
    assert.match(r!.source_address, /^127\./);
  } finally {
    await b.close();
  }
});

test('a source address that is not ours fails with a clear reason', async () => {
  const b = await startProbeListener({ host: B, port: 0 });
  try {
    const [r] = await checkReach([{ node_name: 'node-b', address: B, port: b.port }], { sourceAddress: '192.0.2.1', timeoutMs: 1000 });
    assert.not.ok(r!.ok);
    assert.is(r!.source_address, '192.0.2.1');
    assert.is(r!.error, 'EADDRNOTAVAIL: the source address is not an address of this node');
  } finally {
    await b.close();
  }
});

test('many targets: order kept, concurrency bounded', async () => {
  const b = await startProbeListener({ host: B, port: 0 });
  try {
    const targets = Array.from({ length: 40 }, (_, i) => ({ node_name: `n${i}`, address: B, port: b.port }));
    const res = await checkReach(targets, { sourceAddress: A, concurrency: 4 });
    assert.equal(res.map((r) => r.target?.node_name), targets.map((t) => t.node_name));
    assert.ok(res.every((r) => r.ok));
  } finally {
    await b.close();
  }
});

test.run();
