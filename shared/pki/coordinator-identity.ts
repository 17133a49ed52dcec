// What agents and the admin CLI check on every connection to a coordinator, beyond the chain to
// the pinned server CA: the certificate says it is a muster coordinator (O=muster:coordinators,
// serverAuth) and names the address dialled. The chain alone would already keep nodes out (their
// certificates come from another CA); this keeps a future mistake in the CA tree from becoming a
// way to impersonate the coordinator.
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { COORDINATOR_ORG } from '../constants.ts';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

export function checkCoordinatorIdentity(host: string, cert: PeerCertificate): Error | undefined {
  const subject = (cert.subject ?? {}) as unknown as Record<string, string | string[] | undefined>;
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const orgs = list(subject.O);
  const cn = list(subject.CN)[0] ?? '';
  if (!orgs.includes(COORDINATOR_ORG)) {
    return new Error(`the server at ${host} presented a certificate for "${cn}" (O=${orgs.join(',') || 'none'}), not a muster coordinator's (O=${COORDINATOR_ORG})`);
  }
  if (!(cert.ext_key_usage ?? []).includes(SERVER_AUTH)) {
    return new Error(`the server at ${host} presented a certificate for "${cn}" without serverAuth`);
  }
  return checkServerIdentity(host, cert);
}
