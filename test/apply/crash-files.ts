// The crash test's change set: 40 files of ~64 KiB whose content names its generation on every
// line, so a torn file is visible (mixed or short), and the odd generations drop one file (so
// removals are interrupted too).
import type { FileSpec } from '../../shared/render/types.ts';

export const CRASH_FILE_COUNT = 40;

export function crashContent(i: number, gen: number): string {
  return `generation ${gen} file ${i}\n`.repeat(2_500);
}

export function crashFiles(gen: number): FileSpec[] {
  const out: FileSpec[] = [];
  for (let i = 0; i < CRASH_FILE_COUNT; i++) {
    if (gen % 2 === 1 && i === 7) continue;
    out.push({ path: `/etc/crash/d${i % 5}/file-${i}.conf`, mode: 0o644, content: crashContent(i, gen) });
  }
  return out;
}
