// `muster-agent`: the node agent.
import '../../shared/cli/warnings.ts';
import { processIO, type CliIO } from '../../shared/cli/io.ts';
import { MusterError } from '../../shared/errors/index.ts';
import { runCommand } from './run-command.ts';
import { factsCommand } from './facts-command.ts';
import { inspectCommand } from './inspect-command.ts';
import { VERSION, versionDetail } from '../../shared/version.ts';

export const HELP = `muster-agent ${VERSION}: the muster node agent

Usage: muster-agent COMMAND [flags]

  run       Join the coordinator (first start), report facts, pull the assignment, apply it, repeat.
            --coordinator HOST:PORT      coordinator address (MUSTER_COORDINATOR)
            --token ID.SECRET            bootstrap token, first start only (MUSTER_TOKEN)
            --ca-hash sha256:HEX         pin of the coordinator CA, first start only (MUSTER_CA_HASH)
            --insecure-skip-ca-verification   trust the coordinator CA unchecked (logs a warning)
            --state-dir DIR              identity and applied state (MUSTER_STATE_DIR, default /var/lib/muster-agent)
            --root DIR                   treat DIR as the node's / for every file written (MUSTER_ROOT, default /)
            --node-name NAME             default: the host name (MUSTER_NODE_NAME)
            --address IP                 address other nodes use for this one (MUSTER_ADDRESS)
            --node-labels k=v,k2=v2      labels plan pools select on (MUSTER_NODE_LABELS)
            --config FILE                YAML with the same settings in snake_case (MUSTER_AGENT_CONFIG,
                                         default /etc/muster/agent.yaml when present); flags > env > file
            --log-level error|warn|info|debug   --log-format text|json
  facts     Print this node's facts [--json], without a coordinator.
  inspect   Run preflight checks locally against this node's facts, without a coordinator:
            --roles etcd,master,worker [--plan FILE] [--profile production|prototyping]
            [--ignore CHECK,...] [--node-name NAME] [--json]; exit 0 pass, 1 fail, 2 usage.
  version   Print the version; --verbose adds the Node version, the build form and the Node flags.
`;

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(HELP);
        return cmd === undefined ? 2 : 0;
      case '--version':
      case 'version':
        io.out(rest[0] === '--verbose' || rest[0] === '-v' ? versionDetail() : VERSION);
        return 0;
      case 'run':
        return await runCommand(rest, io);
      case 'facts':
        return await factsCommand(rest, io);
      case 'inspect':
        return await inspectCommand(rest, io);
    }
    io.err(`muster-agent: unknown command "${cmd}"; see muster-agent --help`);
    return 2;
  } catch (err) {
    if (err instanceof MusterError) {
      io.err(`muster-agent: ${err.message}`);
      return err.kind === 'unavailable' || err.kind === 'resource-exhausted' ? 3 : 1;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`muster-agent: ${(err as Error).message}; see muster-agent --help`);
      return 2;
    }
    io.err(`muster-agent: unexpected error: ${(err as Error)?.stack ?? err}`);
    return 1;
  }
}

const entry = process.argv[1] ?? '';
if (/muster-agent(\.cjs)?$|agent[/\\]cli[/\\]main\.ts$/.test(entry)) {
  main(process.argv.slice(2), processIO()).then(
    (code) => (process.exitCode = code),
    (err) => {
      process.stderr.write(`muster-agent: ${err?.stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
