// The default check list, in the order reports show them: the machine, then its software and
// kernel, then its place in the cluster.
import type { Check } from '../types.ts';
import { hardwareCpuCheck, hardwareMemoryCheck, hardwareDiskCheck } from './hardware.ts';
import { osSupportedCheck } from './os.ts';
import { binariesRequiredCheck, binariesOptionalCheck, containerRuntimeCheck } from './binaries.ts';
import { portsFreeCheck } from './ports.ts';
import { swapCheck, ipForwardCheck, brNetfilterCheck } from './kernel.ts';
import { peerLatencyCheck, peerReachCheck } from './peers.ts';
import { clockOffsetCheck } from './clock.ts';
import { nodeAddressCidrCheck } from './addresses.ts';
import { hostnameValidCheck, hostnameUniqueCheck } from './hostname.ts';

export const DEFAULT_CHECKS: readonly Check[] = [
  hardwareCpuCheck,
  hardwareMemoryCheck,
  hardwareDiskCheck,
  osSupportedCheck,
  binariesRequiredCheck,
  binariesOptionalCheck,
  containerRuntimeCheck,
  portsFreeCheck,
  swapCheck,
  ipForwardCheck,
  brNetfilterCheck,
  clockOffsetCheck,
  nodeAddressCidrCheck,
  hostnameValidCheck,
  hostnameUniqueCheck,
  peerLatencyCheck,
  peerReachCheck,
];

/** The checks a node can run on its own facts, without the coordinator (`muster-agent inspect`). */
export const LOCAL_CHECKS: readonly Check[] = DEFAULT_CHECKS.filter((c) => c.scope !== 'cluster');
