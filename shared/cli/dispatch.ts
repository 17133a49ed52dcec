// Runs a program's command tree (shared/cli/command.ts) against argv: --help at every level,
// "did you mean" for unknown commands and flags, the command, and the one place errors become
// what the user reads and the exit code (shared/cli/exit-codes.ts).
import { parseArgs } from 'node:util';
import type { CliIO } from './io.ts';
import { findCommand, type CommandSpec, type Flags, type ProgramSpec } from './command.ts';
import { commandHelp, programHelp, usageLine } from './help.ts';
import { paint } from './colour.ts';
import { EXIT, errorJson, exitCodeFor, isParseArgsError } from './exit-codes.ts';
import { didYouMean } from '../plan/suggest.ts';
import { InterruptedError, MusterError, UsageError } from '../errors/index.ts';
import { explainSystemError } from './system-errors.ts';

const HELP_WORDS = new Set(['-h', '--help']);

/** The arguments before a `--` (after it, everything is positional). */
function beforeDashes(argv: readonly string[]): string[] {
  const i = argv.indexOf('--');
  return i < 0 ? [...argv] : argv.slice(0, i);
}

/**
 * `--flag=true` / `--flag=false` for a boolean flag, as users write them (and the README did),
 * become `--flag` / `--no-flag`, which parseArgs (allowNegative) understands.
 */
export function normaliseBooleans(argv: readonly string[], flags: Flags): string[] {
  const end = argv.indexOf('--');
  return argv.map((a, i) => {
    if (end >= 0 && i >= end) return a;
    const m = /^--([^=]+)=(true|false)$/i.exec(a);
    if (!m || flags[m[1]!]?.type !== 'boolean') return a;
    return m[2]!.toLowerCase() === 'true' ? `--${m[1]}` : `--no-${m[1]}`;
  });
}

function suggestion(word: string, candidates: Iterable<string>, prefix = ''): string {
  const s = didYouMean(word, candidates);
  return s ? `; did you mean "${prefix}${s}"?` : '';
}

/** parseArgs' own messages are written for programmers; these say the same for the user. */
function usageFromParseArgs(err: Error & { code: string }, flags: Flags): UsageError {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const name = quoted.replace(/^-+/, '').replace(/=.*$/, '');
      return new UsageError(`unknown flag ${quoted}${suggestion(name, Object.keys(flags), '--')}`);
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = quoted.split(' ')[0]!.replace(/^-\w, /, '');
      return new UsageError(err.message.includes('argument missing') ? `${flag} needs a value` : `${flag} does not take a value`);
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument "${quoted}": this command takes no arguments besides its flags`);
    default:
      return new UsageError(err.message);
  }
}

/** Checks flags against the command's declared ones before it runs: unknown ones are usage errors. */
function checkFlags(argv: string[], flags: Flags): void {
  try {
    parseArgs({ args: argv, options: flags, allowPositionals: true, allowNegative: true, strict: true });
  } catch (err) {
    throw isParseArgsError(err) ? usageFromParseArgs(err, flags) : err;
  }
}

export async function runProgram(program: ProgramSpec, argv: string[], io: CliIO): Promise<number> {
  const name = program.name;
  if (argv.length === 0) {
    io.out(programHelp(program));
    return EXIT.usage;
  }
  if (HELP_WORDS.has(argv[0]!) || argv[0] === 'help') {
    const { path } = findCommand(program, argv.slice(1));
    io.out(path.length ? commandHelp(program, argv.slice(1, 1 + path.length), path[path.length - 1]!) : programHelp(program));
    return EXIT.ok;
  }
  const { path, rest } = findCommand(program, argv);
  const spec = path[path.length - 1];
  const words = argv.slice(0, path.length);
  const json = beforeDashes(rest).includes('--json');
  try {
    if (!spec) {
      const known = program.commands.map((c) => c.name);
      throw new UsageError(`unknown command "${argv[0]}"${suggestion(argv[0]!, known)}`, { usage: `see ${name} --help` });
    }
    if (!spec.run) {
      // A group: alone it lists its commands; a wrong word gets the nearest one.
      if (rest.length === 0) {
        io.out(commandHelp(program, words, spec));
        return EXIT.usage;
      }
      if (HELP_WORDS.has(rest[0]!)) {
        io.out(commandHelp(program, words, spec));
        return EXIT.ok;
      }
      const subs = (spec.subcommands ?? []).map((c) => c.name);
      throw new UsageError(`unknown command "${[...words, rest[0]].join(' ')}"${suggestion(rest[0]!, subs, `${words.join(' ')} `)}`, { usage: `see ${name} ${words.join(' ')} --help` });
    }
    if (beforeDashes(rest).some((a) => HELP_WORDS.has(a))) {
      io.out(commandHelp(program, words, spec));
      return EXIT.ok;
    }
    const flags = spec.flags ?? {};
    const args = normaliseBooleans(rest, flags);
    checkFlags(args, flags);
    return await spec.run(args, io);
  } catch (raw) {
    const err = isParseArgsError(raw) ? usageFromParseArgs(raw, spec?.flags ?? {}) : explainSystemError(raw);
    return report(program, words, spec, err, json, io);
  }
}

function report(program: ProgramSpec, words: string[], spec: CommandSpec | undefined, err: unknown, json: boolean, io: CliIO): number {
  const code = exitCodeFor(err);
  if (err instanceof InterruptedError) {
    // Ctrl-C at a prompt: the user knows; a newline ends the half-written prompt line.
    io.err('');
    return code;
  }
  if (json) {
    io.out(JSON.stringify(errorJson(err), null, 2));
    return code;
  }
  // On a terminal the message is red, so it stands out from the log lines or output above it.
  const say = (text: string) => io.err(paint(io.errColour, ['red', 'bold'], `${program.name}:`) + ' ' + paint(io.errColour, 'red', text));
  if (err instanceof MusterError) {
    say(err.message);
    if (err instanceof UsageError) {
      const usage = err.usage ?? (spec ? `usage: ${program.name} ${usageLine(words, spec)}\nsee ${program.name} ${words.join(' ')} --help` : undefined);
      if (usage) io.err(usage);
    }
    return code;
  }
  // A bug: the stack is what a report needs, and the user is told it is one.
  say(`unexpected error (a bug in ${program.name}; please report it with what follows): ${(err as Error)?.stack ?? err}`);
  return code;
}
