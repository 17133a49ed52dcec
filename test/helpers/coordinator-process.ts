// A coordinator in its own process (for crash tests): `node coordinator-process.ts serve-args...`.
import { serveCommand } from '../../coordinator/cli/serve.ts';
import { processIO } from '../../shared/cli/io.ts';

serveCommand(process.argv.slice(2), processIO()).then(
  (code) => (process.exitCode = code),
  (err) => {
    process.stderr.write(`coordinator-process: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
