// Where the demo finds `muster-agent`: next to the `muster` that is running, in the same form
// (bundle, single executable, or sources), because the two are built and shipped together. The
// demo runs agents as users run them, as separate programs, so the coordinator never imports
// agent code.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isSea } from 'node:sea';
import { ConfigError } from '../../shared/errors/index.ts';

/** How to start the agent: `command ...args run ...`. */
export interface AgentProgram {
  command: string;
  /** Arguments before the agent's own (the script, when Node runs it). */
  args: string[];
  /** The agent program's file, for messages. */
  path: string;
}

/** What is running now: the facts locateAgentProgram needs, apart so tests can pass their own. */
export interface RunningProgram {
  /** Inside a single executable (node:sea). */
  sea: boolean;
  /** The Node binary, or the single executable itself. */
  execPath: string;
  /** The script Node runs (process.argv[1], symlinks resolved, e.g. node_modules/.bin/muster). */
  entry: string | undefined;
}

export function runningProgram(): RunningProgram {
  const entry = process.argv[1];
  let real = entry;
  try {
    if (entry) real = realpathSync(entry);
  } catch {
    /* keep it as given; locateAgentProgram names it in its error */
  }
  return { sea: isSea(), execPath: process.execPath, entry: real };
}

const SOURCES_ENTRY = /[/\\]coordinator[/\\]cli[/\\]main\.ts$/;

export function locateAgentProgram(p: RunningProgram, exists: (path: string) => boolean = existsSync): AgentProgram {
  let found: AgentProgram;
  let build: string;
  if (p.sea) {
    const path = join(dirname(p.execPath), 'muster-agent');
    found = { command: path, args: [], path };
    build = 'build both single executables with `npm run build:sea` and keep muster-agent in the same directory as muster';
  } else if (p.entry && p.entry.endsWith('.cjs')) {
    const path = join(dirname(p.entry), 'muster-agent.cjs');
    found = { command: p.execPath, args: [path], path };
    build = 'build both programs with `npm run build`';
  } else if (p.entry && SOURCES_ENTRY.test(p.entry)) {
    const path = join(dirname(p.entry), '..', '..', 'agent', 'cli', 'main.ts');
    found = { command: p.execPath, args: [path], path };
    build = 'run the demo from a complete checkout, or build the programs with `npm run build` and run `node dist/muster.cjs demo`';
  } else {
    throw new ConfigError(
      `the demo runs each agent as a muster-agent program next to this muster program, but cannot tell where that is ` +
        `(muster runs from ${p.entry ?? 'an unknown script'}); build both programs with \`npm run build\` and run \`node dist/muster.cjs demo\``,
    );
  }
  if (!exists(found.path)) {
    throw new ConfigError(`the demo runs each agent as a muster-agent program, but ${found.path} does not exist; ${build}`);
  }
  return found;
}
