// `muster-agent`: the node agent. The commands are agent/cli/commands.ts; help, "did you mean",
// error messages and exit codes come from shared/cli/dispatch.ts.
import '../../shared/cli/warnings.ts';
import { processIO, type CliIO } from '../../shared/cli/io.ts';
import { runProgram } from '../../shared/cli/dispatch.ts';
import { programHelp } from '../../shared/cli/help.ts';
import { MUSTER_AGENT } from './commands.ts';

export const HELP = programHelp(MUSTER_AGENT);

export function main(argv: string[], io: CliIO): Promise<number> {
  return runProgram(MUSTER_AGENT, argv, io);
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
