// Who is calling: the verified client certificate of the TLS session. grpc-js exposes the peer
// certificate only when the TLS handshake verified it against the identity CA, so a certificate
// from anywhere else is the same as none.
import type * as grpc from '@grpc/grpc-js';
import { ADMIN_ORG, NODE_ORG } from '../../shared/constants.ts';
import { MusterError, PermissionDeniedError } from '../../shared/errors/index.ts';
import type { ClusterState } from '../state/cluster-state.ts';
import type { NodeRecord } from '../state/records.ts';

export interface PeerIdentity {
  cn: string;
  orgs: string[];
  serial: string;
}

type AnyCall = { getAuthContext(): { sslPeerCertificate?: { subject?: Record<string, string | string[]>; serialNumber?: string } } | null };

export function peerIdentity(call: AnyCall): PeerIdentity | null {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (!cert?.subject) return null;
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return {
    cn: list(cert.subject.CN)[0] ?? '',
    orgs: list(cert.subject.O),
    serial: (cert.serialNumber ?? '').toLowerCase().replace(/^0+/, ''),
  };
}

function unauthenticated(what: string): MusterError {
  return new MusterError('unauthenticated', 'no-client-certificate', `${what} needs a client certificate issued by this coordinator`);
}

/** The node making an Agent call; refuses unknown, removed and superseded identities. */
export function requireNode(call: grpc.ServerUnaryCall<unknown, unknown>, state: ClusterState): NodeRecord {
  const id = peerIdentity(call as unknown as AnyCall);
  if (!id) throw unauthenticated('this call');
  if (!id.orgs.includes(NODE_ORG)) throw new PermissionDeniedError('not-a-node', `certificate ${id.cn} is not a node identity (O=${NODE_ORG})`);
  return state.authorizeNode(id.cn, id.serial);
}

export function requireAdmin(call: grpc.ServerUnaryCall<unknown, unknown>): PeerIdentity {
  const id = peerIdentity(call as unknown as AnyCall);
  if (!id) throw unauthenticated('admin access');
  if (!id.orgs.includes(ADMIN_ORG)) {
    throw new PermissionDeniedError('not-an-admin', `certificate ${id.cn} may not call admin methods (it is not in O=${ADMIN_ORG})`);
  }
  return id;
}
