// `muster-agent reset [--yes] [--state-dir DIR] [--root DIR] [--keep-identity]`: decommissioning,
// kubeadm reset's counterpart -- removes exactly the files muster wrote on this node (its
// owned-files manifest; from /etc/hosts only muster's block), and the agent's state (identity,
// applied revision) unless --keep-identity. Without --yes it lists what it would remove. Stop
// the running agent first, or it writes everything again at its next pass.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { rm } from 'node:fs/promises';
import type { CliIO } from '../../shared/cli/io.ts';
import { DEFAULT_AGENT_STATE_DIR, AGENT_STATE } from '../../shared/constants.ts';
import { NodeApplier } from '../apply/engine.ts';
import { NoServices } from '../apply/services.ts';
import { OwnedFiles } from '../apply/owned-files.ts';
import { silentLogger } from '../../shared/log/logger.ts';

export const RESET_OPTIONS = {
  yes: { type: 'boolean', default: false },
  'state-dir': { type: 'string' },
  root: { type: 'string' },
  'keep-identity': { type: 'boolean', default: false },
} as const;

export async function resetCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args: argv, options: RESET_OPTIONS, allowNegative: true, strict: true });
  const stateDir = resolve(io.cwd, values['state-dir'] ?? io.env.MUSTER_STATE_DIR ?? DEFAULT_AGENT_STATE_DIR);
  const root = resolve(io.cwd, values.root ?? io.env.MUSTER_ROOT ?? '/');
  const owned = await new OwnedFiles(stateDir).load();
  if (!values.yes) {
    io.out(`would remove the ${owned.paths.length} file(s) muster wrote on this node${owned.blocks.size ? ` (from ${[...owned.blocks].join(', ')} only muster's block)` : ''}${values['keep-identity'] ? '' : `, and the agent's identity and state in ${stateDir}`}:`);
    for (const p of owned.paths) io.out(`  ${p}`);
    io.out('run again with --yes to do it (stop muster-agent first)');
    return 1;
  }
  const applier = new NodeApplier({ root, stateDir, log: silentLogger(), services: new NoServices(null, 'reset') });
  const { removed, kept } = await applier.removeAll();
  io.out(`removed ${removed.length} file(s) muster wrote`);
  if (kept.length) {
    io.out(`left ${kept.length} file(s) in place, as they are not what muster wrote there; remove them by hand if they are muster's:`);
    for (const k of kept) io.out(`  ${k}`);
  }
  if (!values['keep-identity']) {
    for (const f of Object.values(AGENT_STATE)) await rm(resolve(stateDir, f), { force: true });
    io.out(`removed the agent's identity and state in ${stateDir}: to join again, remove the node on the coordinator (muster node remove NAME) or use a token bound to its name`);
  }
  return 0;
}
