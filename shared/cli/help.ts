// --help text, generated from the command tree (shared/cli/command.ts): the top-level help, a
// group's list of subcommands, and a command's usage line with every flag it takes.
import type { CommandSpec, FlagSpec, Flags, ProgramSpec } from './command.ts';

const INDENT = '  ';

function flagName(name: string, f: FlagSpec): string {
  const long = `--${name}`;
  return f.short ? `-${f.short}, ${long}` : long;
}

function placeholder(f: FlagSpec): string {
  if (f.type === 'boolean') return '';
  return ` ${f.value ?? (f.choices ? f.choices.join('|') : 'VALUE')}`;
}

/** "[--ttl DURATION]", "--name LABEL", "[--node NAME]..." */
function usageFlag(name: string, f: FlagSpec): string {
  const text = `${f.short && name === 'output' ? `-${f.short}` : `--${name}`}${placeholder(f)}`;
  const one = f.required ? text : `[${text}]`;
  return f.multiple ? `${one}...` : one;
}

/** The usage line after the program name: "token create [--ttl DURATION] ...". */
export function usageLine(words: readonly string[], spec: CommandSpec): string {
  if (spec.subcommands && !spec.run) return `${words.join(' ')} COMMAND [flags]`;
  if (spec.usage) return `${words.join(' ')} ${spec.usage}`;
  const flags = Object.entries(spec.flags ?? {}).filter(([, f]) => !f.common).map(([n, f]) => usageFlag(n, f));
  const common = Object.values(spec.flags ?? {}).some((f) => f.common) ? ['[admin flags]'] : [];
  return [...words, ...(spec.args ? [spec.args] : []), ...flags, ...common].join(' ');
}

function defaultText(f: FlagSpec): string {
  const d = f.default;
  if (d === undefined || d === false || d === '' || (Array.isArray(d) && d.length === 0)) return '';
  if (f.type === 'boolean') return '';
  return ` (default ${Array.isArray(d) ? d.join(',') : String(d)})`;
}

/** Two columns: names padded to the longest (within reason), help wrapped under itself. */
function columns(rows: [string, string][], width = 30): string[] {
  const pad = Math.min(width, Math.max(0, ...rows.map(([l]) => l.length)) + 2);
  const out: string[] = [];
  for (const [left, right] of rows) {
    const lines = right.split('\n');
    if (left.length + 2 > pad) {
      out.push(`${INDENT}${left}`);
      for (const l of lines) out.push(`${INDENT}${' '.repeat(pad)}${l}`);
    } else {
      out.push(`${INDENT}${left.padEnd(pad)}${lines[0]}`);
      for (const l of lines.slice(1)) out.push(`${INDENT}${' '.repeat(pad)}${l}`);
    }
  }
  return out;
}

export function flagRows(flags: Flags): [string, string][] {
  return Object.entries(flags).map(([n, f]) => [`${flagName(n, f)}${placeholder(f)}`, `${f.help}${defaultText(f)}`]);
}

/** Help for one command or group; `words` is its path ("plan", "apply"). */
export function commandHelp(program: ProgramSpec, words: readonly string[], spec: CommandSpec): string {
  const out = [`Usage: ${program.name} ${usageLine(words, spec)}`, '', spec.summary];
  if (spec.description) out.push('', spec.description);
  if (spec.subcommands) {
    out.push('', 'Commands:', ...columns(spec.subcommands.map((c) => [c.name, c.summary]), 20));
    out.push('', `Run "${program.name} ${words.join(' ')} COMMAND --help" for a command's flags.`);
  }
  if (spec.run) {
    const own = Object.fromEntries(Object.entries(spec.flags ?? {}).filter(([, f]) => !f.common));
    const common = Object.fromEntries(Object.entries(spec.flags ?? {}).filter(([, f]) => f.common));
    out.push('', 'Flags:', ...columns([...flagRows(own), ['-h, --help', 'show this help']]));
    if (Object.keys(common).length) out.push('', 'Admin flags (how to reach the coordinator):', ...columns(flagRows(common)));
  }
  return `${out.join('\n')}\n`;
}

/** The top-level help: every command, under its group heading, with its summary. */
export function programHelp(program: ProgramSpec): string {
  const out = [program.title, '', `Usage: ${program.name} COMMAND [flags]`];
  const groups = new Map<string, [string, string][]>();
  const add = (group: string, row: [string, string]) => groups.set(group, [...(groups.get(group) ?? []), row]);
  for (const c of program.commands) {
    const group = c.group ?? 'Commands';
    if (c.subcommands) for (const s of c.subcommands) add(s.group ?? group, [`${c.name} ${s.name}`, s.summary]);
    else add(group, [c.name, c.summary]);
  }
  for (const [group, rows] of groups) out.push('', group, ...columns(rows, 26));
  out.push('', `Run "${program.name} COMMAND --help" for a command's flags.`);
  if (program.footer) out.push('', program.footer);
  return `${out.join('\n')}\n`;
}
