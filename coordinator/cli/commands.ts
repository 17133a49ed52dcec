// `muster`'s command tree: every command and subcommand, its flags with their help, and the
// function that runs it. --help, "did you mean", `muster completion` and the README check are
// generated from this (shared/cli/). A new command is one entry here; its flags are the parseArgs
// options the command itself parses with, so help and behaviour cannot drift apart.
import type { CommandSpec, FlagHelp, ProgramSpec } from '../../shared/cli/command.ts';
import { NODE_LIST_OPTIONS, NODE_DESCRIBE_OPTIONS } from './node-commands.ts';
import { describeFlags } from '../../shared/cli/command.ts';
import { completionCommand } from '../../shared/cli/completion.ts';
import { UsageError } from '../../shared/errors/index.ts';
import { VERSION, versionDetail } from '../../shared/version.ts';
import { DEFAULT_COORDINATOR_DATA_DIR, DEFAULT_METRICS_ADDRESS, DEFAULT_COORDINATOR_PORT, ROLES } from '../../shared/constants.ts';
import { INIT_DEFAULTS } from '../../shared/plan/index.ts';
import { serveCommand, SERVE_OPTIONS } from './serve.ts';
import {
  ADMIN_FLAGS, tokenCommand, statusCommand, nodeCommand, planApplyCommand, planHistoryCommand, planShowCommand,
  TOKEN_CREATE_OPTIONS, TOKEN_LIST_OPTIONS, TOKEN_REVOKE_OPTIONS, STATUS_OPTIONS, NODE_REMOVE_OPTIONS, NODE_ASSIGN_OPTIONS,
  PLAN_APPLY_OPTIONS, PLAN_HISTORY_OPTIONS, PLAN_SHOW_OPTIONS,
} from './admin-commands.ts';
import { planValidateCommand, planInitCommand, planImportCommand, PLAN_VALIDATE_OPTIONS, PLAN_IMPORT_OPTIONS, INIT_FLAGS, DEFAULT_PLAN_FILE } from './plan-file.ts';
import { demoCommand, DEMO_OPTIONS } from '../demo/demo.ts';
import { preflightCommand, PREFLIGHT_OPTIONS } from './preflight-command.ts';
import { certsCommand, kubeconfigCommand, IMPORT_CA_OPTIONS, IMPORT_SA_OPTIONS, CHECK_EXPIRATION_OPTIONS, KUBECONFIG_ADMIN_OPTIONS } from './certs-commands.ts';
import { RENEW_OPTIONS, ROTATE_CA_OPTIONS } from './rotation-commands.ts';
import { renderCommand, RENDER_OPTIONS } from './render-command.ts';
import { adminCommand, ADMIN_ISSUE_OPTIONS, ADMIN_LIST_OPTIONS, ADMIN_REVOKE_OPTIONS } from './admin-credentials-command.ts';

const CA_KINDS = ['kubernetes', 'etcd', 'front-proxy'] as const;

/** How an admin command reaches the coordinator; listed apart in each command's help. */
const ADMIN_HELP: { [K in keyof typeof ADMIN_FLAGS]: FlagHelp } = {
  'data-dir': { value: 'DIR', help: "on the coordinator's host: use DIR/admin.yaml", common: true, file: true },
  config: { value: 'FILE', help: 'admin config (MUSTER_CONFIG, default ~/.config/muster/admin.yaml)', common: true, file: true },
  coordinator: { value: 'HOST:PORT', help: 'coordinator address, instead of the one in the config (MUSTER_COORDINATOR)', common: true },
};
const JSON_HELP: FlagHelp = { help: 'print JSON (snake_case keys); a failure prints {"error": {...}}' };

/** Runs a command that takes its subcommand as the first argument (tokenCommand(['create', ...])). */
const sub = (fn: (argv: string[], io: Parameters<NonNullable<CommandSpec['run']>>[1]) => Promise<number>, word: string): CommandSpec['run'] => (argv, io) => fn([word, ...argv], io);

