// A TLS handshake that failed because the server is not the coordinator we trust reaches a
// grpc-js client as an UNAVAILABLE "No connection established" whose text holds OpenSSL's reason.
// That is not "unreachable": something answers on the address and it is not ours. Say so.
import { MusterError } from '../errors/index.ts';

const VERIFY_FAILURES = [
  /unable to verify/i,
  /self[- ]signed certificate/i,
  /certificate (signature failure|has expired|is not yet valid)/i,
  /unable to get (local )?issuer certificate/i,
  /Hostname\/IP does not match/i,
  /not a muster coordinator/i,
  /without serverAuth/i,
  /ERR_TLS_CERT/i,
  /UNABLE_TO_VERIFY_LEAF_SIGNATURE/i,
];

/** Returns the typed error for a coordinator that failed TLS verification, or null. */
export function coordinatorNotVerified(details: string, target: string): MusterError | null {
  if (!VERIFY_FAILURES.some((re) => re.test(details))) return null;
  const why = details.replace(/^.*?Last error: /s, '').replace(/^Error: /, '');
  return new MusterError(
    'permission-denied',
    'coordinator-unverified',
    `the server at ${target} is not the muster coordinator this node or config trusts: TLS verification failed (${why}). ` +
      'Check the address (--coordinator, or the one in the admin config); if the coordinator was re-initialised, use its new join command or admin.yaml',
  );
}
