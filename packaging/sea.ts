// Single executables: `muster` and `muster-agent` as one file each, nothing else needed on the
// machine (no Node, no node_modules). Node's single-executable applications: the esbuild bundle
// (packaging/build.ts) goes into a SEA blob, and postject injects the blob into a copy of the
// Node binary that runs this script (Node 24, pinned in package.json).
//
//   node packaging/sea.ts [--out DIR]     (default dist/; `npm run build:sea`)
//
// Each program's V8 flags (COORDINATOR_NODE_FLAGS, AGENT_NODE_FLAGS) travel in its blob's
// execArgv, as they travel in the bundle's shebang. Each executable is written beside its final name and renamed,
// so a failed build never leaves half a binary.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { inject } from 'postject';
import { AGENT_NODE_FLAGS, COORDINATOR_NODE_FLAGS } from '../shared/constants.ts';
import { bundle, generateProto } from './build.ts';

const ROOT = join(import.meta.dirname, '..');
/** The fuse Node looks for to know a blob was injected (Node's documented value). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface SeaProgram {
  name: string;
  bundle: string;
  execArgv: readonly string[];
}

export const PROGRAMS: SeaProgram[] = [
  { name: 'muster', bundle: 'dist/muster.cjs', execArgv: COORDINATOR_NODE_FLAGS },
  { name: 'muster-agent', bundle: 'dist/muster-agent.cjs', execArgv: AGENT_NODE_FLAGS },
];

export async function buildSea(outDir: string): Promise<string[]> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) throw new Error(`single executables need Node 24 (this is ${process.version}); run through npm (\`npm run build:sea\`), which uses the pinned one`);
  if (process.platform !== 'linux') throw new Error(`single executables are built for Linux only (this is ${process.platform})`);
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'muster-sea-'));
  const built: string[] = [];
  try {
    for (const p of PROGRAMS) {
      // The SEA main runs as a CommonJS function body, where a shebang line is not allowed.
      const main = join(work, `${p.name}.cjs`);
      writeFileSync(main, readFileSync(join(ROOT, p.bundle), 'utf8').replace(/^#!.*\n/, ''));
      const blob = join(work, `${p.name}.blob`);
      const config = join(work, `${p.name}.sea.json`);
      writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false, execArgv: p.execArgv }));
      execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      const target = join(outDir, p.name);
      const partial = `${target}.partial`;
      copyFileSync(process.execPath, partial);
      chmodSync(partial, 0o755);
      await inject(partial, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
      renameSync(partial, target);
      built.push(target);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return built;
}

if (process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(ROOT, 'dist') } } });
  generateProto();
  await bundle();
  for (const f of await buildSea(resolve(values.out!))) {
    const version = execFileSync(f, ['--version'], { encoding: 'utf8' }).trim();
    console.log(`${f}: ${version}`);
  }
}
