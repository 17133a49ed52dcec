// `muster`: the coordinator and its admin CLI. The commands are coordinator/cli/commands.ts;
// help, "did you mean", error messages and exit codes come from shared/cli/dispatch.ts.
import '../../shared/cli/warnings.ts';
import { processIO, type CliIO } from '../../shared/cli/io.ts';
import { runProgram } from '../../shared/cli/dispatch.ts';
import { programHelp } from '../../shared/cli/help.ts';
import { MUSTER } from './commands.ts';

export const HELP = programHelp(MUSTER);

export function main(argv: string[], io: CliIO): Promise<number> {
  return runProgram(MUSTER, argv, io);
}

// Run when this is the entry point (the bundle, or `node coordinator/cli/main.ts`).
const entry = process.argv[1] ?? '';
if (/muster(\.cjs)?$|coordinator[/\\]cli[/\\]main\.ts$/.test(entry)) {
  main(process.argv.slice(2), processIO()).then(
    (code) => (process.exitCode = code),
    (err) => {
      process.stderr.write(`muster: ${err?.stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