const serve: CommandSpec = {
  name: 'serve',
  summary: 'run the coordinator',
  group: 'Coordinator',
  description:
    `First start creates the CAs, the serving certificate and admin credentials in DIR (keys 0600),\n` +
    `a 24h token, and prints the join command for agents with the CA pin.`,
  flags: describeFlags(SERVE_OPTIONS, {
    'data-dir': { value: 'DIR', help: `state, CAs and admin.yaml (MUSTER_DATA_DIR, default ${DEFAULT_COORDINATOR_DATA_DIR})`, file: true },
    plan: { value: 'FILE', help: 'plan applied at start when it differs from the stored one (MUSTER_PLAN)', file: true },
    listen: { value: 'HOST:PORT', help: `address to listen on (MUSTER_LISTEN, default 0.0.0.0:${DEFAULT_COORDINATOR_PORT})` },
    advertise: { value: 'HOST:PORT', help: 'address agents use, when it is not the listen address (MUSTER_ADVERTISE)' },
    san: { value: 'NAME', help: "another name or address in the coordinator's certificate" },
    'log-level': { value: 'LEVEL', help: 'error, warn, info or debug (MUSTER_LOG_LEVEL, default info)', choices: ['error', 'warn', 'info', 'debug'] },
    'log-format': { value: 'FORMAT', help: 'text or json', choices: ['text', 'json'] },
    reinitialize: { help: 'start over in a data dir that has CAs but no state.db (every node must join again)' },
    'join-burst': { value: 'N', help: 'joins one source address may make at once (default 200)' },
    'join-rate': { value: 'N', help: 'joins per second per source after the burst (default 50)' },
    'max-unverified-per-source': { value: 'N', help: 'connections one address may hold before it authenticates (default 32)' },
    'max-unverified': { value: 'N', help: 'connections from all addresses in TLS handshake or not yet authenticated; more are closed at accept, before any TLS work (default 128)' },
    'work-concurrency': { value: 'N', help: 'expensive calls (join signing, renewal, issuance) run at once (default 8)' },
    'work-queue': { value: 'N', help: 'expensive calls waiting beyond those; more are told to retry later (default 1024)' },
    'reconnect-rate': { value: 'N', help: 'reconnections per second taken back after a restart: agents spread theirs over fleet size / N seconds (default 200)' },
    'metrics-address': { value: 'HOST:PORT', help: `plain-HTTP /metrics, /healthz, /readyz (MUSTER_METRICS_ADDRESS, default ${DEFAULT_METRICS_ADDRESS}; off for none)` },
  }),
  run: serveCommand,
};

const demo: CommandSpec = {
  name: 'demo',
  summary: 'a coordinator and three agents on 127.0.0.2-4, until all applied',
  group: 'Coordinator',
  description: 'Prints muster status at the end. On a terminal it keeps running until Ctrl-C.',
  flags: describeFlags(DEMO_OPTIONS, {
    dir: { value: 'DIR', help: 'where the demo keeps its data (default ./.demo); an edited DIR/muster-cluster.yaml is kept', file: true },
    'keep-running': { help: 'keep running after all applied, until Ctrl-C (default: on a terminal); --keep-running=false stops at once' },
    'timeout-seconds': { value: 'N', help: 'give up when not all applied within N seconds' },
  }),
  run: demoCommand,
};

