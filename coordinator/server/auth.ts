// Who is calling: the verified client certificate of the TLS session. grpc-js exposes the peer
// certificate only when the TLS handshake verified it against the client CAs (node CA, admin
// CA), so a certificate from anywhere else is the same as none. A node call needs a node-CA
// certificate with O=muster:nodes, an admin call an admin-CA one with O=muster:admins: neither
// CA ever signs the other's organisation, and checking both keeps that true if one ever did.
import type * as grpc from '@grpc/grpc-js';
import { ADMIN_ORG, CA_CNS, NODE_ORG } from '../../shared/constants.ts';
import { MusterError, PermissionDeniedError } from '../../shared/errors/index.ts';
import type { Nodes } from '../state/nodes.ts';
import type { NodeRecord } from '../state/records.ts';
import type { AdminCaller, AdminCredentials } from '../state/admins.ts';

export interface PeerIdentity {
  cn: string;
  orgs: string[];
  issuerCn: string;
  serial: string;
  /** The certificate's notBefore, ms (NaN when the TLS layer gave none). */
  notBeforeMs: number;
}

type Name = Record<string, string | string[]>;
type AnyCall = { getAuthContext(): { sslPeerCertificate?: { subject?: Name; issuer?: Name; serialNumber?: string; valid_from?: string } } | null };

export function peerIdentity(call: AnyCall): PeerIdentity | null {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (!cert?.subject) return null;
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return {
    cn: list(cert.subject.CN)[0] ?? '',
    orgs: list(cert.subject.O),
    issuerCn: list(cert.issuer?.CN)[0] ?? '',
    serial: (cert.serialNumber ?? '').toLowerCase().replace(/^0+/, ''),
    notBeforeMs: Date.parse(cert.valid_from ?? ''),
  };
}

function unauthenticated(what: string): MusterError {
  return new MusterError('unauthenticated', 'no-client-certificate', `${what} needs a client certificate issued by this coordinator`);
}

/** The node making an Agent call; refuses unknown, removed and superseded identities. */
export function requireNode(call: grpc.ServerUnaryCall<unknown, unknown>, nodes: Nodes): NodeRecord & { callerSerial: string } {
  const id = peerIdentity(call as unknown as AnyCall);
  if (!id) throw unauthenticated('this call');
  if (!id.orgs.includes(NODE_ORG) || id.issuerCn !== CA_CNS.node) {
    throw new PermissionDeniedError('not-a-node', `certificate ${id.cn} is not a node identity (O=${NODE_ORG}, issued by ${CA_CNS.node})`);
  }
  return { ...nodes.authorize(id.cn, id.serial), callerSerial: id.serial };
}

/**
 * The admin making an Admin call. Organisation and issuing CA say "an admin credential"; the
 * credential records (coordinator/state/admins.ts, committed state in memory) say whether this
 * one is still good: a revoked lineage, or a serial the coordinator has no record of (unless it
 * is legacy: signed before records began), is refused with PERMISSION_DENIED.
 */
export function requireAdmin(call: grpc.ServerUnaryCall<unknown, unknown>, credentials: AdminCredentials): PeerIdentity & AdminCaller {
  const id = peerIdentity(call as unknown as AnyCall);
  if (!id) throw unauthenticated('admin access');
  if (!id.orgs.includes(ADMIN_ORG) || id.issuerCn !== CA_CNS.admin) {
    throw new PermissionDeniedError('not-an-admin', `certificate ${id.cn} may not call admin methods (it is not an admin credential: O=${ADMIN_ORG}, issued by ${CA_CNS.admin})`);
  }
  return { ...id, ...credentials.authorize(id.serial, id.notBeforeMs) };
}
