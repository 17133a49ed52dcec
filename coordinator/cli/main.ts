// `muster`: the coordinator and its admin CLI.
import '../../shared/cli/warnings.ts';
import { processIO, type CliIO } from '../../shared/cli/io.ts';
import { MusterError } from '../../shared/errors/index.ts';
import { serveCommand } from './serve.ts';
import { tokenCommand, statusCommand, nodeCommand, planApplyCommand, planHistoryCommand, planShowCommand } from './admin-commands.ts';
import { planValidateCommand, planInitCommand, planImportCommand } from './plan-file.ts';
import { demoCommand } from '../demo/demo.ts';
import { preflightCommand } from './preflight-command.ts';
import { certsCommand, kubeconfigCommand } from './certs-commands.ts';
import { adminCommand } from './admin-credentials-command.ts';
import { VERSION, versionDetail } from '../../shared/version.ts';

export const HELP = `muster ${VERSION}: pull-based Kubernetes node provisioning (coordinator and admin CLI)

Usage: muster COMMAND [flags]

Coordinator
  coordinator serve --data-dir DIR [--plan FILE] [--listen HOST:PORT] [--advertise HOST:PORT] [--san NAME]...
                    [--log-level error|warn|info|debug] [--log-format text|json] [--reinitialize]
                    [--join-burst N] [--join-rate N] [--max-unverified-per-source N]
      Run the coordinator. First start creates the identity CA, server and admin certificates in DIR
      (keys 0600) and prints the join command for agents with the CA pin. --join-burst / --join-rate:
      joins one source address may make at once / per second after that (default 200 / 50; a fleet
      behind one NAT is one source). --max-unverified-per-source: connections one address may hold
      before it has authenticated (default 128; raise it for large fleets behind one NAT).
  demo [--dir DIR] [--keep-running[=false]] [--timeout-seconds N]
      Start a coordinator and three muster-agent processes on 127.0.0.2-4, wait until all applied,
      print status. On a terminal it keeps running until Ctrl-C (--keep-running=false: stop at once).

Plan files (no coordinator needed)
  plan init [-o FILE] [--yes] [--etcd N --master N --worker N ...]   write a commented plan
  plan validate FILE [--json]                 check a plan (muster or Kismatic format); exit 0 ok, 1 invalid, 2 unreadable
  plan import FILE [-o OUT]                   convert a Kismatic plan to muster's format

Admin (talk to a running coordinator; credentials from --data-dir DIR on its host, or --config FILE,
default ~/.config/muster/admin.yaml; --coordinator HOST:PORT overrides the address)
  token create [--ttl 24h] [--uses N] [--description TEXT] [--node NAME] [--print-join-command]
      --node binds the token to one node name for one join: the way to let a re-imaged machine, or
      one whose identity expired while it was offline, take its name back
  token list [--json]
  token revoke ID
  admin issue --name LABEL -o FILE [--ttl DURATION] [--force]
      an admin config for one operator (key made here, file 0600, never overwritten without
      --force; --ttl 1m to 365d, default 1 year; it renews itself on use like any admin config)
  admin list [--json]                          every admin credential: id, kind, label, serial, expiry,
      revoked or not, last used (since the coordinator started)
  admin revoke ID [--force]                    refuse every certificate of credential ID, renewals
      included. The credential this command uses needs --force (you would lock yourself out); the
      data dir's own (data-dir) cannot be revoked; "legacy" covers every credential signed before
      records began (an older muster) and their renewals
  status [--json] [--watch [--timeout D]]     one row per node: name, address, roles, state, preflight, last seen,
      up to date (applied == assigned); a node silent for 3 report intervals (3 min) is offline.
      --watch redraws when something changes, until Ctrl-C
  preflight [--json] [--node NAME] [--reach] [--ignore CHECK,...] [--unignore CHECK,...]
      each node's failing preflight checks with remedies and a summary (N nodes ready, N blocked);
      exit 0 only when every node passed. --ignore adds checks to the cluster's ignore list
      ("all" ignores every check), so their errors stop holding back assignments. --reach prints
      the reachability matrix: source -> destination node:port, failures first.
  node list [--json]                          every node: roles, state, up to date, revisions, agent, last seen
  node describe NAME [--json]                 one node: facts summary, roles (pinned, installed), assignment
      revision, preflight findings, certificates, events
  node remove NAME                            forget a node; its agent is refused from then on
  node assign NAME --role etcd,master,worker | --clear
      exit 1 (and why) when it changes nothing
  plan apply FILE [--force] [--dry-run] [--wait [--timeout 10m]] [--json]
      validate and enact a new plan; agents pick it up within seconds. Refused without --force:
      etcd members changed beyond quorum, the last master removed, installed roles taken away,
      a cluster rename, a network type or pod/service range change, a downgrade or a skip of a
      Kubernetes minor. --dry-run prints each node's change and the refusals, stores nothing
      (exit 1 if it would be refused); --wait follows until every changed node applied
      (exit 1 on a failure, an offline node or the timeout)
  plan history [--json]                       every accepted plan with its diff
  plan show [REVISION]                        the current (or a past) plan
  certs check-expiration [--json] [--warn-days N]
      every cluster CA and every cluster certificate issued to a node, soonest expiry first, with
      the time left; a warning on those with less than N days (default 30)
  certs renew --node NAME [--node NAME...] | --all
      nodes renew every cluster certificate they hold, through the normal pull path (offline
      nodes when they come back); the keys stay, the certificates are new
  certs rotate-ca --kind kubernetes|etcd|front-proxy [--wait [--timeout 30m]]
      rotate a cluster CA in three stages while the cluster runs: every node trusts old and new
      (1/3), every certificate is reissued by the new CA (2/3), the old CA is dropped (3/3); etcd
      and control-plane nodes go one at a time. --wait follows it to the end
  certs rotate-ca --status [--json]          each rotation's stage and which nodes are done
  kubeconfig admin -o FILE [--ttl DURATION]   a cluster-admin kubeconfig (CN kubernetes-admin,
      O kubeadm:cluster-admins; key made here, file 0600; --ttl up to the plan's certificates.expiry)

Cluster CAs (on the coordinator's host, with no coordinator running on DIR; keys never cross the wire)
  certs import-ca --kind kubernetes|etcd|front-proxy --cert F --key F [--data-dir DIR] [--force]
      bring a CA from another tool (kubeadm: RSA 2048 is fine); checked to be a CA whose key
      matches. Refused when DIR has a CA of that kind already: --force replaces it, and
      certificates the old one signed stop being trusted once nodes get the new CA
  certs import-sa --key F [--pub F] [--data-dir DIR] [--force]
      bring the service-account key pair (kubeadm's sa.key / sa.pub)

Other
  version [--verbose]                         the version; --verbose adds the Node version, build form and Node flags

Environment: MUSTER_DATA_DIR, MUSTER_PLAN, MUSTER_LISTEN, MUSTER_ADVERTISE, MUSTER_LOG_LEVEL (serve);
MUSTER_CONFIG, MUSTER_COORDINATOR (admin commands).
`;

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(HELP);
        return cmd === undefined ? 2 : 0;
      case '--version':
      case 'version':
        io.out(sub === '--verbose' || sub === '-v' ? versionDetail() : VERSION);
        return 0;
      case 'coordinator':
        if (sub === 'serve') return await serveCommand(rest, io);
        break;
      case 'demo':
        return await demoCommand([sub, ...rest].filter((x): x is string => x !== undefined), io);
      case 'token':
        return await tokenCommand([sub, ...rest].filter((x): x is string => x !== undefined), io);
      case 'status':
        return await statusCommand([sub, ...rest].filter((x): x is string => x !== undefined), io);
      case 'preflight':
        return await preflightCommand([sub, ...rest].filter((x): x is string => x !== undefined), io);
      case 'node':
        return await nodeCommand([sub, ...rest].filter((x): x is string => x !== undefined), io);
      case 'admin':
        return await adminCommand([sub, ...rest].filter((x): x is string => x !== undefined), io);
      case 'certs':
        return await certsCommand([sub, ...rest].filter((x): x is string => x !== undefined), io);
      case 'kubeconfig':
        return await kubeconfigCommand([sub, ...rest].filter((x): x is string => x !== undefined), io);
      case 'plan':
        switch (sub) {
          case 'apply':
            return await planApplyCommand(rest, io);
          case 'history':
            return await planHistoryCommand(rest, io);
          case 'show':
            return await planShowCommand(rest, io);
          case 'validate':
            return await planValidateCommand(rest, io);
          case 'init':
            return await planInitCommand(rest, io);
          case 'import':
            return await planImportCommand(rest, io);
        }
        break;
    }
    io.err(`muster: unknown command "${argv.join(' ')}"; see muster --help`);
    return 2;
  } catch (err) {
    if (err instanceof MusterError) {
      io.err(`muster: ${err.message}`);
      return err.kind === 'unavailable' || err.kind === 'resource-exhausted' ? 3 : 1;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`muster: ${(err as Error).message}; see muster --help`);
      return 2;
    }
    io.err(`muster: unexpected error: ${(err as Error)?.stack ?? err}`);
    return 1;
  }
}

// Run when this is the entry point (the bundle, or `node coordinator/cli/main.ts`).
const entry = process.argv[1] ?? '';
if (/muster(\.cjs)?$|coordinator[/\\]cli[/\\]main\.ts$/.test(entry)) {
  main(process.argv.slice(2), processIO()).then(
    (code) => (process.exitCode = code),
    (err) => {
      process.stderr.write(`muster: ${err?.stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
