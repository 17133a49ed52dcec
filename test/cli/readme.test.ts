// The README's CLI reference against the command trees --help is generated from
// (coordinator/cli/commands.ts, agent/cli/commands.ts): every command it names exists, every flag
// it shows is one the command takes (the README once showed --keep, which was refused), every
// command is in it, and every flag of a command is in its row unless the row says "..." (see
// --help). The agent's settings table lists every `muster-agent run` flag.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MUSTER } from '../../coordinator/cli/commands.ts';
import { MUSTER_AGENT } from '../../agent/cli/commands.ts';
import { findCommand, leafCommands, type CommandSpec, type ProgramSpec } from '../../shared/cli/command.ts';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
const reference = readme.slice(readme.indexOf('## CLI reference'), readme.indexOf('\n## ', readme.indexOf('## CLI reference') + 5));
const rows = reference.split('\n').filter((l) => l.startsWith('|') && !/^\|[-| ]+\|$/.test(l));
const firstCell = (row: string) => row.replace(/\\\|/g, '\u0000').split('|')[1]!.replace(/\u0000/g, '|');

interface Mention {
  program: ProgramSpec;
  words: string[];
  spec: CommandSpec | undefined;
  flags: string[];
  open: boolean;
  text: string;
}

function mentions(): Mention[] {
  const out: Mention[] = [];
  for (const row of rows) {
    for (const m of firstCell(row).matchAll(/`([^`]+)`/g)) {
      const text = m[1]!;
      const program = text.startsWith('muster-agent ') ? MUSTER_AGENT : text.startsWith('muster ') ? MUSTER : null;
      if (!program) continue;
      const words = text.split(/\s+/).slice(1);
      const { path } = findCommand(program, words);
      const spec = path[path.length - 1];
      const long = [...text.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((f) => f[1]!);
      // -o FILE: a short flag, named by the command's declaration.
      const short = [...text.matchAll(/(?<![\w-])-([a-zA-Z])(?![\w-])/g)].map((f) => Object.entries(spec?.flags ?? {}).find(([, d]) => d.short === f[1])?.[0] ?? `-${f[1]}`);
      out.push({ program, words: words.slice(0, path.length), spec, flags: [...long, ...short], open: /\.\.\.\s*\]|\[flags\]/.test(text), text });
    }
  }
  return out;
}

test('every command the README names exists, and takes every flag it shows', () => {
  const all = mentions();
  assert.ok(all.length > 20, `found ${all.length} commands in the CLI reference`);
  for (const m of all) {
    assert.ok(m.spec?.run, `README: "${m.text}" is not a ${m.program.name} command`);
    for (const f of m.flags) assert.ok(f === 'help' || m.spec!.flags?.[f], `README: "${m.text}" shows --${f}, which ${m.program.name} ${m.words.join(' ')} does not take`);
  }
});

test('every command is in the README, with every flag of its own unless its row says "..."', () => {
  const all = mentions();
  for (const program of [MUSTER, MUSTER_AGENT]) {
    for (const { words, spec } of leafCommands(program)) {
      const mine = all.filter((m) => m.program === program && m.words.join(' ') === words.join(' '));
      assert.ok(mine.length > 0, `README's CLI reference lacks ${program.name} ${words.join(' ')}`);
      if (mine.some((m) => m.open)) continue;
      const shown = new Set(mine.flatMap((m) => m.flags));
      for (const [name, f] of Object.entries(spec.flags ?? {})) {
        if (f.common) continue; // --data-dir / --config / --coordinator: described once, below the table
        assert.ok(shown.has(name), `README: ${program.name} ${words.join(' ')} takes --${name}, which its row does not show`);
      }
    }
  }
});

test("the agent's settings table lists every muster-agent run flag, and only those", () => {
  const run = MUSTER_AGENT.commands.find((c) => c.name === 'run')!;
  const table = rows.filter((r) => /^\| `--/.test(r)).map((r) => /^\| `--([a-z-]+)/.exec(r)![1]!);
  assert.equal([...table].sort(), Object.keys(run.flags!).sort());
});

test('the exit codes the README gives are the ones the programs use', async () => {
  const { EXIT } = await import('../../shared/cli/exit-codes.ts');
  const flat = readme.replace(/\s+/g, ' ');
  assert.ok(flat.includes(`Exit codes: ${EXIT.ok} ok, ${EXIT.failed} refused or failed (the message says why), ${EXIT.usage} usage, ${EXIT.unavailable} coordinator unreachable or overloaded (retry later), ${EXIT.interrupted} interrupted (Ctrl-C)`));
});

test.run();
