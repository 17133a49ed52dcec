// Every plan check, in the order they run. The names are the rule names users see.
import type { PlanCheck } from './check.ts';
import { unknownFieldCheck, typeCheck, requiredCheck } from './shape.ts';
import { textCheck } from './text.ts';
import { cidrCheck, cidrOverlapCheck, podCidrSizeCheck, podBlockSizeCheck, dnsServiceIpCheck, bgpAsCheck, clusterDomainCheck, proxyCheck } from './network.ts';
import { etcdCountCheck, masterCountCheck, loadBalancerCheck, shutdownDelayCheck, expectedCountCheck, poolCountCheck } from './topology.ts';
import { nodeHostCheck, ipCheck, duplicateNodeCheck, labelCheck, taintCheck } from './nodes.ts';
import { durationCheck, certExpiryCheck, extraSansCheck } from './certificates.ts';
import { versionCheck, supportedVersionCheck } from './version.ts';
import { kismaticFormatCheck } from './format.ts';
import { runtimeCheck, imagesCheck } from './runtime.ts';

export const PLAN_CHECKS: readonly PlanCheck[] = [
  kismaticFormatCheck,
  unknownFieldCheck,
  typeCheck,
  requiredCheck,
  textCheck,
  versionCheck,
  supportedVersionCheck,
  cidrCheck,
  cidrOverlapCheck,
  podCidrSizeCheck,
  podBlockSizeCheck,
  dnsServiceIpCheck,
  bgpAsCheck,
  clusterDomainCheck,
  proxyCheck,
  etcdCountCheck,
  masterCountCheck,
  loadBalancerCheck,
  shutdownDelayCheck,
  expectedCountCheck,
  poolCountCheck,
  nodeHostCheck,
  ipCheck,
  duplicateNodeCheck,
  labelCheck,
  taintCheck,
  durationCheck,
  certExpiryCheck,
  extraSansCheck,
  runtimeCheck,
  imagesCheck,
];

export { runChecks, sortProblems } from './runner.ts';
export { defineCheck, type PlanCheck, type CheckContext, type PlanFormat } from './check.ts';
