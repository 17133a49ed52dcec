// Every file a node gets for its assignment. Pure: same input, same files.
import type { AssignmentOut } from '../wire/types.ts';
import type { FileSpec } from './types.ts';
import { renderAssignmentFile } from './assignment-file.ts';
export type { FileSpec } from './types.ts';

export function renderNode(a: AssignmentOut): FileSpec[] {
  return [renderAssignmentFile(a)];
}
