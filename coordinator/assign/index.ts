// Public face of the assignment engine: who holds which role, which pod block, and what each node
// is told; plus the safety check and diff used when a plan changes. Pure functions only.
export type { AssignInput, AssignOutput, AssignmentBody, NodeAssignmentState, RegisteredNode } from './types.ts';
export { computeAssignments } from './compute.ts';
export { checkPlanChange } from './plan-change.ts';
export { diffText } from './diff.ts';
export { ZONE_LABEL } from './pool.ts';
