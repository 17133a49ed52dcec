// `muster-agent facts [--json]` run in-process with a memory CliIO.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostname } from 'node:os';
import { memoryIO } from '../../shared/cli/io.ts';
import { factsCommand } from '../../agent/cli/facts-command.ts';
import { SECTION_NAMES } from '../../agent/facts/index.ts';
import type { NodeFacts } from '../../agent/facts/index.ts';

test('--json prints every section of this machine', async () => {
  const io = memoryIO();
  const code = await factsCommand(['--json'], io);
  assert.is(code, 0, io.stderr);
  const facts = JSON.parse(io.stdout) as NodeFacts;
  assert.equal(Object.keys(facts), [...SECTION_NAMES]);
  assert.is(facts.network.hostname, hostname());
  assert.ok(facts.memory.total_bytes > 0);
  assert.ok(facts.binaries.binaries.some((b) => b.name === 'iptables'));
});

test('default output is a readable summary', async () => {
  const io = memoryIO();
  assert.is(await factsCommand([], io), 0, io.stderr);
  for (const label of ['host', 'os', 'cpu', 'memory', 'disks', 'network', 'ports', 'binaries', 'kernel', 'clock']) {
    assert.match(io.stdout, new RegExp(`^${label}\\s`, 'm'), label);
  }
  assert.match(io.stdout, hostname());
  assert.match(io.stdout, /<- holds \/var\/lib/);
  assert.not.match(io.stdout, /^\s*\{/, 'not JSON');
});

test('unknown argument: exit 2, names the argument and the valid option', async () => {
  const io = memoryIO();
  assert.is(await factsCommand(['--yaml'], io), 2);
  assert.match(io.stderr, "unknown argument '--yaml'");
  assert.match(io.stderr, '--json');
  assert.is(io.stdout, '');
});

test('--help prints usage', async () => {
  const io = memoryIO();
  assert.is(await factsCommand(['--help'], io), 0);
  assert.match(io.stdout, 'Usage: muster-agent facts [--json]');
});

test('a collection failure is reported, exit 1', async () => {
  const io = memoryIO();
  const code = await factsCommand(['--json'], io, {
    collect: async () => {
      throw new Error('collecting the disks facts failed: boom');
    },
  });
  assert.is(code, 1);
  assert.match(io.stderr, 'muster-agent facts: collecting the disks facts failed: boom');
});

test.run();
