// `muster preflight --reach`: the fleet's reachability matrix, failures first, both ends named.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatReachMatrix, preflightSummary } from '../../coordinator/cli/preflight-command.ts';
import type { PreflightResponse__Output } from '../../proto/gen/types/muster/v1/PreflightResponse.ts';
import type { NodePreflight__Output } from '../../proto/gen/types/muster/v1/NodePreflight.ts';

const node = (name: string, address: string, state: string, reach: Array<[string, string, number, boolean, string]>): NodePreflight__Output => ({
  node: name, address, roles: ['worker'], state, detail: '', checks: [], results: [], gated: false, at_ms: 0,
  probes: { plan_id: 1, latency: [], coordinator: null, reach: reach.map(([n, a, port, ok, error]) => ({ target: { node_name: n, address: a, port, sample: false }, source_address: address, ok, error })) },
});

test('one row per probed pair, failures first, with both addresses', () => {
  const res: PreflightResponse__Output = {
    ignored: [], operator_ignored: [],
    nodes: [
      node('node-2', '10.0.0.3', 'passed', [['node-1', '10.0.0.2', 6443, true, '']]),
      node('node-3', '10.0.0.4', 'blocked', [['node-1', '10.0.0.2', 6443, false, 'timed out after 1000 ms'], ['node-1', '10.0.0.2', 2379, true, '']]),
    ],
  };
  assert.is(formatReachMatrix(res), [
    'SOURCE           DESTINATION           RESULT',
    'node-3 10.0.0.4  node-1 10.0.0.2:6443  FAILED: timed out after 1000 ms',
    'node-2 10.0.0.3  node-1 10.0.0.2:6443  ok',
    'node-3 10.0.0.4  node-1 10.0.0.2:2379  ok',
    '3 pairs probed, 1 failed',
  ].join('\n'));
  assert.is(preflightSummary(res.nodes), '1 node ready, 1 blocked');
  assert.match(formatReachMatrix({ ...res, nodes: [] }), /^no reachability results yet/);
});

test.run();
