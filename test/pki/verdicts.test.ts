// The remembered PKI checks (agent/pki/verdicts.ts) answer exactly what the checks themselves
// answer, pass after pass: a certificate, key or bundle whose bytes change is checked again (one
// signed by another CA, one for another node, a key that is not its own), and what only time
// changes (expiry, the renewal point) is decided on every call even when the bytes did not change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCa, issueLeaf, createKey } from '../../shared/pki/x509.ts';
import { certKind } from '../../shared/pki/catalogue.ts';
import { certificateProblem, bundleProblem, usableKey, type CheckInput } from '../../agent/pki/checks.ts';
import { PkiVerdicts } from '../../agent/pki/verdicts.ts';
import { bundleFingerprints } from '../../shared/pki/bundle.ts';

const kind = certKind('kubelet-serving')!;
const names = { nodeName: 'node-1', addresses: ['127.0.0.1'] };
const HOUR = 3_600_000;

test('every answer equals the uncached check, across passes, byte changes and time', async () => {
  const ca = await createCa('kubernetes-ca', 10);
  const other = await createCa('kubernetes-ca', 10);
  const good = await issueLeaf(ca, { cn: 'node-1', dnsNames: ['node-1'], ips: ['127.0.0.1'], usages: ['server'], days: 1 });
  const byOther = await issueLeaf(other, { cn: 'node-1', dnsNames: ['node-1'], ips: ['127.0.0.1'], usages: ['server'], days: 1 });
  const otherNode = await issueLeaf(ca, { cn: 'node-2', dnsNames: ['node-2'], ips: ['127.0.0.1'], usages: ['server'], days: 1 });
  const strangerKey = await createKey();
  const now = Date.now();
  const rows: { what: string; c: CheckInput }[] = [];
  const base = { kind, names, caBundlePem: ca.certPem, now, renewAt: () => now + 12 * HOUR };
  rows.push({ what: 'good', c: { ...base, keyPem: good.keyPem, certPem: good.certPem } });
  rows.push({ what: 'signed by another CA', c: { ...base, keyPem: byOther.keyPem, certPem: byOther.certPem } });
  rows.push({ what: 'another node', c: { ...base, keyPem: otherNode.keyPem, certPem: otherNode.certPem } });
  rows.push({ what: 'not its key', c: { ...base, keyPem: strangerKey, certPem: good.certPem } });
  rows.push({ what: 'bundle of the other CA', c: { ...base, keyPem: good.keyPem, certPem: good.certPem, caBundlePem: other.certPem } });
  rows.push({ what: 'one byte of the certificate changed', c: { ...base, keyPem: good.keyPem, certPem: good.certPem.replace(/[A-Za-z](?=[^\n]*\n-----END)/, (ch) => (ch === 'A' ? 'B' : 'A')) } });
  rows.push({ what: 'due for renewal', c: { ...base, keyPem: good.keyPem, certPem: good.certPem, renewAt: () => now - 1 } });
  rows.push({ what: 'expired', c: { ...base, keyPem: good.keyPem, certPem: good.certPem, now: now + 48 * HOUR, renewAt: () => now + 72 * HOUR } });
  rows.push({ what: 'renewal requested', c: { ...base, keyPem: good.keyPem, certPem: good.certPem, renewBeforeMs: now + HOUR } });
  rows.push({ what: 'missing', c: { ...base, keyPem: good.keyPem, certPem: null } });

  const v = new PkiVerdicts();
  const expected = rows.map((r) => certificateProblem(r.c));
  assert.is(expected[0], null, 'the good certificate is good');
  assert.ok(expected.slice(1).every((e) => e !== null), `every other row has a problem: ${JSON.stringify(expected)}`);
  // Three passes, in two orders, so every row is answered both fresh and remembered.
  for (const order of [rows.map((_, i) => i), rows.map((_, i) => rows.length - 1 - i), rows.map((_, i) => i)]) {
    v.startPass();
    for (const i of order) assert.is(v.certificateProblem(rows[i]!.c), expected[i], rows[i]!.what);
  }
  // The good certificate's bytes unchanged, only time moves on: due, then expired.
  v.startPass();
  assert.is(v.certificateProblem({ ...rows[0]!.c, now: now + 13 * HOUR }), certificateProblem({ ...rows[0]!.c, now: now + 13 * HOUR }));
  assert.match(v.certificateProblem({ ...rows[0]!.c, now: now + 13 * HOUR }) ?? '', /^due for renewal/);
  assert.match(v.certificateProblem({ ...rows[0]!.c, now: now + 25 * HOUR, renewAt: () => Infinity }) ?? '', /^expired/);

  // Keys and bundles.
  assert.is(v.usableKey(good.keyPem), usableKey(good.keyPem));
  assert.is(v.usableKey(good.keyPem.replace('PRIVATE', 'PUBLIC')), false);
  const fp = bundleFingerprints(ca.certPem)!;
  assert.is(v.bundleProblem(ca.certPem, fp), null);
  assert.is(v.bundleProblem(other.certPem, fp), bundleProblem(other.certPem, fp));
  assert.ok(v.bundleProblem(other.certPem, fp));
});

test.run();
