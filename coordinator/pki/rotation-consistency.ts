// Whether a kind's latest rotation record (state.db) and the CAs on disk (cluster-pki/) belong to
// the same moment. They are kept apart -- the record in the store, the CAs as files -- so a data
// dir put back from two backups of different times, or a CA imported with --force over one being
// rotated out, pairs a record with CAs it does not describe. Served on, that splits the cluster:
// a node told to trust a CA the coordinator no longer has gets a bundle nobody else uses, or none
// at all; a completed rotation paired with the CA it retired moves every node back to that CA at
// once, without the trust-both stage. So the coordinator refuses to start and says why.
import { COMPLETE, LAST_STAGE, type CaRotationRecord } from './rotation.ts';

/** Fingerprints of the CAs held for one kind: the CA of record and the one in next/, if any. */
export interface HeldCas {
  current: { serial: string; fingerprint: string };
  next?: { fingerprint: string };
}

const RESTORE = "restore the data dir's cluster-pki/ and state.db from the same backup";

/** Why record `r` and the CAs held cannot be served together, or null. */
export function rotationCaProblem(r: CaRotationRecord | undefined, held: HeldCas, dataDir: string): string | null {
  if (!r) return null;
  const have = [held.current.fingerprint, held.next?.fingerprint];
  const where = `${dataDir}/cluster-pki/`;
  if (r.stage < COMPLETE) {
    if (!have.includes(r.next.fingerprint)) {
      return `the ${r.kind} CA rotation ${r.id} (stage ${r.stage}/3) rotates in the CA serial ${r.next.serial}, which is not in ${where}next/ nor the CA of record: ${RESTORE}`;
    }
    // After the last stage the new CA is promoted just before the record says so: a crash in
    // between leaves the old CA only in retired/, which is right (no node trusts it any more).
    const promoted = r.stage === LAST_STAGE && held.current.fingerprint === r.next.fingerprint;
    if (!promoted && !have.includes(r.old.fingerprint)) {
      return `the ${r.kind} CA rotation ${r.id} (stage ${r.stage}/3) rotates out the CA serial ${r.old.serial}, which is neither the CA of record in ${where} nor in next/ (state.db is older than cluster-pki/, or a CA was imported over it): ${RESTORE}`;
    }
    return null;
  }
  if (held.current.fingerprint === r.old.fingerprint) {
    return `the ${r.kind} CA of record (serial ${r.old.serial}) is the one retired by rotation ${r.id}, which every node has replaced with serial ${r.next.serial} (cluster-pki/ is older than state.db): ${RESTORE}; the retired copy is kept in ${where}retired/`;
  }
  return null;
}
