// Files muster shares with the OS: the rendered content is a block that goes between muster's
// markers, the rest of the file stays as it is (shared/render/os/hosts.ts has the pure rule).
import type { FileSpec } from '../../shared/render/types.ts';
import { mergeManagedBlock } from '../../shared/render/os/hosts.ts';

/** The bytes a file should hold given what is there now. */
export function wantedContent(spec: FileSpec, existing: string | null): string {
  return spec.merge === 'managed-block' ? mergeManagedBlock(existing, spec.content) : spec.content;
}
