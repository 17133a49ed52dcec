// Readable output: the status table within a terminal's width (what does not fit goes to a detail
// line, whole), colour only when asked for, and identical preflight findings printed once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatStatus } from '../../coordinator/cli/admin-commands.ts';
import { formatPreflight } from '../../coordinator/cli/preflight-command.ts';
import type { StatusResponseOut, NodeStatusOut } from '../../shared/wire/types.ts';
import type { PreflightResponse__Output } from '../../proto/gen/types/muster/v1/PreflightResponse.ts';

const now = 1_800_000_000_000;
const node = (name: string, state: string, detail = ''): NodeStatusOut =>
  ({ name, address: '10.0.0.1', roles: ['worker'], state, assigned_revision: 2, applied_revision: 2, detail, last_seen_ms: now - 3000, agent_version: '', joined_at_ms: now, preflight: 'passed', preflight_detail: '' }) as NodeStatusOut;
const LONG = 'writing /etc/kubernetes/kubelet.conf: EACCES: permission denied, open /etc/kubernetes/kubelet.conf.tmp-123 (the agent runs as root?)';
const status = { cluster_name: 'c', plan_revision: 2, nodes: [node('node-1', 'applied'), node('node-2', 'failed', LONG)] } as StatusResponseOut;

test('status fits the width; a cut state is printed whole below the table', () => {
  const text = formatStatus(status, now, { width: 80 });
  for (const line of text.split('\n')) assert.ok(line.length <= 80, `${line.length}: ${line}`);
  assert.match(text, /node-2 +10\.0\.0\.1 +worker +failed: writing.*\u2026/);
  // The detail, wrapped to the width, is the whole text.
  const detail = text.slice(text.indexOf('\n  node-2: state: ')).trim().replace(/\n +/g, ' ');
  assert.is(detail, `node-2: state: failed: ${LONG}`);
  // Without a width (a pipe): nothing cut, no detail lines.
  const wide = formatStatus(status, now);
  assert.ok(wide.includes(`failed: ${LONG}`));
  assert.not.match(wide, /\u2026|node-2: state:/);
});

test('status states in colour only when asked, the columns still aligned', () => {
  const plain = formatStatus(status, now);
  assert.not.match(plain, /\u001b/);
  const coloured = formatStatus(status, now, { colour: true });
  assert.match(coloured, /\u001b\[32mapplied rev 2\u001b\[0m/);
  assert.match(coloured, /\u001b\[31mfailed: /);
  assert.is(coloured.replace(/\u001b\[[0-9;]*m/g, ''), plain);
});

test('nodes with the same preflight findings share one table', () => {
  const result = { check: 'swap', severity: 'error', found: 'swap on (2 GiB)', required: 'swap off', fix: 'swapoff -a', fixable_by_agent: false, node: '' };
  const pf = (name: string, results: unknown[]) => ({ node: name, address: '10.0.0.1', roles: ['worker'], state: 'blocked', detail: '1 error: swap', checks: [], results, gated: true, probes: null });
  const res = { ignored: [], operator_ignored: [], nodes: [pf('node-1', [result]), pf('node-2', [result]), pf('node-3', [{ ...result, found: 'swap on (4 GiB)' }])] } as unknown as PreflightResponse__Output;
  const text = formatPreflight(res, false);
  assert.is(text.match(/found swap on \(2 GiB\)/g)?.length, 1, text);
  assert.is(text.match(/found swap on \(4 GiB\)/g)?.length, 1, text);
  assert.match(text, /findings of 2 nodes \(node-1, node-2\), the same for each:/);
  assert.match(text, /^node-1 \(10\.0\.0\.1, worker\): blocked/m);
  assert.match(text, /^node-2 \(10\.0\.0\.1, worker\): blocked/m);
});

test.run();
