// The apply engine: puts rendered files onto the node root with the one atomic-write primitive.
// Unchanged files are not touched. Files are written in order; on the first failure the error
// says which file, and the files already written stay (each is whole, never half-written).
import { writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import { underRoot } from '../../shared/fs/node-root.ts';
import type { FileSpec } from '../../shared/render/types.ts';

export interface AppliedFile {
  path: string;
  changed: boolean;
}

export class ApplyError extends Error {
  readonly path: string;
  constructor(path: string, cause: unknown) {
    super(`cannot write ${path}: ${(cause as Error)?.message ?? cause}`, { cause });
    this.path = path;
  }
}

export async function applyFiles(root: string, files: FileSpec[]): Promise<AppliedFile[]> {
  const out: AppliedFile[] = [];
  for (const f of files) {
    try {
      const r = await writeFileAtomic(underRoot(root, f.path), f.content, { mode: f.mode });
      out.push({ path: f.path, changed: r.changed });
    } catch (err) {
      throw new ApplyError(f.path, err);
    }
  }
  return out;
}
