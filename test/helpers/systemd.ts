// `systemd-analyze verify` on rendered units: the files go into a throwaway root holding the
// host's own system units (so targets such as sysinit.target resolve) and executable stubs at
// every ExecStart path, and verify runs with --root on it. Any output at all is a finding:
// systemd only warns (and exits 0) on an unknown key or a bad value it ignores.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './cluster.ts';
import { requireTool } from './tools.ts';
import type { FileSpec } from '../../shared/render/types.ts';

const HOST_UNITS = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(d));

export interface VerifyResult {
  ok: boolean;
  output: string;
}

/** Verifies every .service / .socket in `files` (drop-ins are read along with their unit). */
export function verifyUnits(files: readonly FileSpec[]): VerifyResult {
  requireTool('systemd-analyze', 'systemd');
  if (!HOST_UNITS) throw new Error('no /usr/lib/systemd/system on this machine to resolve targets against (install systemd)');
  const root = tempDir('muster-units-');
  cpSync(HOST_UNITS, join(root, 'usr/lib/systemd/system'), { recursive: true });
  for (const f of files) {
    mkdirSync(dirname(join(root, f.path)), { recursive: true });
    writeFileSync(join(root, f.path), f.content);
  }
  const units = files.filter((f) => /\.(service|socket)$/.test(f.path)).map((f) => join(root, f.path));
  for (const f of files) {
    for (const m of f.content.matchAll(/^Exec[A-Za-z]*=[-@:+!]*([^\s\\]+)/gm)) {
      const bin = join(root, m[1]!);
      mkdirSync(dirname(bin), { recursive: true });
      if (!existsSync(bin)) writeFileSync(bin, '#!/bin/sh\n');
      chmodSync(bin, 0o755);
    }
  }
  if (!units.length) return { ok: true, output: '' };
  const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units], { encoding: 'utf8', timeout: 30_000 });
  const output = `${r.stdout}${r.stderr}`.trim();
  return { ok: r.status === 0 && output === '', output };
}

export function systemdVersion(): string {
  return execFileSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).split('\n')[0]!;
}
