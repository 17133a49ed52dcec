// A coordinator in its own process (for crash tests and the fleet benchmark):
// `node coordinator-process.ts <serve flags>`. SIGUSR2 prints process.memoryUsage() to stderr.
import { serveCommand } from '../../coordinator/cli/serve.ts';
import { processIO } from '../../shared/cli/io.ts';

process.on('SIGUSR2', () => {
  const m = process.memoryUsage();
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)}MB`;
  process.stderr.write(`memory: rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`);
});

serveCommand(process.argv.slice(2), processIO()).then(
  (code) => (process.exitCode = code),
  (err) => {
    process.stderr.write(`coordinator-process: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
