// How many WatchAssignment calls one node may hold open. A healthy agent holds one; a few more
// happen while the coordinator has not yet noticed that a node's old connection died. Beyond
// that the calls are a loop gone wrong or an attack on the coordinator's memory, and are refused
// as "unavailable" so that an agent retries with backoff instead of giving up.
import { UnavailableError } from '../../../shared/errors/index.ts';
import { INPUT_LIMITS } from './limits.ts';

/** Throws when `node`, which holds `open` watches now, may not open another. */
export function checkWatchSlots(node: string, open: number, max: number = INPUT_LIMITS.watchesPerNode): void {
  if (open >= max) {
    throw new UnavailableError(`node ${node} already holds ${open} WatchAssignment calls; at most ${max} may be open at once (retry when one ends)`);
  }
}