const token: CommandSpec = {
  name: 'token',
  summary: 'bootstrap tokens for agents to join with',
  group: 'Admin (talk to a running coordinator)',
  subcommands: [
    {
      name: 'create',
      summary: 'print a new bootstrap token',
      description: 'Only a hash of the secret is stored. --node NAME binds the token to one node name for one join:\nthe way a re-imaged machine, or one whose identity expired offline, takes its name back.',
      flags: describeFlags(TOKEN_CREATE_OPTIONS, {
        ...ADMIN_HELP,
        ttl: { value: 'DURATION', help: 'how long it is valid: 30m, 24h, 7d (at most 365d; 0 = never expires)' },
        uses: { value: 'N', help: 'how many joins it allows (0 = unlimited)' },
        description: { value: 'TEXT', help: 'a note shown by token list' },
        node: { value: 'NAME', help: 'bind it to this node name, for one join' },
        'print-join-command': { help: 'print the whole muster-agent run command' },
        json: JSON_HELP,
      }),
      run: sub(tokenCommand, 'create'),
    },
    { name: 'list', summary: 'every token: expiry, uses, state', flags: describeFlags(TOKEN_LIST_OPTIONS, { ...ADMIN_HELP, json: JSON_HELP }), run: sub(tokenCommand, 'list') },
    { name: 'revoke', summary: 'revoke a token', args: 'ID', flags: describeFlags(TOKEN_REVOKE_OPTIONS, { ...ADMIN_HELP, json: JSON_HELP }), run: sub(tokenCommand, 'revoke') },
  ],
};

const admin: CommandSpec = {
  name: 'admin',
  summary: 'admin credentials, one per operator',
  group: 'Admin (talk to a running coordinator)',
  subcommands: [
    {
      name: 'issue',
      summary: 'write an admin config for one operator',
      description: 'The key is made here; the file is 0600 and never overwritten without --force. It renews itself on use.',
      flags: describeFlags(ADMIN_ISSUE_OPTIONS, {
        ...ADMIN_HELP,
        name: { value: 'LABEL', help: 'whom it is for', required: true },
        output: { value: 'FILE', help: 'where to write the admin config', required: true, file: true },
        ttl: { value: 'DURATION', help: 'lifetime, 1m to 365d (default 1 year)' },
        force: { help: 'overwrite FILE' },
      }),
      run: sub(adminCommand, 'issue'),
    },
    { name: 'list', summary: 'every admin credential: kind, label, serial, expiry, revoked, last used', flags: describeFlags(ADMIN_LIST_OPTIONS, { ...ADMIN_HELP, json: JSON_HELP }), run: sub(adminCommand, 'list') },
    {
      name: 'revoke',
      summary: 'refuse every certificate of a credential, renewals included',
      args: 'ID',
      flags: describeFlags(ADMIN_REVOKE_OPTIONS, { ...ADMIN_HELP, force: { help: 'revoke the credential this command is using (you lock yourself out)' } }),
      run: sub(adminCommand, 'revoke'),
    },
  ],
};

const status: CommandSpec = {
  name: 'status',
  summary: 'one row per node: address, roles, state, preflight, last seen',
  group: 'Admin (talk to a running coordinator)',
  flags: describeFlags(STATUS_OPTIONS, { ...ADMIN_HELP, json: JSON_HELP, watch: { help: 'redraw when something changes, until Ctrl-C' }, timeout: { value: 'D', help: 'with --watch: stop after D (default 24h)' } }),
  run: statusCommand,
};

const preflight: CommandSpec = {
  name: 'preflight',
  summary: "each node's failing preflight checks, with what to do; exit 0 only when all passed",
  group: 'Admin (talk to a running coordinator)',
  flags: describeFlags(PREFLIGHT_OPTIONS, {
    ...ADMIN_HELP,
    json: JSON_HELP,
    reach: { help: 'print the reachability matrix: source -> destination node:port, failures first' },
    node: { value: 'NAME', help: 'only this node, with passed checks and probe results' },
    ignore: { value: 'CHECK,...', help: 'add checks to the cluster\'s ignore list ("all" = every check)' },
    unignore: { value: 'CHECK,...', help: "remove checks from the cluster's ignore list" },
  }),
  run: preflightCommand,
};

