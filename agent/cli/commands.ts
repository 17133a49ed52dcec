// `muster-agent`'s command tree (see coordinator/cli/commands.ts for how it is used): every
// command, its flags with their help, and the function that runs it.
import type { ProgramSpec } from '../../shared/cli/command.ts';
import { describeFlags } from '../../shared/cli/command.ts';
import { completionCommand } from '../../shared/cli/completion.ts';
import { UsageError } from '../../shared/errors/index.ts';
import { VERSION, versionDetail } from '../../shared/version.ts';
import { DEFAULT_AGENT_STATE_DIR, DEFAULT_PROBE_PORT, DEFAULT_RECONNECT_JITTER_MS, DEFAULT_STARTUP_JITTER_MS } from '../../shared/constants.ts';
import { runCommand, RUN_FLAGS } from './run-command.ts';
import { factsCommand, FACTS_OPTIONS } from './facts-command.ts';
import { inspectCommand, INSPECT_OPTIONS } from './inspect-command.ts';
import { applyCommand, APPLY_OPTIONS } from './apply-command.ts';
import { resetCommand, RESET_OPTIONS } from './reset-command.ts';

const VERSION_OPTIONS = { verbose: { type: 'boolean', short: 'v', default: false } } as const;

export const MUSTER_AGENT: ProgramSpec = {
  name: 'muster-agent',
  title: `muster-agent ${VERSION}: the muster node agent`,
  commands: [
    {
      name: 'run',
      summary: 'join the coordinator (first start), report facts, pull the assignment, apply it, repeat',
      description: 'Settings come from flags, then MUSTER_* environment variables, then the config file.\nA node that has joined keeps its name and goes back to the coordinator it joined unless told another.',
      flags: describeFlags(RUN_FLAGS, {
        config: { value: 'FILE', help: 'YAML with the same settings in snake_case (MUSTER_AGENT_CONFIG, default /etc/muster/agent.yaml when present)', file: true },
        coordinator: { value: 'HOST:PORT', help: 'coordinator address (MUSTER_COORDINATOR; default after a join: the one joined)' },
        token: { value: 'ID.SECRET', help: 'bootstrap token, first start only (MUSTER_TOKEN)' },
        'ca-hash': { value: 'sha256:HEX', help: 'pin of the coordinator CA, first start only (MUSTER_CA_HASH)' },
        'insecure-skip-ca-verification': { help: 'trust the coordinator CA unchecked (logs a warning)' },
        'state-dir': { value: 'DIR', help: `identity and applied state (MUSTER_STATE_DIR, default ${DEFAULT_AGENT_STATE_DIR})`, file: true },
        root: { value: 'DIR', help: "treat DIR as the node's / for every file written (MUSTER_ROOT, default /)", file: true },
        'node-name': { value: 'NAME', help: 'default: the host name; after a join, the name joined as (MUSTER_NODE_NAME)' },
        address: { value: 'IP', help: "an address of this machine other nodes use for it (MUSTER_ADDRESS)" },
        'node-labels': { value: 'k=v,...', help: 'labels plan pools select on (MUSTER_NODE_LABELS)' },
        'log-level': { value: 'LEVEL', help: 'error, warn, info or debug (MUSTER_LOG_LEVEL, default info)', choices: ['error', 'warn', 'info', 'debug'] },
        'log-format': { value: 'FORMAT', help: 'text or json', choices: ['text', 'json'] },
        'probe-port': { value: 'PORT', help: `probe listener peers measure latency to, on --address (MUSTER_PROBE_PORT, default ${DEFAULT_PROBE_PORT}; 0 picks a free one)` },
        'startup-jitter-ms': { value: 'MS', help: `first contact waits a random time below MS (MUSTER_STARTUP_JITTER_MS, default ${DEFAULT_STARTUP_JITTER_MS}; a fleet booted at once: its size / the join rate)` },
        'reconnect-jitter-ms': { value: 'MS', help: `first retry after the coordinator went away waits a random time below MS (MUSTER_RECONNECT_JITTER_MS, default ${DEFAULT_RECONNECT_JITTER_MS})` },
        'ready-timeout-ms': { value: 'MS', help: 'after an apply that changed an etcd member\'s manifest, wait up to MS for the restarted local member to be ready, and after one that changed a master\'s kube-apiserver manifest, for the local API server to be ready at the new version (the same version: restarted, then ready), before reporting (MUSTER_READY_TIMEOUT_MS; default 300000 under systemd, 0 = no wait otherwise)' },
      }),
      run: runCommand,
    },
    {
      name: 'facts',
      summary: "print this node's facts, without a coordinator",
      flags: describeFlags(FACTS_OPTIONS, { json: { help: 'every fact as JSON (the Facts message of proto/muster/v1/muster.proto)' } }),
      run: factsCommand,
    },
    {
      name: 'inspect',
      summary: 'run the preflight checks locally for some roles; exit 0 pass, 1 fail, 2 usage',
      flags: describeFlags(INSPECT_OPTIONS, {
        roles: { value: 'ROLES', help: 'roles to check the node for: etcd,master,worker', required: true },
        plan: { value: 'FILE', help: 'take profile, ignore list, CIDRs, runtime and version from a plan file', file: true },
        profile: { value: 'PROFILE', help: "production or prototyping (default: the plan's)", choices: ['production', 'prototyping'] },
        ignore: { value: 'CHECK,...', help: 'also ignore these checks ("all" ignores every error)' },
        'node-name': { value: 'NAME', help: 'name to print (default: the host name)' },
        json: { help: 'print the report as JSON (snake_case keys)' },
      }),
      run: inspectCommand,
    },
    {
      name: 'apply',
      summary: 'with --dry-run: the unified diff of what the next pass would change on this node; exit 0 nothing, 1 changes',
      flags: describeFlags(APPLY_OPTIONS, {
        'dry-run': { help: 'print what would change, write nothing', required: true },
        'state-dir': { value: 'DIR', help: `the agent's state dir (MUSTER_STATE_DIR, default ${DEFAULT_AGENT_STATE_DIR})`, file: true },
        root: { value: 'DIR', help: "the node's / (MUSTER_ROOT, default /)", file: true },
      }),
      run: applyCommand,
    },
    {
      name: 'reset',
      summary: "decommission: remove exactly the files muster wrote on this node, and the agent's identity; without --yes, list them",
      flags: describeFlags(RESET_OPTIONS, {
        yes: { help: 'do it (stop muster-agent first)' },
        'state-dir': { value: 'DIR', help: `the agent's state dir (MUSTER_STATE_DIR, default ${DEFAULT_AGENT_STATE_DIR})`, file: true },
        root: { value: 'DIR', help: "the node's / (MUSTER_ROOT, default /)", file: true },
        'keep-identity': { help: "keep the agent's identity and state (only the node's files go)" },
      }),
      run: resetCommand,
    },
    {
      name: 'version',
      summary: 'the version',
      aliases: ['--version'],
      flags: describeFlags(VERSION_OPTIONS, { verbose: { help: 'add the Node version, build form and Node flags' } }),
      run: async (argv, io) => {
        io.out(argv.includes('--verbose') || argv.includes('-v') ? versionDetail() : VERSION);
        return 0;
      },
    },
    completionCommand(() => MUSTER_AGENT, { summary: 'print a shell completion script: source <(muster-agent completion bash)' }),
  ],
  footer: 'Exit codes: 0 ok, 1 refused or failed, 2 usage, 3 coordinator unreachable, 130 interrupted.',
};
