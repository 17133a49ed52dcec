// Admin.RenewCertificates' node list and Admin.RotateCa's kind, checked before they reach state.
// An admin is trusted, but the list still lands in a transaction (one record per name) and in a
// log line, and an unknown name is echoed back: a script's runaway list (100k names, one name
// 50k times, a name of a megabyte) must not become a huge transaction or log line.
import { InvalidArgumentError } from '../../../shared/errors/index.ts';
import type { ClusterCaKind } from '../../../shared/pki/catalogue.ts';
import { CLUSTER_CA_KINDS } from '../../pki/cluster-cas.ts';
import { quote } from './fields.ts';
import { validateNodeName } from './join.ts';

/** Kubernetes' largest supported cluster: a longer list is not a list of this cluster's nodes. */
export const MAX_RENEW_NODES = 5000;

/** The names to renew, each once, in the order given; throws on a list too long or a name no node can have. */
export function validateRenewNodes(nodes: readonly string[]): string[] {
  if (nodes.length > MAX_RENEW_NODES) throw new InvalidArgumentError(`renew: ${nodes.length} node names; at most ${MAX_RENEW_NODES} (use --all for every node)`);
  for (const n of nodes) validateNodeName(n);
  return [...new Set(nodes)];
}

export function validateCaKind(kind: string): ClusterCaKind {
  if (!(CLUSTER_CA_KINDS as readonly string[]).includes(kind)) throw new InvalidArgumentError(`unknown CA kind ${quote(kind)}: one of ${CLUSTER_CA_KINDS.join(', ')}`);
  return kind as ClusterCaKind;
}
