// `muster certs import-ca` / `import-sa`: bringing kubeadm's CAs (RSA 2048, made here by openssl)
// into a data dir, the coordinator signing leaves with them that openssl verifies, and the
// refusals: not a CA, key not the certificate's, unsupported key type, a CA there already (unless
// --force), a coordinator running on the data dir.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, testCoordinator } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { main } from '../../coordinator/cli/main.ts';
import { memoryIO } from '../../shared/cli/io.ts';
import { createCsr } from '../../shared/pki/x509.ts';
import { CLUSTER_PKI, COORDINATOR_DATA } from '../../shared/constants.ts';
import { openssl, opensslText, opensslVerifies, pkiPlanText } from './fixtures.ts';

const net = addressBlock(import.meta.url);
const dir = tempDir('muster-import-');

/** A CA the way kubeadm makes one: RSA 2048, PKCS#1 key ("RSA PRIVATE KEY"). */
function opensslCa(name: string, o: { alg?: string[]; ca?: boolean } = {}): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...(o.alg ?? ['-newkey', 'rsa:2048']), '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${name}`, '-days', '3650', '-addext', `basicConstraints=critical,CA:${o.ca === false ? 'FALSE' : 'TRUE'}`, '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  if (!o.alg) writeFileSync(key, openssl(['rsa', '-in', key, '-traditional']));
  return { cert, key };
}

const run = async (args: string[]) => {
  const io = memoryIO();
  const code = await main(args, io);
  return { code, out: io.stdout, err: io.stderr };
};

test('an imported RSA 2048 kubernetes CA is kept as it is and signs ECDSA leaves (sha256WithRSAEncryption) that openssl verifies', async () => {
  const data = join(dir, 'a');
  const ca = opensslCa('kubernetes');
  assert.match(readFileSync(ca.key, 'utf8'), /BEGIN RSA PRIVATE KEY/);
  const r = await run(['certs', 'import-ca', '--kind', 'kubernetes', '--cert', ca.cert, '--key', ca.key, '--data-dir', data]);
  assert.is(r.code, 0, r.err);
  assert.is(r.out, `kubernetes CA imported: ${join(data, CLUSTER_PKI.kubernetes.key)}, ${join(data, CLUSTER_PKI.kubernetes.cert)}\n`);
  assert.is(statSync(join(data, CLUSTER_PKI.kubernetes.key)).mode & 0o777, 0o600);
  const again = await run(['certs', 'import-ca', '--kind', 'kubernetes', '--cert', ca.cert, '--key', ca.key, '--data-dir', data]);
  assert.is(again.out, 'kubernetes CA: the data dir holds this CA already; nothing written\n', 'the same CA again is no change');

  writeFileSync(join(dir, 'plan.yaml'), pkiPlanText([net.host(2), net.host(3), net.host(4)]));
  const c = await testCoordinator(data, { listen: `${net.host(1)}:0`, planFile: join(dir, 'plan.yaml') });
  try {
    assert.is(readFileSync(join(data, CLUSTER_PKI.kubernetes.cert), 'utf8'), readFileSync(ca.cert, 'utf8'), 'the imported CA is used as it is');
    assert.is(c.clusterCas.current()!.cas.kubernetes.certPem, readFileSync(ca.cert, 'utf8'));
    // The other two were missing: made with the plan.
    assert.match(opensslText(readFileSync(join(data, CLUSTER_PKI.etcd.cert), 'utf8')), /CN ?= ?etcd-ca/);
    const res = await c.issuer.adminKubeconfig((await createCsr('kubernetes-admin')).csrPem, 0, 'test');
    assert.ok(opensslVerifies(dir, readFileSync(ca.cert, 'utf8'), res.cert_pem), 'openssl verifies the leaf against the imported RSA CA');
    assert.not.ok(opensslVerifies(dir, readFileSync(join(data, CLUSTER_PKI.etcd.cert), 'utf8'), res.cert_pem));
    const text = opensslText(res.cert_pem);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Public Key Algorithm: id-ecPublicKey/);
    assert.match(text, /Issuer: CN ?= ?kubernetes\n/);

    // While it runs, no import: it holds the CAs in memory and would go on signing with the old ones.
    const other = opensslCa('etcd-ca');
    const busy = await run(['certs', 'import-ca', '--kind', 'etcd', '--cert', other.cert, '--key', other.key, '--data-dir', data, '--force']);
    assert.is(busy.code, 1);
    assert.is(busy.err, `muster: the state database ${join(data, COORDINATOR_DATA.database)} is in use by pid ${process.pid}; stop that coordinator first, or give this one its own --data-dir\n`);
  } finally {
    await c.close();
  }

  const other = opensslCa('kubernetes-2');
  const exists = await run(['certs', 'import-ca', '--kind', 'kubernetes', '--cert', other.cert, '--key', other.key, '--data-dir', data]);
  assert.is(exists.code, 1);
  assert.is(
    exists.err,
    `muster: data dir ${data} has a kubernetes CA already (${join(data, CLUSTER_PKI.kubernetes.cert)}); --force replaces it: certificates it signed stop being trusted as soon as nodes get the new CA, and muster does not re-issue them by itself yet; use it only before any node holds a certificate from that CA, or to put back the right one\n`,
  );
  const forced = await run(['certs', 'import-ca', '--kind', 'kubernetes', '--cert', other.cert, '--key', other.key, '--data-dir', data, '--force']);
  assert.is(forced.code, 0, forced.err);
  assert.match(forced.out, /^kubernetes CA imported \(replacing the one there\)/);
  assert.match(forced.err, /warning: the kubernetes CA was replaced/);
  assert.is(readFileSync(join(data, CLUSTER_PKI.kubernetes.cert), 'utf8'), readFileSync(other.cert, 'utf8'));
});

