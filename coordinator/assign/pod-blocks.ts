// Pod address blocks: each master or worker routes one block of the pod CIDR. A block stays with
// its node for the node's whole life (routes and running pods depend on it) and is handed out
// again only after the node is removed. New blocks are the lowest free ones.
import type { NetworkingSpec } from '../../shared/plan/types.ts';
import type { NodeAssignmentState, RegisteredNode } from './types.ts';
import { blockCount, blockIndex, nthBlock, parseIPv4Cidr } from './cidr.ts';
import { listNames } from './order.ts';

export interface BlockAllocation {
  /** Node name -> its block, for every node that keeps or gets one. */
  blocks: Map<string, string>;
  /** Nodes that need a block and got none, in pool order. */
  starved: string[];
  /** Why the starved nodes got none (one sentence, for `waiting`). */
  starvedReason: string;
  problems: string[];
}

/** `nodes` in pool order; `needs(name)` is true for nodes holding master or worker. */
export function allocatePodBlocks(networking: NetworkingSpec, nodes: readonly RegisteredNode[], needs: (name: string) => boolean, previous: ReadonlyMap<string, NodeAssignmentState>): BlockAllocation {
  const range = parseIPv4Cidr(networking.pod_cidr_block);
  const size = networking.pod_block_size;
  const total = range ? blockCount(range, size) : 0;
  const blocks = new Map<string, string>();
  const used = new Set<number>();
  const problems: string[] = [];
  const foreign: string[] = [];
  const doubled: string[] = [];

  // Keep every block already held; should the stored state ever hold one block twice, the
  // earlier joiner keeps it.
  for (const n of nodes) {
    const held = previous.get(n.name)?.podCidr;
    if (!held) continue;
    const i = range ? blockIndex(range, size, held) : -1;
    if (i < 0) foreign.push(`${n.name} (${held})`);
    else if (used.has(i)) doubled.push(`${n.name} (${held})`);
    else {
      used.add(i);
      blocks.set(n.name, held);
    }
  }
  if (foreign.length) {
    problems.push(`${foreign.length} stored pod ${foreign.length === 1 ? 'block is' : 'blocks are'} not ${size}-address blocks of cluster.networking.pod_cidr_block ${networking.pod_cidr_block} and were released (was the pod CIDR or block size changed?): ${listNames(foreign)}`);
  }
  if (doubled.length) {
    problems.push(`pod blocks held twice in the stored state were given to the earlier node; the later ${doubled.length === 1 ? 'one gets' : 'ones get'} a new block: ${listNames(doubled)}`);
  }

  const starved: string[] = [];
  let cursor = 0;
  for (const n of nodes) {
    if (blocks.has(n.name) || !needs(n.name)) continue;
    while (cursor < total && used.has(cursor)) cursor++;
    if (cursor >= total) {
      starved.push(n.name);
      continue;
    }
    used.add(cursor);
    blocks.set(n.name, nthBlock(range!, size, cursor));
  }

  const starvedReason = !range
    ? `cluster.networking.pod_cidr_block "${networking.pod_cidr_block}" is not an IPv4 CIDR, so there is no pod block for this node: fix the plan`
    : total === 0
      ? `cluster.networking.pod_block_size ${size} does not split pod_cidr_block ${networking.pod_cidr_block} into blocks (it must be a power of two no larger than the range): fix the plan`
      : `all ${total} pod blocks of ${size} addresses in cluster.networking.pod_cidr_block ${networking.pod_cidr_block} are in use: widen the pod CIDR (muster plan apply --force) or remove nodes (muster node remove NAME)`;
  if (starved.length) problems.push(`${starved.length} ${starved.length === 1 ? 'node waits' : 'nodes wait'} for a pod block (${listNames(starved)}): ${starvedReason}`);
  return { blocks, starved, starvedReason, problems };
}
