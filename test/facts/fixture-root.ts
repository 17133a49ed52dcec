// Writes a fake node (proc/, sys/, etc/ trees) into a temp directory for the fixture tests.
// Values ending in "->" + target become symbolic links, the way /proc/PID/fd entries are.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface FixtureRoot {
  dir: string;
  procRoot: string;
  sysRoot: string;
  etcRoot: string;
  remove(): void;
}

export function link(target: string): { link: string } {
  return { link: target };
}

export function writeFixtureRoot(files: Record<string, string | { link: string }>): FixtureRoot {
  const dir = mkdtempSync(join(tmpdir(), 'muster-facts-'));
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    if (typeof content === 'string') writeFileSync(path, content);
    else symlinkSync(content.link, path);
  }
  return {
    dir,
    procRoot: join(dir, 'proc'),
    sysRoot: join(dir, 'sys'),
    etcRoot: join(dir, 'etc'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