const node: CommandSpec = {
  name: 'node',
  summary: 'one node',
  group: 'Admin (talk to a running coordinator)',
  subcommands: [
    { name: 'list', summary: 'every node: roles, state, up to date, revisions, agent, last seen', flags: describeFlags(NODE_LIST_OPTIONS, { ...ADMIN_HELP, json: JSON_HELP }), run: sub(nodeCommand, 'list') },
    {
      name: 'describe',
      summary: 'one node: facts summary, roles, assignment revision, preflight, certificates, events',
      args: 'NAME',
      flags: describeFlags(NODE_DESCRIBE_OPTIONS, { ...ADMIN_HELP, json: JSON_HELP }),
      run: sub(nodeCommand, 'describe'),
    },
    { name: 'remove', summary: 'forget a node; its agent is refused from then on', args: 'NAME', flags: describeFlags(NODE_REMOVE_OPTIONS, { ...ADMIN_HELP, json: JSON_HELP }), run: sub(nodeCommand, 'remove') },
    {
      name: 'assign',
      summary: "set a node's roles by operator decision (stable until cleared)",
      args: 'NAME',
      usage: `NAME --role ${ROLES.join(',')} | --clear [--json] [admin flags]`,
      flags: describeFlags(NODE_ASSIGN_OPTIONS, { ...ADMIN_HELP, role: { value: 'ROLES', help: `comma-separated: ${ROLES.join(', ')}` }, clear: { help: 'back to what the plan says' }, json: JSON_HELP }),
      run: sub(nodeCommand, 'assign'),
    },
  ],
};

const plan: CommandSpec = {
  name: 'plan',
  summary: 'the cluster plan',
  subcommands: [
    {
      name: 'init',
      summary: 'write a commented plan, asking on a terminal or from flags',
      group: 'Plan files (no coordinator needed)',
      flags: describeFlags(INIT_FLAGS, {
        output: { value: 'FILE', help: `where to write (default ./${DEFAULT_PLAN_FILE}; - = stdout)`, file: true },
        force: { help: 'overwrite FILE' },
        yes: { help: 'take the defaults for everything not given, without asking (a valid 1-master plan)' },
        name: { value: 'NAME', help: `cluster name (default ${INIT_DEFAULTS.name})` },
        etcd: { value: 'N', help: `etcd nodes: 1, 3, 5 or 7 (default ${INIT_DEFAULTS.etcd})` },
        master: { value: 'N', help: 'master nodes (default 1 with --yes; 2+ need --load-balancer)' },
        worker: { value: 'N', help: `worker nodes (default ${INIT_DEFAULTS.worker})` },
        network: { value: 'TYPE', help: `overlay or routed (default ${INIT_DEFAULTS.network})`, choices: ['overlay', 'routed'] },
        'pod-cidr': { value: 'CIDR', help: `pod network (default ${INIT_DEFAULTS.podCidr})` },
        'service-cidr': { value: 'CIDR', help: `service network (default ${INIT_DEFAULTS.serviceCidr})` },
        'load-balancer': { value: 'HOST:PORT', help: 'API server load balancer, or a DNS name (needed with 2+ masters)' },
        expiry: { value: 'DURATION', help: `certificate lifetime (default ${INIT_DEFAULTS.expiry})` },
        'update-hosts-files': { help: 'let agents manage /etc/hosts (default off)' },
        'network-policy': { help: 'enable Calico network policy (default off)' },
        'etcd-hosts': { value: 'HOST[=IP],...', help: 'name the etcd nodes (without: a pool filled from joining nodes)' },
        'master-hosts': { value: 'HOST[=IP],...', help: 'name the master nodes' },
        'worker-hosts': { value: 'HOST[=IP],...', help: 'name the worker nodes' },
      }),
      run: planInitCommand,
    },
    {
      name: 'validate',
      summary: 'check a plan (muster or Kismatic format); exit 0 ok, 1 invalid, 2 unreadable',
      group: 'Plan files (no coordinator needed)',
      args: 'FILE',
      argFiles: true,
      flags: describeFlags(PLAN_VALIDATE_OPTIONS, { json: JSON_HELP }),
      run: planValidateCommand,
    },
    {
      name: 'import',
      summary: "convert a Kismatic plan to muster's format, listing what was left out",
      group: 'Plan files (no coordinator needed)',
      args: 'FILE',
      argFiles: true,
      flags: describeFlags(PLAN_IMPORT_OPTIONS, { output: { value: 'FILE', help: 'write here instead of stdout', file: true }, force: { help: 'overwrite FILE' } }),
      run: planImportCommand,
    },
    {
      name: 'apply',
      summary: 'validate and enact a new plan; agents pick it up within seconds',
      group: 'Admin (talk to a running coordinator)',
      args: 'FILE',
      argFiles: true,
      flags: describeFlags(PLAN_APPLY_OPTIONS, {
        ...ADMIN_HELP,
        force: { help: 'apply changes that would break a running cluster (named on stderr)' },
        'dry-run': { help: 'print what each node would get and what would be refused; store nothing' },
        wait: { help: 'follow the rollout until every changed node applied (exit 1 on a failure or timeout)' },
        timeout: { value: 'D', help: 'with --wait: give up after D (default 10m)' },
        json: JSON_HELP,
      }),
      run: planApplyCommand,
    },
    { name: 'history', summary: 'every accepted plan with its diff', group: 'Admin (talk to a running coordinator)', flags: describeFlags(PLAN_HISTORY_OPTIONS, { ...ADMIN_HELP, json: JSON_HELP }), run: planHistoryCommand },
    { name: 'show', summary: 'the current (or a past) plan', group: 'Admin (talk to a running coordinator)', args: '[REVISION]', flags: describeFlags(PLAN_SHOW_OPTIONS, { ...ADMIN_HELP, json: JSON_HELP }), run: planShowCommand },
  ],
};

