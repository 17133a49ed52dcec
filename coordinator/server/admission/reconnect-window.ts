// The reconnect window a coordinator advises its agents (WatchAssignment's response headers):
// after a restart, a fleet of N agents that all retry within the agents' default 5 s asks for
// N / 5 handshakes a second -- 2,000 at 10,000 agents, several times what two cores complete --
// and handshakes that time out are paid for and made again. Spread over N / RECONNECTS_PER_SECOND
// seconds, the storm arrives at about the rate it can be taken back.
import { MAX_RECONNECT_WINDOW_MS, RECONNECTS_PER_SECOND } from '../../../shared/constants.ts';

export function reconnectWindowMs(nodes: number, perSecond = RECONNECTS_PER_SECOND): number {
  if (!(nodes > 0) || !(perSecond > 0)) return 0;
  return Math.min(MAX_RECONNECT_WINDOW_MS, Math.ceil((nodes / perSecond) * 1000));
}
