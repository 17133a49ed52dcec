// HTTP/2 keepalive of muster's gRPC connections, both ends, in one place (the reasons are in
// docs/ARCHITECTURE.md "Connections, keepalive and message sizes"). Message-size limits are the
// coordinator's admission options (coordinator/server/admission/admission.ts), per peer class.

/**
 * Coordinator: a PING on every connection after 60 s without one, closed when unanswered for
 * 20 s. It finds agents that vanished without a FIN (power loss, a partition) within ~80 s,
 * freeing their connection and held watch; at 10,000 agents it is ~170 pings/s, which is noise.
 * grpc-js's server does not police client pings, so the agents' own need no server permission.
 */
export const SERVER_KEEPALIVE = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
} as const;

/**
 * Agent: the same interval from its side, so a coordinator that vanished is noticed during a
 * held watch (up to 55 s) rather than at its deadline; no pings without a call in progress (an
 * agent nearly always holds a watch, and between calls there is nothing to keep alive).
 */
export const CLIENT_KEEPALIVE = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 0,
} as const;
