// Clock offset against the coordinator. Certificates carry validity times and etcd leases use
// time, so a node whose clock is off by a second or more is refused until NTP fixes it.
import type { Check } from '../types.ts';

export const MAX_CLOCK_OFFSET_MS = 1000;

export const clockOffsetCheck: Check = {
  name: 'clock-offset',
  scope: 'cluster',
  roles: 'all',
  description: 'node clock within 1 s of the coordinator\'s',
  run(ctx) {
    const offset = ctx.clockOffsetMs ?? (ctx.facts.clock ? Number(ctx.facts.clock.offset_ms ?? 0) : undefined);
    if (offset === undefined || Math.abs(offset) < MAX_CLOCK_OFFSET_MS) return [];
    const secs = (Math.abs(offset) / 1000).toFixed(2);
    return [{
      severity: 'error',
      found: `clock ${secs} s ${offset > 0 ? 'ahead of' : 'behind'} the coordinator`,
      required: `within ${MAX_CLOCK_OFFSET_MS / 1000} s of the coordinator`,
      fix: 'enable time synchronisation (chrony or systemd-timesyncd: "timedatectl set-ntp true") on the node and the coordinator',
    }];
  },
};
