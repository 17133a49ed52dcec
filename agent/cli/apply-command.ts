// `muster-agent apply --dry-run [--state-dir DIR] [--root DIR]`: what the next pass would change
// on this node, as a unified diff, without writing anything or calling the coordinator. It
// renders the assignment the agent applied last (its state dir) with the certificates on disk,
// the same way the running agent does, and compares with the files there: a hand edit shows up
// here before the agent's drift repair undoes it.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import type { CliIO } from '../../shared/cli/io.ts';
import { UsageError, FailedPreconditionError } from '../../shared/errors/index.ts';
import { DEFAULT_AGENT_STATE_DIR } from '../../shared/constants.ts';
import { IdentityStore } from '../identity/identity-store.ts';
import { renderNode } from '../../shared/render/index.ts';
import { NodeApplier } from '../apply/engine.ts';
import { NoServices } from '../apply/services.ts';
import { pkiHashesOnDisk } from '../pki/hashes.ts';
import { silentLogger } from '../../shared/log/logger.ts';

export const APPLY_OPTIONS = {
  'dry-run': { type: 'boolean', default: false },
  'state-dir': { type: 'string' },
  root: { type: 'string' },
} as const;

export async function applyCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args: argv, options: APPLY_OPTIONS, allowNegative: true, strict: true });
  if (!values['dry-run']) throw new UsageError('only --dry-run: the running agent (muster-agent run) is what applies');
  const stateDir = resolve(io.cwd, values['state-dir'] ?? io.env.MUSTER_STATE_DIR ?? DEFAULT_AGENT_STATE_DIR);
  const root = resolve(io.cwd, values.root ?? io.env.MUSTER_ROOT ?? '/');
  const applied = await new IdentityStore(stateDir).loadApplied();
  if (!applied) throw new FailedPreconditionError('nothing-applied', `the agent with state dir ${stateDir} has applied no assignment yet, so there is nothing to compare; start it with muster-agent run`);
  const a = applied.assignment;
  const pki = await pkiHashesOnDisk(root, a.roles);
  const files = renderNode({ assignment: a, certificateHashes: pki.hashes });
  const applier = new NodeApplier({ root, stateDir, log: silentLogger(), services: new NoServices(null, 'dry run') });
  const diffs = await applier.diff(files, pki.paths);
  if (!diffs.length) {
    io.out(`revision ${a.revision}: every file muster renders is as it should be (${files.length} files)`);
    return 0;
  }
  for (const d of diffs) io.out(d.diff.replace(/\n$/, ''));
  io.out(`revision ${a.revision}: ${diffs.length} file(s) would change; the running agent changes them at its next pass`);
  return 1;
}
