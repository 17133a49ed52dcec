import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostnameValidCheck, hostnameUniqueCheck, suggestLabel } from '../../shared/preflight/checks/hostname.ts';
import type { ClusterHostname, Finding } from '../../shared/preflight/index.ts';
import { ctx } from './fixtures.ts';

const REQUIRED = 'a DNS-1123 label: lower case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters';

const validRows: Array<[string, Finding[]]> = [
  ['node-a', []],
  ['n1', []],
  ['Web_01.corp.example', [{ severity: 'error', found: 'hostname "Web_01.corp.example"', required: REQUIRED, fix: 'run "hostnamectl set-hostname web-01" (or another valid name)' }]],
  ['-edge', [{ severity: 'error', found: 'hostname "-edge"', required: REQUIRED, fix: 'run "hostnamectl set-hostname edge" (or another valid name)' }]],
  ['a'.repeat(64), [{ severity: 'error', found: `hostname "${'a'.repeat(64)}"`, required: REQUIRED, fix: `run "hostnamectl set-hostname ${'a'.repeat(63)}" (or another valid name)` }]],
  ['', [{ severity: 'error', found: 'an empty hostname', required: REQUIRED, fix: 'run "hostnamectl set-hostname node-1" (or another valid name)' }]],
];

for (const [hostname, want] of validRows) {
  test(`valid: ${JSON.stringify(hostname)}`, () => {
    assert.equal(hostnameValidCheck.run(ctx(['worker'], (f) => (f.network!.hostname = hostname))), want);
  });
}

const uniqueRows: Array<[string, ClusterHostname[] | undefined, Finding[]]> = [
  ['no cluster list: nothing to check', undefined, []],
  ['unique', [{ node: 'node-a', hostname: 'node-a' }, { node: 'node-b', hostname: 'node-b' }], []],
  ['taken by two others (case-insensitive); own entry skipped', [{ node: 'node-a', hostname: 'node-a' }, { node: 'node-b', hostname: 'NODE-A' }, { node: 'node-c', hostname: 'node-a' }], [{
    severity: 'error', found: 'hostname "node-a" also used by nodes node-b, node-c', required: 'a hostname unique in the cluster',
    fix: 'give node-a a unique hostname ("hostnamectl set-hostname <name>") and restart muster-agent',
  }]],
  ['a fleet of clones: three named, then "and others"', ['b', 'c', 'd', 'e', 'f'].map((n) => ({ node: `node-${n}`, hostname: 'node-a' })), [{
    severity: 'error', found: 'hostname "node-a" also used by nodes node-b, node-c, node-d and others', required: 'a hostname unique in the cluster',
    fix: 'give node-a a unique hostname ("hostnamectl set-hostname <name>") and restart muster-agent',
  }]],
];

for (const [name, list, want] of uniqueRows) {
  test(`unique: ${name}`, () => {
    assert.equal(hostnameUniqueCheck.run(ctx(['worker'], (_f, _p, c) => { if (list) c.clusterHostnames = list; })), want);
  });
}

test('suggestLabel', () => {
  assert.is(suggestLabel('My Host!!'), 'my-host');
  assert.is(suggestLabel('db1.example.com'), 'db1');
});

test.run();
