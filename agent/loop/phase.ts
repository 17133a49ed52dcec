// The agent's phases (agent.ts draws the state machine); every transition is logged.
export type AgentPhase =
  | 'starting'
  | 'joining'
  | 'reporting'
  | 'watching'
  | 'probing'
  | 'applying'
  | 'renewing-certificates'
  | 'waiting-for-coordinator'
  | 'stopped'
  | 'failed';
