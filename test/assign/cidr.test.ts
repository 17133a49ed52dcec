// Pod block arithmetic on top of shared/plan/cidr.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blockCount, blockIndex, blockPrefix, firstServiceAddress, nthBlock, parseIPv4Cidr } from '../../coordinator/assign/cidr.ts';

const must = (text: string) => {
  const c = parseIPv4Cidr(text);
  assert.ok(c, text);
  return c!;
};

test('pod CIDRs must be IPv4', () => {
  assert.ok(parseIPv4Cidr('172.16.0.0/16'));
  for (const bad of ['fd00::/64', '172.16.0.0', 'junk', '172.16.0.0/33']) assert.is(parseIPv4Cidr(bad), null, bad);
});

test('blockPrefix and blockCount: powers of two that fit', () => {
  const pods = must('172.16.0.0/16');
  assert.is(blockPrefix(pods, 64), 26);
  assert.is(blockPrefix(pods, 1), 32);
  assert.is(blockPrefix(pods, 65536), 16);
  assert.is(blockCount(pods, 64), 1024);
  assert.is(blockCount(pods, 256), 256);
  assert.is(blockCount(pods, 65536), 1);
  for (const bad of [48, 0, -64, 1.5, 131072]) assert.is(blockCount(pods, bad), 0, String(bad));
  assert.is(blockCount(must('0.0.0.0/0'), 64), 2 ** 26);
});

test('nthBlock and blockIndex round-trip; anything but an exact block is -1', () => {
  const pods = must('172.16.0.0/16');
  assert.is(nthBlock(pods, 64, 0), '172.16.0.0/26');
  assert.is(nthBlock(pods, 64, 5), '172.16.1.64/26');
  assert.is(nthBlock(pods, 64, 1023), '172.16.255.192/26');
  for (const i of [0, 1, 4, 777, 1023]) assert.is(blockIndex(pods, 64, nthBlock(pods, 64, i)), i);
  for (const bad of ['172.16.0.32/26', '172.16.0.0/25', '172.16.0.0/27', '172.17.0.0/26', '172.15.255.192/26', 'junk', '']) assert.is(blockIndex(pods, 64, bad), -1, bad);
  const top = must('255.255.255.0/24');
  assert.is(nthBlock(top, 64, 3), '255.255.255.192/26');
  assert.is(blockIndex(top, 64, '255.255.255.192/26'), 3);
});

test('firstServiceAddress: the kubernetes service IP, IPv4 or IPv6', () => {
  assert.is(firstServiceAddress('172.17.0.0/16'), '172.17.0.1');
  assert.is(firstServiceAddress('10.96.0.0/12'), '10.96.0.1');
  assert.is(firstServiceAddress('fd00:10:96::/108'), 'fd00:10:96::1');
  assert.is(firstServiceAddress('10.0.0.5/32'), '');
  assert.is(firstServiceAddress('junk'), '');
});

test.run();
