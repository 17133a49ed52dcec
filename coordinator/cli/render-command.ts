// `muster render --node NAME [--out DIR] [--show PATH] [--json]`: a node's files as its agent
// renders them, previewed from the coordinator -- the same renderers (shared/render) fed the
// node's committed assignment. The cluster PKI's files (keys, certificates, kubeconfigs) are
// made on the node and are not shown; static pods carry a hash of them, which the preview
// leaves empty, so their muster.io/certificates-hash annotation differs from the node's.
import { parseArgs } from 'node:util';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIO } from '../../shared/cli/io.ts';
import { formatTable } from '../../shared/cli/table.ts';
import { renderNodeFiles } from '../../shared/render/index.ts';
import { writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import { underRoot } from '../../shared/fs/node-root.ts';
import { UsageError } from '../../shared/errors/index.ts';
import { ADMIN_FLAGS } from './admin-flags.ts';
import { withAdmin } from './admin-commands.ts';

export const RENDER_OPTIONS = {
  ...ADMIN_FLAGS,
  node: { type: 'string' },
  out: { type: 'string' },
  show: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export async function renderCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args: argv, options: RENDER_OPTIONS, allowNegative: true, strict: true });
  if (!values.node) throw new UsageError('which node? usage: muster render --node NAME [--out DIR] [--show PATH] [--json]');
  return withAdmin(values, io, async (a) => {
    const assignment = await a.call('NodeAssignment', { name: values.node! });
    const { files, origin } = renderNodeFiles({ assignment });
    if (values.show) {
      const f = files.find((x) => x.path === values.show);
      if (!f) throw new UsageError(`node ${values.node} gets no ${values.show}; muster render --node ${values.node} lists its files`);
      io.out(f.content);
      return 0;
    }
    if (values.out) {
      const dir = resolve(io.cwd, values.out);
      await mkdir(dir, { recursive: true });
      for (const f of files) await writeFileAtomic(underRoot(dir, f.path), f.content, { mode: f.mode });
    }
    if (values.json) {
      io.out(JSON.stringify({ node: values.node, revision: Number(assignment.revision), files: files.map((f, i) => ({ path: f.path, mode: f.mode.toString(8).padStart(4, '0'), renderer: origin[i], bytes: Buffer.byteLength(f.content), triggers: f.triggers ?? [] })) }, null, 2));
      return 0;
    }
    const rows = files.map((f, i) => [f.path, f.mode.toString(8).padStart(4, '0'), origin[i]!, String(Buffer.byteLength(f.content)), (f.triggers ?? []).map((t) => ('unit' in t ? `${t.kind} ${t.unit}` : t.kind)).join(', ') || '-']);
    io.out(`node ${values.node}, assignment revision ${assignment.revision} (roles ${assignment.roles.join(',') || 'none'}): ${files.length} file(s)${values.out ? ` written under ${resolve(io.cwd, values.out)}` : ''}`);
    io.out(formatTable(['PATH', 'MODE', 'RENDERER', 'BYTES', 'ON CHANGE'], rows));
    io.out("Keys, certificates and kubeconfigs are made on the node and are not shown. --show PATH prints one file; --out DIR writes them all.");
    return 0;
  });
}
