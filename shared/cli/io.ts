// What a CLI command may touch of the outside world. Commands take an CliIO instead of using
// process.stdout / process.exit directly, so tests run them in-process and read what they print.
import { createInterface } from 'node:readline/promises';
import { colourWanted } from './colour.ts';
import { InterruptedError } from '../errors/index.ts';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Ask a question on an interactive terminal; null when there is no terminal (CI, pipes). */
  ask: ((question: string) => Promise<string>) | null;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Ends long-running commands (`status --watch`); absent: they end on SIGINT (Ctrl-C). */
  signal?: AbortSignal;
  /** Output is a terminal: redraw in place rather than append. @default false */
  isTTY?: boolean;
  /** The terminal's width when stdout is one; tables fit it (undefined: no limit). */
  columns?: number;
  /** Colour stdout / stderr (a terminal, and NO_COLOR unset). */
  colour?: boolean;
  errColour?: boolean;
}

export function processIO(): CliIO {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  return {
    out: (t) => void process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => void process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    ask: interactive
      ? async (q) => {
          const rl = createInterface({ input: process.stdin, output: process.stdout });
          // Ctrl-C at a prompt ends the command quietly (exit 130), not with readline's AbortError.
          const interrupted = new AbortController();
          rl.once('SIGINT', () => interrupted.abort());
          try {
            return await rl.question(q, { signal: interrupted.signal });
          } catch (err) {
            if (interrupted.signal.aborted) throw new InterruptedError();
            throw err;
          } finally {
            rl.close();
          }
        }
      : null,
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdout.isTTY),
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
    colour: colourWanted(process.stdout.isTTY, process.env),
    errColour: colourWanted(process.stderr.isTTY, process.env),
  };
}

/** An in-memory CliIO for tests: collects output, answers questions from a list. */
export function memoryIO(answers: string[] | null = null, env: Record<string, string | undefined> = {}): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(t: string) {
      io.stdout += t.endsWith('\n') ? t : `${t}\n`;
    },
    err(t: string) {
      io.stderr += t.endsWith('\n') ? t : `${t}\n`;
    },
    ask: answers ? async () => answers.shift() ?? '' : null,
    env,
    cwd: process.cwd(),
  };
  return io;
}
