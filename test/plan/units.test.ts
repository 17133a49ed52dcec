// The small parsers behind the plan rules: CIDRs and addresses, Go durations, sizes, Kubernetes
// names, and the did-you-mean suggestion.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCidr, parseIp, formatIp, formatCidr, cidrsOverlap, cidrContains, nthAddress } from '../../shared/plan/cidr.ts';
import { parseGoDuration } from '../../shared/plan/duration.ts';
import { parseSize, formatSize } from '../../shared/plan/size.ts';
import { qualifiedNameErrors, labelValueErrors, hostnameErrors } from '../../shared/plan/k8s-names.ts';
import { didYouMean, editDistance } from '../../shared/plan/suggest.ts';
import { parsePlan } from '../../shared/plan/index.ts';

const CIDRS: [string, string | null, bigint | null][] = [
  ['172.16.0.0/16', '172.16.0.0/16', 65536n],
  ['10.1.2.3/8', '10.0.0.0/8', 16777216n],
  ['0.0.0.0/0', '0.0.0.0/0', 4294967296n],
  ['fd00::/112', 'fd00::/112', 65536n],
  ['2001:db8::1/64', '2001:db8::/64', 18446744073709551616n],
  ['172.16.0.0/33', null, null],
  ['172.16.0.0', null, null],
  ['172.16.0/16', null, null],
  ['', null, null],
];
for (const [text, canonical, size] of CIDRS) {
  test(`parseCidr ${JSON.stringify(text)}`, () => {
    const c = parseCidr(text);
    assert.is(c ? formatCidr(c) : null, canonical);
    assert.is(c?.size ?? null, size);
  });
}

test('addresses round-trip and compress like RFC 5952', () => {
  for (const [inp, out] of [['10.0.0.1', '10.0.0.1'], ['fd00:0:0:0:0:0:0:1', 'fd00::1'], ['::ffff:1.2.3.4', '::ffff:102:304'], ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1']]) {
    const ip = parseIp(inp as string);
    assert.ok(ip, inp);
    assert.is(formatIp(ip), out);
  }
  assert.is(parseIp('10.0.0.256'), null);
  assert.is(parseIp('host'), null);
});

function must<T>(v: T | null): T {
  if (v === null) throw new Error('unexpected null');
  return v;
}

test('overlap, containment and the n-th address', () => {
  const a = parseCidr('172.16.0.0/12');
  const b = parseCidr('172.17.0.0/16');
  const c = parseCidr('172.32.0.0/16');
  const v6 = parseCidr('fd00::/8');
  assert.ok(a && b && c && v6);
  assert.ok(cidrsOverlap(a, b));
  assert.not.ok(cidrsOverlap(a, c));
  assert.not.ok(cidrsOverlap(a, v6));
  assert.ok(cidrContains(b, must(parseIp('172.17.255.255'))));
  assert.not.ok(cidrContains(b, must(parseIp('172.18.0.0'))));
  assert.is(formatIp(must(nthAddress(b, 10))), '172.17.0.10');
  assert.is(nthAddress(must(parseCidr('10.0.0.0/30')), 10), null);
});

const DURATIONS: [string, number | null][] = [
  ['17520h', 17520 * 3_600_000], ['8760h30m', 8760 * 3_600_000 + 30 * 60_000], ['1.5h', 5_400_000], ['90s', 90_000],
  ['300ms', 300], ['0', 0], ['-5h', -5 * 3_600_000], ['2y', null], ['17520', null], ['', null], ['h', null], ['5h 3m', null],
];
for (const [text, ms] of DURATIONS) test(`parseGoDuration ${JSON.stringify(text)}`, () => assert.is(parseGoDuration(text), ms));

const SIZES: [string | number, number | null][] = [
  ['4GiB', 4 * 2 ** 30], ['50GB', 50e9], ['512MiB', 512 * 2 ** 20], ['1.5GiB', 1.5 * 2 ** 30], ['4Gi', 4 * 2 ** 30], ['1700MB', 1.7e9],
  [1024, 1024], ['1024', 1024], ['4 GiB', 4 * 2 ** 30], ['4gigs', null], ['GiB', null], [-1, null], [1.5, null],
];
for (const [text, bytes] of SIZES) test(`parseSize ${JSON.stringify(text)}`, () => assert.is(parseSize(text), bytes));

test('formatSize picks the largest exact unit', () => {
  assert.equal([4 * 2 ** 30, 8e9, 1.7e9, 1000, 1023, 0].map(formatSize), ['4GiB', '8GB', '1700MB', '1KB', '1023', '0']);
});

test('Kubernetes qualified names and label values', () => {
  for (const ok of ['gpu', 'example.com/gpu', 'node-role.kubernetes.io/worker', 'a_b.c-d', 'A1']) assert.equal(qualifiedNameErrors(ok), [], ok);
  for (const bad of ['', '-a', 'a-', 'a/b/c', '/a', 'Example.com/a', 'a b', 'x'.repeat(64), `${'a'.repeat(254)}/b`]) assert.ok(qualifiedNameErrors(bad).length, bad);
  for (const ok of ['', 'true', 'v1.2_3-a', 'x'.repeat(63)]) assert.equal(labelValueErrors(ok), [], ok);
  for (const bad of ['not ok', '-a', 'x'.repeat(64), 'a/b']) assert.ok(labelValueErrors(bad).length, bad);
  assert.equal(hostnameErrors('node-1.example.com'), []);
  assert.ok(hostnameErrors('node_1').length);
});

test('did you mean: transpositions, typos, prefixes, nothing for strangers', () => {
  assert.is(editDistance('tpye', 'type'), 1);
  assert.is(editDistance('kitten', 'sitting'), 3);
  assert.is(didYouMean('tpye', ['type', 'pod_cidr_block']), 'type');
  assert.is(didYouMean('internalip', ['host', 'ip', 'internal_ip']), 'internal_ip');
  assert.is(didYouMean('pod_cidr', ['pod_cidr_block', 'service_cidr_block']), 'pod_cidr_block');
  assert.is(didYouMean('zebra', ['type', 'pod_cidr_block']), null);
});

test('parsePlan keeps its last parse: the same text again is the same plan, its problems named by the file asked for', () => {
  const text = 'cluster:\n  name: memo\netcd:\n  expected_count: 1\n  nodes: [{ host: a, ip: 10.0.0.1 }]\nmaster:\n  expected_count: 1\n  nodes: [{ host: a, ip: 10.0.0.1 }]\nworker:\n  expected_count: 1\n  nodes: [{ host: a, ip: 10.0.0.1 }]\n';
  const first = parsePlan(text, 'stored.yaml');
  assert.ok(first.plan, JSON.stringify(first.problems));
  assert.ok(first.problems.length > 0, 'a one-etcd plan has warnings');
  const again = parsePlan(text, 'given.yaml');
  assert.is(again.plan, first.plan);
  assert.ok(again.problems.every((p) => p.file === 'given.yaml'));
  assert.ok(first.problems.every((p) => p.file === 'stored.yaml'), 'the first answer is not changed by the second');
  // Another text is parsed anew; so is the first again after it.
  const other = parsePlan(text.replace('name: memo', 'name: memo2'), 'given.yaml');
  assert.is.not(other.plan, first.plan);
  assert.is(other.plan!.cluster.name, 'memo2');
  assert.is(parsePlan(text, 'x.yaml').plan!.cluster.name, 'memo');
});

test.run();
