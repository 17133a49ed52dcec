// The declarative shape of a command line program: commands, their subcommands and flags, each
// with the words --help prints. One tree per program (coordinator/cli/commands.ts,
// agent/cli/commands.ts) is the single source of help, "did you mean", completion and the
// README check (test/cli/readme.test.ts); adding a command is adding one entry to it.
import type { ParseArgsOptionsConfig } from 'node:util';
import type { CliIO } from './io.ts';

/** What --help says about one flag; the parsing side is the node:util parseArgs option. */
export interface FlagHelp {
  /** The value's placeholder: DURATION, HOST:PORT. Absent for boolean flags. */
  value?: string;
  /** What the flag does, one short line (more lines allowed, each printed indented). */
  help: string;
  /** The flag must be given (shown without brackets in the usage line). */
  required?: boolean;
  /** The values it takes, for completion (and shown in help when there is no `value`). */
  choices?: readonly string[];
  /** Complete file names for its value. */
  file?: boolean;
  /** Left out of the usage line (still in the flag list); for flags shared by every admin command. */
  common?: boolean;
}

export type FlagSpec = ParseArgsOptionsConfig[string] & FlagHelp;
export type Flags = Record<string, FlagSpec>;

/**
 * Joins a command's parseArgs options with their help. Every option must be described (the type
 * says so), so help cannot leave out a flag the command takes, nor list one it rejects: the
 * command parses with the same options object.
 */
export function describeFlags<O extends ParseArgsOptionsConfig>(options: O, help: { [K in keyof O]: FlagHelp }): Flags {
  const out: Flags = {};
  for (const name of Object.keys(options)) out[name] = { ...options[name]!, ...help[name]! };
  return out;
}

export interface CommandSpec {
  name: string;
  /** One line, shown in the parent's command list. */
  summary: string;
  /** The positional part of the usage line: "FILE", "ID", "[REVISION]". */
  args?: string;
  /** Replaces the generated usage line (after "muster PATH") when flags alone do not say it. */
  usage?: string;
  /** Paragraphs after the usage line. */
  description?: string;
  flags?: Flags;
  subcommands?: CommandSpec[];
  /** Runs the command with the arguments after its name. Absent for a pure group. */
  run?: (argv: string[], io: CliIO) => Promise<number>;
  /** The heading it is listed under in the parent's help. */
  group?: string;
  /** Other names that run it (not suggested, not completed): "--version". */
  aliases?: string[];
  /** Values completion offers for the first positional argument. */
  argChoices?: readonly string[];
  /** Complete file names for positional arguments. */
  argFiles?: boolean;
}

export interface ProgramSpec {
  /** "muster", "muster-agent". */
  name: string;
  /** The first line of the top-level help. */
  title: string;
  commands: CommandSpec[];
  /** After the command list: environment, exit codes. */
  footer?: string;
}

/** The command a path names ("plan", "apply") and the path's length, or the deepest match. */
export function findCommand(program: ProgramSpec, words: readonly string[]): { path: CommandSpec[]; rest: string[] } {
  const path: CommandSpec[] = [];
  let list = program.commands;
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i]!;
    const next = list.find((c) => c.name === w || c.aliases?.includes(w));
    if (!next) break;
    path.push(next);
    list = next.subcommands ?? [];
    if (!next.subcommands) {
      i++;
      break;
    }
  }
  return { path, rest: words.slice(i) };
}

/** Every leaf command with its full path, depth first: what the README check and completion walk. */
export function leafCommands(program: ProgramSpec): { words: string[]; spec: CommandSpec }[] {
  const out: { words: string[]; spec: CommandSpec }[] = [];
  const walk = (list: CommandSpec[], prefix: string[]) => {
    for (const c of list) {
      if (c.subcommands) walk(c.subcommands, [...prefix, c.name]);
      if (c.run) out.push({ words: [...prefix, c.name], spec: c });
    }
  };
  walk(program.commands, []);
  return out;
}