const render: CommandSpec = {
  name: 'render',
  summary: "a node's files as its agent renders them, from its committed assignment (keys and certificates excepted)",
  group: 'Admin (talk to a running coordinator)',
  usage: '--node NAME [--out DIR] [--show PATH] [--json] [admin flags]',
  flags: describeFlags(RENDER_OPTIONS, {
    ...ADMIN_HELP,
    node: { value: 'NAME', help: 'the node' },
    out: { value: 'DIR', help: 'write the files under DIR (DIR/etc/kubernetes/...)', file: true },
    show: { value: 'PATH', help: 'print one file, e.g. /var/lib/kubelet/config.yaml' },
    json: JSON_HELP,
  }),
  run: renderCommand,
};

const certs: CommandSpec = {
  name: 'certs',
  summary: 'cluster certificates and CAs',
  group: 'Admin (talk to a running coordinator)',
  subcommands: [
    {
      name: 'check-expiration',
      summary: 'every cluster CA and node certificate, soonest expiry first',
      flags: describeFlags(CHECK_EXPIRATION_OPTIONS, { ...ADMIN_HELP, json: JSON_HELP, 'warn-days': { value: 'N', help: 'warn about those with less than N days left' } }),
      run: sub(certsCommand, 'check-expiration'),
    },
    {
      name: 'renew',
      summary: 'nodes renew every cluster certificate, through the pull path',
      usage: '--node NAME [--node NAME]... | --all [admin flags]',
      flags: describeFlags(RENEW_OPTIONS, { ...ADMIN_HELP, node: { value: 'NAME', help: 'a node to renew (repeatable)' }, all: { help: 'every node' } }),
      run: sub(certsCommand, 'renew'),
    },
    {
      name: 'rotate-ca',
      summary: 'rotate a cluster CA in three stages while the cluster runs, or show rotations',
      usage: '--kind kubernetes|etcd|front-proxy [--wait [--timeout DURATION]] | --status [--json] [admin flags]',
      flags: describeFlags(ROTATE_CA_OPTIONS, {
        ...ADMIN_HELP,
        kind: { value: 'KIND', help: 'which CA: kubernetes, etcd or front-proxy', choices: CA_KINDS },
        status: { help: "each rotation's stage and which nodes are done" },
        json: JSON_HELP,
        wait: { help: 'follow the rotation to the end' },
        timeout: { value: 'DURATION', help: 'with --wait: give up waiting after this long' },
      }),
      run: sub(certsCommand, 'rotate-ca'),
    },
    {
      name: 'import-ca',
      summary: "bring a cluster CA from another tool (on the coordinator's host, coordinator stopped)",
      group: "Cluster CAs (on the coordinator's host, no coordinator running on DIR)",
      flags: describeFlags(IMPORT_CA_OPTIONS, {
        'data-dir': { value: 'DIR', help: `the coordinator's data dir (MUSTER_DATA_DIR, default ${DEFAULT_COORDINATOR_DATA_DIR})`, file: true },
        kind: { value: 'KIND', help: 'kubernetes, etcd or front-proxy', required: true, choices: CA_KINDS },
        cert: { value: 'F', help: 'the CA certificate (PEM)', required: true, file: true },
        key: { value: 'F', help: 'its private key (PEM)', required: true, file: true },
        force: { help: 'replace a CA of that kind the data dir has' },
      }),
      run: sub(certsCommand, 'import-ca'),
    },
    {
      name: 'import-sa',
      summary: "bring the service-account key pair (kubeadm's sa.key / sa.pub)",
      group: "Cluster CAs (on the coordinator's host, no coordinator running on DIR)",
      flags: describeFlags(IMPORT_SA_OPTIONS, {
        'data-dir': { value: 'DIR', help: `the coordinator's data dir (default ${DEFAULT_COORDINATOR_DATA_DIR})`, file: true },
        key: { value: 'F', help: 'the private key (PEM)', required: true, file: true },
        pub: { value: 'F', help: 'the public key (default: derived from the key)', file: true },
        force: { help: 'replace the key pair the data dir has' },
      }),
      run: sub(certsCommand, 'import-sa'),
    },
  ],
};

