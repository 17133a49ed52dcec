// Public face of the agent's probes: the probe port, latency and reachability measurements, the
// temporary role-port listeners and one probe round for a ProbePlan (the coordinator picks the
// targets: shared/probe/targets.ts).
export { startProbeListener, handleProbeConnection, PROBE_IDLE_MS, type ProbeListenerOptions } from './listener.ts';
export { measureLatency, echoRoundTrip, median, type LatencyOptions } from './latency.ts';
export { openTemporaryListeners, type TemporaryListeners } from './temporary-listeners.ts';
export { checkReach, type ReachOptions } from './reach.ts';
export { runProbePlan, DEFAULT_PROBE_TIMEOUT_MS, type RunProbePlanOptions } from './run-plan.ts';
export { RolePortListeners, type ListenerOutcome } from './role-port-listeners.ts';
