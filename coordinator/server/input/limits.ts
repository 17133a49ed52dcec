// The bounds on what a node may send: the one table the validators in this folder check against.
// A joined node holds a valid certificate, but its reports are still input from another machine:
// they land in the store, in other nodes' assignments (/etc/hosts, probe targets), in logs and in
// the status table. Every value is sized so that a real node fits with room to spare; the tests
// (test/server/input.test.ts) hold a failing row for each entry.
import { ROLES } from '../../../shared/constants.ts';

const KiB = 1024;

export const INPUT_LIMITS = {
  /** Serialised JSON of one facts section (cpu, network, ...): a large real host's network section is ~40 KiB. */
  factsSectionBytes: 64 * KiB,
  /** The ports section, which is bigger by nature: 4096 listening sockets of ~110 bytes each. */
  portsSectionBytes: 512 * KiB,
  /** facts.network.interfaces (pod veths are not reported, bridges and tunnels are). */
  interfaces: 256,
  /** facts.network.interfaces[].addresses. */
  addressesPerInterface: 64,
  /** facts.ports.listening. */
  listeningPorts: 4096,
  /** facts.binaries.binaries (the agent reports ~20). */
  binaries: 256,
  /** facts.disks.filesystems. */
  filesystems: 256,
  /** facts.kernel.sysctls (the agent reports a handful). */
  sysctls: 256,
  /** facts.kernel.modules_loaded (only modules of interest are reported). */
  modules: 256,
  /** Entries of each list of probe results (latency, reach); a plan never has more targets. */
  probeResults: 1024,
  /** Self-declared labels; each key and value in Kubernetes syntax (63-character name, 253-character prefix). */
  labels: 64,
  /** agent_version, of AGENT_VERSION_RE characters ("0.1.0", "0.2.0-rc.1+g1234abc"). */
  agentVersionChars: 64,
  /** machine_id and boot_id, of MACHINE_ID_RE characters: 32 hex digits, a UUID, or a hostname (Linux caps those at 64). */
  machineIdChars: 64,
  /** Host names: facts.network.hostname and fqdn, probe target names (DNS's 253). */
  hostnameChars: 253,
  /** Every other string of facts and probe results: names, versions, descriptions, sysctl values. */
  textChars: 256,
  /** Paths on a node: files written by an apply, binaries, mount points, devices (Linux's PATH_MAX). */
  pathChars: 4096,
  /** ApplyResult.error: any printable text; control characters are escaped where it is shown. */
  applyErrorChars: 4096,
  /** LatencyResult.error and ReachResult.error (one socket error in words). */
  probeErrorChars: 1024,
  /** ApplyResult.files (a master writes a few dozen). */
  files: 2000,
  /** JoinRequest.node_name: a DNS-1123 subdomain. */
  nodeNameChars: 253,
  /** JoinRequest.csr_pem: a P-256 CSR is under 1 KiB; checked before any parsing. */
  csrPemChars: 8 * KiB,
  /** WatchAssignment calls one node may hold open at once: 1 normally, a few while a dead connection times out. */
  watchesPerNode: 4,
} as const;

export type InputLimit = keyof typeof INPUT_LIMITS;

/** agent_version characters: a semantic version with build metadata. */
export const AGENT_VERSION_RE = /^[0-9A-Za-z.+_-]*$/;
export const AGENT_VERSION_ALLOWED = `use at most ${INPUT_LIMITS.agentVersionChars} letters, digits and ". + _ -"`;
/** machine_id / boot_id characters: hex, UUID dashes, or a hostname's (the agent falls back to it). */
export const MACHINE_ID_RE = /^[0-9A-Za-z._-]*$/;
export const MACHINE_ID_ALLOWED = `use at most ${INPUT_LIMITS.machineIdChars} letters, digits and ". _ -"`;
/** ApplyResult.roles and nothing else. */
export const ALLOWED_ROLES: readonly string[] = ROLES;
