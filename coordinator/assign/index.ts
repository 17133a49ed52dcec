// Public face of the assignment engine: who holds which role, which pod block, and what each node
// is told; plus the safety check and diff used when a plan changes. Pure functions only.
export type { AssignInput, AssignOutput, AssignmentBody, NodeAssignmentState, RegisteredNode } from './types.ts';
export { computeAssignments } from './compute.ts';
export { checkPlanChange, reviewPlanChange, type PlanChangeInputs } from './plan-change.ts';
export { PLAN_CHANGE_CHECKS, formatRefusal, type ChangeRefusal, type ChangeCheck } from './change-checks/index.ts';
export { diffText } from './diff.ts';
export { nodeChanges, type NodeChange } from './node-changes.ts';
export { ZONE_LABEL } from './pool.ts';
