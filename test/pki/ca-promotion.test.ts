// The CA files of a rotation on the coordinator: next/ and retired/, and a promotion a crash cut
// short, finished at the next start -- after the key's rename, after the certificate's, or with
// only a stray key left. A rotation whose CA is missing from the data dir stops the coordinator
// with the remedy instead of signing on with the wrong CA.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, captureLogger, testCoordinator } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { ClusterCas, caPaths, nextCaPaths, retiredCaPaths } from '../../coordinator/pki/cluster-cas.ts';
import { certInfo } from '../../shared/pki/x509.ts';
import { pkiPlan, pkiPlanText } from './fixtures.ts';

const net = addressBlock(import.meta.url);
const plan = pkiPlan([net.host(2), net.host(3), net.host(4)]);

async function rotating(dataDir: string) {
  const cas = new ClusterCas({ dataDir, log: captureLogger() });
  const before = await cas.ensure(plan);
  const next = await cas.createNext('etcd', plan);
  return { cas, old: before.cas.etcd, next };
}

const read = (p: string) => readFileSync(p, 'utf8');

test('createNext writes next/ (key 0600) and keeps the current CA in retired/; a new ClusterCas loads it as the rotation in progress', async () => {
  const dir = tempDir();
  const { old, next } = await rotating(dir);
  assert.is(read(nextCaPaths(dir, 'etcd').cert), next.certPem);
  assert.is(read(retiredCaPaths(dir, 'etcd', old.serial).key), old.keyPem);
  assert.is(read(caPaths(dir, 'etcd').cert), old.certPem, 'the CA of record is unchanged');
  const again = await new ClusterCas({ dataDir: dir, log: captureLogger() }).ensure(plan);
  assert.is(again.next.etcd?.serial, next.serial);
  assert.is(again.cas.etcd.serial, old.serial);
  assert.is(again.next.kubernetes, undefined);
});

test('promote makes next/ the CA of record and removes next/; idempotent', async () => {
  const dir = tempDir();
  const { cas, next } = await rotating(dir);
  await cas.promote('etcd');
  assert.is(read(caPaths(dir, 'etcd').cert), next.certPem);
  assert.is(read(caPaths(dir, 'etcd').key), next.keyPem);
  assert.not.ok(existsSync(nextCaPaths(dir, 'etcd').cert) || existsSync(nextCaPaths(dir, 'etcd').key));
  assert.is((await cas.promote('etcd')).serial, next.serial);
  assert.is(cas.current()!.cas.etcd.serial, next.serial);
});

for (const crash of ['after the key', 'after the certificate', 'after removing the next certificate'] as const) {
  test(`a promotion cut short ${crash} is finished at the next start`, async () => {
    const dir = tempDir();
    const { next } = await rotating(dir);
    const p = caPaths(dir, 'etcd');
    const np = nextCaPaths(dir, 'etcd');
    writeFileSync(p.key, next.keyPem, { mode: 0o600 });
    if (crash !== 'after the key') writeFileSync(p.cert, next.certPem);
    if (crash === 'after removing the next certificate') rmSync(np.cert);
    const log = captureLogger();
    const m = await new ClusterCas({ dataDir: dir, log }).ensure(plan);
    assert.is(m.cas.etcd.serial, next.serial, 'the new CA is the CA of record');
    assert.is(m.next.etcd, undefined, 'no rotation in progress any more');
    assert.is(certInfo(read(p.cert)).serial, next.serial);
    assert.not.ok(existsSync(np.cert) || existsSync(np.key), 'next/ is gone');
    if (crash !== 'after removing the next certificate') assert.ok(log.lines.some((l) => l.includes('finished promoting the new etcd CA')), log.lines.join('\n'));
  });
}

test('a coordinator whose rotation names a CA missing from the data dir refuses to start, with the remedy', async () => {
  const dir = tempDir();
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, pkiPlanText([net.host(2), net.host(3), net.host(4)]).replace('max_peer_latency_ms: 1000', 'max_peer_latency_ms: 1000\n    ignore: [all]'));
  const data = join(dir, 'coord');
  const c = await testCoordinator(data, { planFile, listen: `${net.host(1)}:0` });
  // A master that never applies: the rotation stays at its first stage.
  const { token, record } = await c.state.tokens.create({});
  await c.state.nodes.join({ tokenId: record.id, tokenSecret: token.split('.')[1]!, name: 'node-1', machineId: 'm1', address: net.host(2), labels: {}, agentVersion: 't', keyId: 'k', sign: () => ({ certPem: '', serial: 'b1' }) });
  await c.state.idle();
  assert.ok(c.state.assignments.get('node-1')?.body.roles.includes('master'));
  await c.state.startCaRotation('front-proxy', 'test');
  await c.state.idle();
  assert.is(c.state.pki.rotations.get('front-proxy')?.stage, 1);
  await c.close();
  rmSync(join(data, 'cluster-pki', 'next'), { recursive: true });
  try {
    const again = await testCoordinator(data, { listen: `${net.host(1)}:0` });
    await again.close();
    assert.unreachable('started without the CA its rotation names');
  } catch (err) {
    assert.match((err as Error).message, /front-proxy CA rotation 1 .* rotates in the CA serial .* restore the data dir's cluster-pki\/ and state.db from the same backup/);
  }
});

test.run();
