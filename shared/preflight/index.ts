// Public face of preflight: named checks over a node's facts, one runner, text formatting.
// Used by the coordinator (before assigning a role) and by `muster-agent inspect` (locally).
export type * from './types.ts';
export { runPreflight, IGNORE_ALL, IGNORE_LIST_CHECK } from './runner.ts';
export { DEFAULT_CHECKS, LOCAL_CHECKS } from './checks/index.ts';
export { formatResult, formatReportTable, summarize } from './format.ts';
export { ROLE_PORTS, portsForRoles, processMatches, type RolePort } from './role-ports.ts';
export { HARDWARE_MINIMUMS, SIZE_TOLERANCE, MIN_CPU_MHZ, type HardwareMinimum } from './checks/hardware.ts';
export { DEFAULT_SUPPORTED_OS, END_OF_LIFE_OS, osMatches } from './checks/os.ts';
export { REQUIRED_BINARIES, OPTIONAL_BINARIES, PREFLIGHT_BINARIES, runtimeBinaries } from './checks/binaries.ts';
export { MAX_CLOCK_OFFSET_MS } from './checks/clock.ts';
export { describeTarget } from './checks/peers.ts';
export { LATENCY_ROUNDS, addLatencyRound, withRounds, judgeLatency, latencyTargetKey, type LatencyHistory, type LatencyVerdict } from './latency-rounds.ts';
