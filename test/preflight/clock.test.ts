import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clockOffsetCheck } from '../../shared/preflight/checks/clock.ts';
import type { Finding } from '../../shared/preflight/index.ts';
import { ctx } from './fixtures.ts';

const FIX = 'enable time synchronisation (chrony or systemd-timesyncd: "timedatectl set-ntp true") on the node and the coordinator';

const rows: Array<[string, number | null, number | undefined, Finding[]]> = [
  ['3 ms from facts passes', 3, undefined, []],
  ['999 ms passes', 999, undefined, []],
  ['1.5 s ahead fails', 1500, undefined, [{ severity: 'error', found: 'clock 1.50 s ahead of the coordinator', required: 'within 1 s of the coordinator', fix: FIX }]],
  ['the context offset overrides facts: 2 s behind', 3, -2000, [{ severity: 'error', found: 'clock 2.00 s behind the coordinator', required: 'within 1 s of the coordinator', fix: FIX }]],
  ['no clock facts and no offset: nothing to check', null, undefined, []],
];

for (const [name, factsOffset, ctxOffset, want] of rows) {
  test(name, () => {
    const c = ctx(['worker'], (f, _p, cx) => {
      f.clock = factsOffset === null ? null : { offset_ms: factsOffset, round_trip_ms: 1 };
      if (ctxOffset !== undefined) cx.clockOffsetMs = ctxOffset;
    });
    assert.equal(clockOffsetCheck.run(c), want);
  });
}

test.run();
