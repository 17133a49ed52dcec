// gRPC clients of the agent, one per trust stage:
//   untrusted  TLS without verification: only GetCA, whose answer is checked against the pin;
//   pinned     TLS verified against the pinned server CA, no client certificate: Join;
//   identity   mutual TLS with the node's certificate: every Agent call.
// Pinned and identity channels check on every connection that the server is a muster
// coordinator for the address dialled (shared/pki/coordinator-identity.ts), not just the chain.
import * as grpc from '@grpc/grpc-js';
import { musterV1, type AgentClient, type BootstrapClient } from '../../shared/wire/proto.ts';
import { checkCoordinatorIdentity } from '../../shared/pki/coordinator-identity.ts';
import { CLIENT_KEEPALIVE } from '../../shared/wire/keepalive.ts';

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...CLIENT_KEEPALIVE,
  // The agent does its own backoff with jitter; keep grpc's reconnect from adding a second one.
  'grpc.initial_reconnect_backoff_ms': 500,
  'grpc.max_reconnect_backoff_ms': 5_000,
  // channelz keeps per-channel trace objects; nothing here reads them.
  'grpc.enable_channelz': 0,
};

// Bootstrap channels live for one call. A channel-local subchannel pool makes close() drop the
// connection at once; the global pool would keep it open (on both ends) for its cleanup period.
const ONE_SHOT_OPTIONS: grpc.ChannelOptions = { ...CHANNEL_OPTIONS, 'grpc.use_local_subchannel_pool': 1 };

/**
 * For GetCA only: the server certificate is not verified here (the CA it returns is checked
 * against the pin instead). `placeholderCaPem` is any certificate: without one, Node would parse
 * its ~150 bundled root CAs for every such channel (measured: a fifth of a simulated agent's CPU).
 */
export function untrustedBootstrapClient(target: string, placeholderCaPem: string): BootstrapClient {
  const creds = grpc.credentials.createSsl(Buffer.from(placeholderCaPem), null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
  return new musterV1.Bootstrap(target, creds, ONE_SHOT_OPTIONS);
}

export function pinnedBootstrapClient(target: string, caCertPem: string): BootstrapClient {
  return new musterV1.Bootstrap(target, grpc.credentials.createSsl(Buffer.from(caCertPem), null, null, { checkServerIdentity: checkCoordinatorIdentity }), ONE_SHOT_OPTIONS);
}

export function agentClient(target: string, id: { caCertPem: string; keyPem: string; certPem: string }): AgentClient {
  const creds = grpc.credentials.createSsl(Buffer.from(id.caCertPem), Buffer.from(id.keyPem), Buffer.from(id.certPem), { checkServerIdentity: checkCoordinatorIdentity });
  return new musterV1.Agent(target, creds, CHANNEL_OPTIONS);
}
