// End to end with the real coordinator: agents for a master+etcd node and a worker get their
// cluster certificates through IssueCertificates over their own identities, write them where
// kubeadm would, and what they wrote verifies with openssl against the CA bundle they wrote,
// which is the coordinator's CA. A restarted agent asks for nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { tempDir, testCoordinator, threeNodePlan, runAgent, waitFor, type RunningAgent } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { modeOf, opensslVerifies } from './agent-helpers.ts';
import { CERT_KINDS, CLUSTER_CA_PATHS, SERVICE_ACCOUNT_PATHS, kindsForRoles } from '../../shared/pki/catalogue.ts';
import { certInfo, publicKeyId } from '../../shared/pki/x509.ts';
import { CLUSTER_PKI } from '../../shared/constants.ts';

const net = addressBlock(import.meta.url);

test('a master+etcd node and a worker get their cluster certificates from the coordinator; openssl verifies them; a restart asks for nothing', async () => {
  const dir = tempDir();
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, threeNodePlan('pki-e2e', '', { addresses: [net.host(2), net.host(3), net.host(4)] }));
  const dataDir = join(dir, 'coord');
  const c = await testCoordinator(dataDir, { planFile, listen: `${net.host(1)}:0` });
  const agents: RunningAgent[] = [];
  const start = (name: string, ip: string, token: string) => {
    const a = runAgent({ coordinator: c.address, token, caHash: c.identity.caPin, nodeName: name, address: ip, stateDir: join(dir, name, 'state'), root: join(dir, name, 'root') });
    agents.push(a);
    return a;
  };
  try {
    const { token } = await c.state.tokens.create({ uses: 3 });
    const m = start('node-1', net.host(2), token);
    const w = start('node-2', net.host(3), token);
    const w3 = start('node-3', net.host(4), token);
    await waitFor('all three applied', () => [m, w, w3].every((a) => a.agent.appliedRevision > 0), 30_000);
    for (const [a, name, roles] of [[m, 'node-1', ['etcd', 'master']], [w, 'node-2', ['worker']]] as const) {
      assert.not.ok(a.log.lines.some((l) => l.includes('cannot apply')), a.log.lines.filter((l) => l.includes('cannot apply')).join('\n'));
      const root = join(dir, name, 'root');
      const at = (p: string) => join(root, p);
      const kinds = kindsForRoles(roles);
      for (const k of kinds) {
        assert.is(modeOf(at(k.keyPath)), 0o600, `${name} ${k.keyPath}`);
        const cert = readFileSync(at(k.certPath), 'utf8');
        assert.is(certInfo(cert).keyId, publicKeyId(readFileSync(at(k.keyPath), 'utf8')), `${name} ${k.kind}`);
        assert.is(certInfo(cert).subjectCN, k.cn(name));
        assert.ok(opensslVerifies(at(CLUSTER_CA_PATHS[k.ca]), at(k.certPath)), `${name}: openssl verify ${k.kind} against the ${k.ca} bundle written`);
        if (k.kubeconfig) {
          const doc = parse(readFileSync(at(k.kubeconfig.path), 'utf8'));
          assert.is(Buffer.from(doc.users[0].user['client-certificate-data'], 'base64').toString(), cert);
          assert.is(modeOf(at(k.kubeconfig.path)), 0o600);
        }
      }
      // The bundle written is the coordinator's CA.
      assert.is(readFileSync(at(CLUSTER_CA_PATHS.kubernetes), 'utf8').trim(), readFileSync(join(dataDir, CLUSTER_PKI.kubernetes.cert), 'utf8').trim());
    }
    const mroot = join(dir, 'node-1', 'root');
    assert.is(modeOf(join(mroot, SERVICE_ACCOUNT_PATHS.privateKey)), 0o600);
    assert.is(readFileSync(join(mroot, SERVICE_ACCOUNT_PATHS.publicKey), 'utf8').trim(), readFileSync(join(dataDir, CLUSTER_PKI.serviceAccountPub), 'utf8').trim());
    assert.is(kindsForRoles(['etcd', 'master']).length, CERT_KINDS.length);

    // Restarted: it checks at once, finds everything right, and asks for nothing.
    const issuedLines = () => c.log.lines.filter((l) => l.includes('cluster certificates issued to node node-2')).length;
    assert.is(issuedLines(), 1);
    await w.stop();
    const again = start('node-2', net.host(3), token);
    await waitFor('node-2 watching again', () => again.agent.phase === 'watching' && again.agent.certificatesRenewAt !== 0 && again.agent.certificatesRenewAt < Infinity);
    assert.is(issuedLines(), 1);
    assert.not.ok(again.log.lines.some((l) => l.includes('requesting cluster certificates')));
  } finally {
    for (const a of agents) await a.stop();
    await c.close();
  }
});

test.run();
