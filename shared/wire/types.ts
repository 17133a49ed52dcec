// Message types of muster.v1, re-exported under short names. `X` is what a sender may pass,
// `XOut` what a receiver gets (defaults filled in).
export type { Assignment, Assignment__Output as AssignmentOut } from '../../proto/gen/types/muster/v1/Assignment.ts';
export type { Facts, Facts__Output as FactsOut } from '../../proto/gen/types/muster/v1/Facts.ts';
export type { ApplyResult, ApplyResult__Output as ApplyResultOut } from '../../proto/gen/types/muster/v1/ApplyResult.ts';
export type { NodeStatus, NodeStatus__Output as NodeStatusOut } from '../../proto/gen/types/muster/v1/NodeStatus.ts';
export type { TokenInfo, TokenInfo__Output as TokenInfoOut } from '../../proto/gen/types/muster/v1/TokenInfo.ts';
export type { ProbePlan, ProbePlan__Output as ProbePlanOut } from '../../proto/gen/types/muster/v1/ProbePlan.ts';
export type { ProbeResults, ProbeResults__Output as ProbeResultsOut } from '../../proto/gen/types/muster/v1/ProbeResults.ts';
export type { ReportRequest__Output as ReportRequestOut } from '../../proto/gen/types/muster/v1/ReportRequest.ts';
export type { StatusResponse__Output as StatusResponseOut } from '../../proto/gen/types/muster/v1/StatusResponse.ts';
