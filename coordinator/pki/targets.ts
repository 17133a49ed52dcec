// A node's PkiTarget (proto Assignment.pki), as a pure function: for each cluster CA the
// fingerprints its trust bundle holds and the CA that signs for it (./rotation.ts gives them per
// stage), and the operator's renewal request (`muster certs renew`). The target is part of the
// assignment body, so a rotation stage or a renewal request reaches a node exactly like a plan
// change: its assignment revision moves and its pending watch returns.
//
// The issuer (./issuer.ts) signs with the signer of the node's committed target and returns its
// bundles, so what the agent is told and what it gets never disagree.
import { splitBundle } from '../../shared/pki/bundle.ts';
import type { ClusterCaKind } from '../../shared/pki/catalogue.ts';
import type { ClusterCa, ClusterPkiMaterial } from './cluster-cas.ts';
import { CLUSTER_CA_KINDS } from './cluster-cas.ts';
import { COMPLETE, holdsCa, nodeStage, stageTarget, type CaRotationRecord, type CaTargetOut } from './rotation.ts';

export interface PkiTargetOut {
  cas: Record<string, CaTargetOut>;
  renew_before_ms: number;
}

export interface TargetInputs {
  material: ClusterPkiMaterial;
  /** The rotation in progress per kind (records at COMPLETE count as none). */
  rotation: (kind: ClusterCaKind) => CaRotationRecord | undefined;
  /** The operator's latest renewal request covering the node, ms; 0 for none. */
  renewBeforeMs: number;
}

/** The target of a node with these roles: an entry for each CA it holds certificates of. */
export function pkiTarget(name: string, roles: readonly string[], i: TargetInputs): PkiTargetOut {
  const cas: Record<string, CaTargetOut> = {};
  for (const kind of CLUSTER_CA_KINDS) {
    // A node not holding a CA is not part of its rotation: its assignment does not change for it.
    if (!holdsCa(roles, kind)) continue;
    const r = i.rotation(kind);
    const cur = i.material.cas[kind].fingerprint;
    cas[kind] = r && r.stage < COMPLETE ? stageTarget(r, nodeStage(r, name)) : { bundle: [cur], signer: cur };
  }
  return { cas, renew_before_ms: i.renewBeforeMs };
}

/** The CAs a rotation may name for `kind`: the CA of record and the one being rotated in. */
function candidates(m: ClusterPkiMaterial, kind: ClusterCaKind): ClusterCa[] {
  return [m.cas[kind], m.next[kind]].filter((c): c is ClusterCa => Boolean(c));
}

/** The CA with this fingerprint, or undefined (a target naming a CA the coordinator no longer has). */
export function caByFingerprint(m: ClusterPkiMaterial, kind: ClusterCaKind, fingerprint: string): ClusterCa | undefined {
  return candidates(m, kind).find((c) => c.fingerprint === fingerprint);
}

/** Bundles built, by material (replaced, never changed, when a CA is) and kind + fingerprints: every issuance returns three. */
const bundles = new WeakMap<ClusterPkiMaterial, Map<string, string | null>>();

/** The PEM bundle a target names, in its order; null when it names a CA the coordinator lacks. */
export function bundlePem(m: ClusterPkiMaterial, kind: ClusterCaKind, t: CaTargetOut): string | null {
  let byKey = bundles.get(m);
  if (!byKey) bundles.set(m, (byKey = new Map()));
  const key = `${kind} ${t.bundle.join(' ')}`;
  let pem = byKey.get(key);
  if (pem === undefined) byKey.set(key, (pem = buildBundle(m, kind, t)));
  return pem;
}

function buildBundle(m: ClusterPkiMaterial, kind: ClusterCaKind, t: CaTargetOut): string | null {
  const pems: string[] = [];
  for (const fp of t.bundle) {
    const ca = caByFingerprint(m, kind, fp);
    if (!ca) return null;
    pems.push(...splitBundle(ca.certPem));
  }
  return pems.map((p) => `${p}\n`).join('');
}
