// `muster-agent facts [--json]`: collect this node's facts and print them, no coordinator needed.
// Useful before joining (what will the coordinator see?) and when a node is refused a role.
import type { CliIO } from '../../shared/cli/io.ts';
import { collectFacts, formatFactsSummary } from '../facts/index.ts';
import type { CollectOptions, NodeFacts } from '../facts/index.ts';

export const FACTS_USAGE = `Usage: muster-agent facts [--json]

Collects this node's facts (CPU, memory, disks, OS, network, listening ports, binaries,
kernel settings) the way the agent reports them, and prints them. No coordinator is contacted.

  --json     print every fact as JSON (the Facts message of proto/muster/v1/muster.proto)
  -h, --help show this help
`;

export const FACTS_OPTIONS = { json: { type: 'boolean', default: false } } as const;

export interface FactsCommandDeps {
  collect?: (options?: CollectOptions) => Promise<NodeFacts>;
}

export async function factsCommand(argv: string[], io: CliIO, deps: FactsCommandDeps = {}): Promise<number> {
  let json = false;
  for (const arg of argv) {
    if (arg === '--json') json = true;
    else if (arg === '-h' || arg === '--help') {
      io.out(FACTS_USAGE);
      return 0;
    } else {
      io.err(`muster-agent facts: unknown argument '${arg}'; the only option is --json (see --help)`);
      return 2;
    }
  }
  const collect = deps.collect ?? collectFacts;
  let facts: NodeFacts;
  try {
    facts = await collect();
  } catch (err) {
    io.err(`muster-agent facts: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  io.out(json ? JSON.stringify(facts, null, 2) : formatFactsSummary(facts));
  return 0;
}
