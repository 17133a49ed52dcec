// Every plan-change check, in the order they run. The names are printed with each refusal.
import type { ChangeCheck } from './check.ts';
import { etcdQuorumCheck } from './etcd.ts';
import { networkRangesCheck, clusterNameCheck, networkTypeCheck } from './cluster.ts';
import { lastMasterCheck } from './masters.ts';
import { installedRolesCheck } from './roles.ts';
import { versionDowngradeCheck, versionSkewCheck } from './version.ts';

export const PLAN_CHANGE_CHECKS: readonly ChangeCheck[] = [
  etcdQuorumCheck,
  networkRangesCheck,
  lastMasterCheck,
  installedRolesCheck,
  clusterNameCheck,
  networkTypeCheck,
  versionDowngradeCheck,
  versionSkewCheck,
];

export { runChangeChecks, formatRefusal } from './runner.ts';
export { defineChangeCheck, type ChangeCheck, type ChangeContext, type ChangeNode, type ChangeRefusal } from './check.ts';
