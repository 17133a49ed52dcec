// Bootstrap.Join's fields other than the token, checked before any cryptography runs: every
// check here is a length, a pattern or a lookup, so a stranger cannot make the coordinator spend
// CPU on a CSR that would be refused anyway.
import type { JoinRequest__Output as JoinRequestOut } from '../../../proto/gen/types/muster/v1/JoinRequest.ts';
import { InvalidArgumentError } from '../../../shared/errors/index.ts';
import { hostnameErrors } from '../../../shared/plan/k8s-names.ts';
import { FieldChecker, quote } from './fields.ts';
import { AGENT_VERSION_ALLOWED, AGENT_VERSION_RE, INPUT_LIMITS as L, MACHINE_ID_ALLOWED, MACHINE_ID_RE } from './limits.ts';

/** The name a node asks for: a DNS-1123 subdomain, as Kubernetes requires of node names. */
export function validateNodeName(name: string): void {
  if (!name || name.length > L.nodeNameChars || hostnameErrors(name).length) {
    throw new InvalidArgumentError(
      `node name ${quote(name)} is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most ${L.nodeNameChars} characters); set --node-name`,
    );
  }
}

/** Throws InvalidArgumentError on the first bad field (the token is parseToken's business). */
export function validateJoinRequest(req: JoinRequestOut): void {
  validateNodeName(req.node_name);
  const f = new FieldChecker(`join request for ${req.node_name}`);
  // PEM is lines; what the lines hold is parseCsr's to judge.
  f.text('csr_pem', req.csr_pem, { max: L.csrPemChars, control: true });
  f.matches('machine_id', req.machine_id, L.machineIdChars, MACHINE_ID_RE, MACHINE_ID_ALLOWED);
  if (req.agent_version) f.matches('agent_version', req.agent_version, L.agentVersionChars, AGENT_VERSION_RE, AGENT_VERSION_ALLOWED);
  f.labels('labels', req.labels ?? {});
  f.nodeIp('address', req.address, 'the node has no address until it reports one');
}