test('import-ca refuses what cannot be a CA, with the reason', async () => {
  const data = join(dir, 'b');
  const leaf = opensslCa('not-a-ca', { ca: false });
  const rsa = opensslCa('rsa-ca');
  const ed = opensslCa('ed-ca', { alg: ['-newkey', 'ed25519'] });
  const cases: [string[], string | RegExp][] = [
    [['--cert', leaf.cert, '--key', leaf.key], 'muster: the kubernetes CA to import: the certificate (subject CN=not-a-ca) is not a CA certificate (basicConstraints CA:TRUE)\n'],
    [['--cert', rsa.cert, '--key', leaf.key], 'muster: the kubernetes CA to import: the key does not belong to the certificate (their public keys differ)\n'],
    [['--cert', ed.cert, '--key', ed.key], 'muster: the kubernetes CA to import: ed25519 keys are not supported for signing; use ECDSA P-256 or RSA 2048-8192\n'],
    [['--cert', rsa.key, '--key', rsa.key], /^muster: the kubernetes CA to import: the certificate is not a PEM X\.509 certificate/],
  ];
  for (const [args, message] of cases) {
    const r = await run(['certs', 'import-ca', '--kind', 'kubernetes', ...args, '--data-dir', data]);
    assert.is(r.code, 1, args.join(' '));
    if (typeof message === 'string') assert.is(r.err, message);
    else assert.match(r.err, message);
  }
  const kind = await run(['certs', 'import-ca', '--kind', 'root', '--cert', rsa.cert, '--key', rsa.key, '--data-dir', data]);
  assert.is(kind.code, 2, 'a usage error');
  assert.is(kind.err.split('\n')[0], 'muster: --kind root: expected one of kubernetes, etcd, front-proxy');
});

test('import-sa takes kubeadm\'s sa.key (and checks sa.pub against it); masters then get that pair', async () => {
  const data = join(dir, 'c');
  const key = join(dir, 'sa.key');
  const pub = join(dir, 'sa.pub');
  const wrongPub = join(dir, 'wrong.pub');
  writeFileSync(key, openssl(['genrsa', '-traditional', '2048']));
  writeFileSync(pub, openssl(['rsa', '-in', key, '-pubout']));
  writeFileSync(join(dir, 'other.key'), openssl(['genrsa', '2048']));
  writeFileSync(wrongPub, openssl(['rsa', '-in', join(dir, 'other.key'), '-pubout']));
  const bad = await run(['certs', 'import-sa', '--key', key, '--pub', wrongPub, '--data-dir', data]);
  assert.is(bad.err, 'muster: the service-account public key is not the public half of the private key\n');
  const ok = await run(['certs', 'import-sa', '--key', key, '--pub', pub, '--data-dir', data]);
  assert.is(ok.code, 0, ok.err);
  assert.is(statSync(join(data, CLUSTER_PKI.serviceAccountKey)).mode & 0o777, 0o600);
  const exists = await run(['certs', 'import-sa', '--key', join(dir, 'other.key'), '--data-dir', data]);
  assert.is(exists.code, 1);
  assert.match(exists.err, /has a service-account key already .*--force replaces it/);
  writeFileSync(join(dir, 'plan.yaml'), pkiPlanText([net.host(2), net.host(3), net.host(4)]));
  const c = await testCoordinator(data, { listen: `${net.host(1)}:0`, planFile: join(dir, 'plan.yaml') });
  try {
    assert.is(c.clusterCas.current()!.serviceAccount.privatePem, readFileSync(key, 'utf8'));
    assert.is(c.clusterCas.current()!.serviceAccount.publicPem, readFileSync(pub, 'utf8'));
  } finally {
    await c.close();
  }
});

test.run();
