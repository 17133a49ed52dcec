// A committed assignment as the wire carries it: what an agent's watch returns and what
// `muster render` renders from.
import type { Assignment } from '../../shared/wire/types.ts';
import type { CommittedAssignment } from '../state/records.ts';

export function toWireAssignment(name: string, a: CommittedAssignment): Assignment {
  return { ...a.body, node_name: name, revision: a.revision, plan_revision: a.planRevision };
}