const kubeconfig: CommandSpec = {
  name: 'kubeconfig',
  summary: 'kubeconfigs',
  group: 'Admin (talk to a running coordinator)',
  subcommands: [
    {
      name: 'admin',
      summary: 'a cluster-admin kubeconfig (key made here, file 0600)',
      flags: describeFlags(KUBECONFIG_ADMIN_OPTIONS, { ...ADMIN_HELP, output: { value: 'FILE', help: 'where to write it', required: true, file: true }, ttl: { value: 'DURATION', help: "lifetime, up to the plan's certificates.expiry" } }),
      run: sub(kubeconfigCommand, 'admin'),
    },
  ],
};

const VERSION_OPTIONS = { verbose: { type: 'boolean', short: 'v', default: false } } as const;
const version: CommandSpec = {
  name: 'version',
  summary: 'the version',
  group: 'Other',
  aliases: ['--version'],
  flags: describeFlags(VERSION_OPTIONS, { verbose: { help: 'add the Node version, build form and Node flags' } }),
  run: async (argv, io) => {
    io.out(argv.includes('--verbose') || argv.includes('-v') ? versionDetail() : VERSION);
    return 0;
  },
};

const completion: CommandSpec = completionCommand(() => MUSTER, { summary: 'print a shell completion script: source <(muster completion bash)', group: 'Other' });

export const MUSTER: ProgramSpec = {
  name: 'muster',
  title: `muster ${VERSION}: pull-based Kubernetes node provisioning (coordinator and admin CLI)`,
  commands: [
    { name: 'coordinator', summary: 'the coordinator', group: 'Coordinator', subcommands: [serve] },
    demo,
    plan,
    token,
    admin,
    status,
    preflight,
    node,
    render,
    certs,
    kubeconfig,
    version,
    completion,
  ],
  footer:
    'Environment: MUSTER_DATA_DIR, MUSTER_PLAN, MUSTER_LISTEN, MUSTER_ADVERTISE, MUSTER_LOG_LEVEL (serve);\n' +
    'MUSTER_CONFIG, MUSTER_COORDINATOR (admin commands); NO_COLOR turns colour off.\n' +
    'Exit codes: 0 ok, 1 refused or failed, 2 usage, 3 coordinator unreachable or overloaded, 130 interrupted.',
};
