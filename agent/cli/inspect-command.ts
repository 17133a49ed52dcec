// `muster-agent inspect --roles etcd,master [--plan FILE] [--json]`: the coordinator's preflight
// checks, run on this node against its own facts, without a coordinator. Answers "would this
// machine be accepted for these roles, and if not, what do I fix?" before anything is joined.
// Peer latency and reachability, hostname uniqueness and clock offset need the coordinator and
// are not run here (LOCAL_CHECKS).
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { CliIO } from '../../shared/cli/io.ts';
import { ROLES, type Role } from '../../shared/constants.ts';
import { parsePlanFile, defaultPlan, formatProblem, type PreflightProfile } from '../../shared/plan/index.ts';
import { runPreflight, formatReportTable, DEFAULT_CHECKS, LOCAL_CHECKS, type PreflightPlan } from '../../shared/preflight/index.ts';
import type { Facts } from '../../proto/gen/types/muster/v1/Facts.ts';
import { collectFacts } from '../facts/index.ts';
import { snakeCaseKeys } from '../../shared/json.ts';

export const INSPECT_USAGE = `Usage: muster-agent inspect --roles ROLE[,ROLE] [--plan FILE] [--json]

Runs the preflight checks the coordinator would run for these roles, against this node's facts,
and prints what passes and what to fix. No coordinator is contacted. Exit status: 0 when the node
passes, 1 when a check fails, 2 for a usage or plan file error.

  --roles etcd,master,worker   roles to check the node for (required)
  --plan FILE                  take profile, ignore list, CIDRs, runtime and version from a plan
                               file (default: the plan defaults, profile production)
  --profile production|prototyping   override the plan's hardware profile
  --ignore NAME[,NAME]         also ignore these checks ("all" ignores every error)
  --node-name NAME             name to print (default: the host name)
  --json                       print the report as JSON
  -h, --help                   show this help
`;

export const INSPECT_OPTIONS = {
  roles: { type: 'string' },
  plan: { type: 'string' },
  profile: { type: 'string' },
  ignore: { type: 'string' },
  'node-name': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export interface InspectDeps {
  /** Collects this node's facts. @default collectFacts from agent/facts */
  collect?: () => Promise<Facts>;
}

function usageError(io: CliIO, message: string): number {
  io.err(`muster-agent inspect: ${message} (see muster-agent inspect --help)`);
  return 2;
}

export async function inspectCommand(argv: string[], io: CliIO, deps: InspectDeps = {}): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowNegative: true,
      options: { ...INSPECT_OPTIONS, help: { type: 'boolean', short: 'h', default: false } },
    }));
  } catch (err) {
    return usageError(io, (err as Error).message);
  }
  if (values.help) {
    io.out(INSPECT_USAGE);
    return 0;
  }

  if (!values.roles) return usageError(io, '--roles is required, e.g. --roles etcd,master');
  const roles: Role[] = [];
  for (const r of values.roles.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(ROLES as readonly string[]).includes(r)) return usageError(io, `--roles: unknown role "${r}"; roles are ${ROLES.join(', ')}`);
    if (!roles.includes(r as Role)) roles.push(r as Role);
  }
  if (roles.length === 0) return usageError(io, '--roles is empty; give etcd, master and/or worker');
  if (values.profile !== undefined && values.profile !== 'production' && values.profile !== 'prototyping') {
    return usageError(io, `--profile: "${values.profile}" is not production or prototyping`);
  }

  const parsed = await loadPlan(io, values.plan);
  if (!parsed) return 2;
  // A copy, not an edit: a parsed plan is shared (shared/plan/index.ts keeps the last parse).
  const plan = values.profile ? { ...parsed, cluster: { ...parsed.cluster, preflight: { ...parsed.cluster.preflight, profile: values.profile as PreflightProfile } } } : parsed;

  let facts: Facts;
  try {
    facts = await (deps.collect ?? collectFacts)();
  } catch (err) {
    io.err(`muster-agent inspect: collecting this node's facts failed: ${(err as Error).message}`);
    return 1;
  }

  const node = values['node-name'] || facts.network?.hostname || hostname();
  const ignore = (values.ignore ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const report = runPreflight({ node, roles, facts, plan }, LOCAL_CHECKS, ignore);
  const skipped = DEFAULT_CHECKS.filter((c) => c.scope === 'cluster').map((c) => c.name);

  if (values.json) {
    io.out(JSON.stringify(snakeCaseKeys(report), null, 2));
  } else {
    const source = values.plan ? `plan ${values.plan}` : 'plan defaults';
    io.out(`Preflight for ${node} as ${roles.join(', ')} (profile ${plan.cluster.preflight.profile}, ${source})\n`);
    io.out(formatReportTable(report));
    io.out(`Not run here (they need the coordinator): ${skipped.join(', ')}`);
  }
  return report.ok ? 0 : 1;
}

/**
 * The plan file's preflight-relevant parts, or the plan defaults (never duplicated here); null,
 * after printing every problem, when the file cannot be read or is not a valid plan.
 */
async function loadPlan(io: CliIO, file: string | undefined): Promise<PreflightPlan | null> {
  if (!file) {
    const d = defaultPlan();
    return { cluster: d.cluster, container_runtime: d.container_runtime };
  }
  const { plan, problems } = await parsePlanFile(resolve(io.cwd, file), file);
  // Only errors: plan warnings (e.g. "1 etcd node is unsafe") are "muster plan validate"'s topic.
  for (const p of problems) if (p.severity === 'error') io.err(formatProblem(p));
  if (!plan) {
    io.err(`muster-agent inspect: fix the plan file ${file} and run again`);
    return null;
  }
  return { cluster: plan.cluster, container_runtime: plan.container_runtime };
}
