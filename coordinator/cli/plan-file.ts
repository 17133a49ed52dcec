// `muster plan validate | import | init`: plan files on the admin's machine, no coordinator
// needed. Parsing, checks and rendering live in shared/plan; this file is flags, questions,
// output and the one write (shared/fs/atomic-write.ts).
import { parseArgs } from 'node:util';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIO } from '../../shared/cli/io.ts';
import { writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import {
  parsePlan, parsePlanFile, planExitCode, formatProblem, renderPlan, planFromAnswers, parseHostList, INIT_DEFAULTS,
  SUPPORTED_VERSION_RULE, SUPPORTED_RANGE, DEFAULT_KUBERNETES_VERSION,
  type PlanProblem, type PlanInitAnswers, type NetworkType, type DroppedSetting,
} from '../../shared/plan/index.ts';
import { parseCidr } from '../../shared/plan/cidr.ts';
import { parseGoDuration } from '../../shared/plan/duration.ts';
import { GROUP_NAMES } from '../../shared/plan/groups.ts';

/** The file `plan init` writes unless -o says otherwise. */
export const DEFAULT_PLAN_FILE = 'muster-cluster.yaml';

/** Runs parseArgs; a bad flag becomes a usage message (the caller exits 2). */
function flags<R>(io: CliIO, usage: string, parse: () => R): R | null {
  try {
    return parse();
  } catch (err) {
    io.err(`muster: ${(err as Error).message}\nusage: ${usage}`);
    return null;
  }
}

function summary(problems: readonly PlanProblem[]): string {
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  return errors ? `${plural(errors, 'error')}, ${plural(warnings, 'warning')}` : warnings ? plural(warnings, 'warning') : 'no problems';
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

// ---------------------------------------------------------------------------------- validate

const VALIDATE_USAGE = 'muster plan validate FILE [--json]';
export const PLAN_VALIDATE_OPTIONS = { json: { type: 'boolean', default: false } } as const;

/** Exit 0 valid (warnings allowed), 1 invalid, 2 unreadable or unparsable (or bad usage). */
export async function planValidateCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = flags(io, VALIDATE_USAGE, () => parseArgs({ args: argv, options: PLAN_VALIDATE_OPTIONS, allowPositionals: true, allowNegative: true, strict: true }));
  if (!parsed) return 2;
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length) {
    io.err(`muster: plan validate takes one file\nusage: ${VALIDATE_USAGE}`);
    return 2;
  }
  const result = await parsePlanFile(resolve(io.cwd, file), file);
  const code = planExitCode(result.problems);
  if (parsed.values.json) {
    io.out(JSON.stringify({ file, format: result.format ?? null, valid: code === 0, exit_code: code, problems: result.problems }, null, 2));
    return code;
  }
  for (const p of result.problems) io.out(formatProblem(p));
  const what = result.format === 'kismatic' ? 'Kismatic plan' : 'plan';
  io.out(code === 0 ? `${file}: valid ${what} (${summary(result.problems)})` : `${file}: invalid ${what}: ${summary(result.problems)}`);
  return code;
}

// ---------------------------------------------------------------------------------- import

const IMPORT_USAGE = 'muster plan import KISMATIC_FILE [-o OUT] [--force]';
export const PLAN_IMPORT_OPTIONS = { output: { type: 'string', short: 'o' }, force: { type: 'boolean', default: false } } as const;

/** Converts a Kismatic plan; the YAML goes to stdout or OUT, everything else to stderr. */
export async function planImportCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = flags(io, IMPORT_USAGE, () => parseArgs({ args: argv, allowPositionals: true, allowNegative: true, strict: true, options: PLAN_IMPORT_OPTIONS }));
  if (!parsed) return 2;
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length) {
    io.err(`muster: plan import takes one file\nusage: ${IMPORT_USAGE}`);
    return 2;
  }
  const out = parsed.values.output;
  if (out && !parsed.values.force && (await exists(resolve(io.cwd, out)))) {
    io.err(`muster: ${out} already exists; pass --force to overwrite it`);
    return 1;
  }
  // Kismatic's releases all predate the versions muster supports: convert anyway, and put the
  // default version in (said below and in the file's header), rather than refuse every import.
  const result = await parsePlanFile(resolve(io.cwd, file), file, { tolerate: new Set([SUPPORTED_VERSION_RULE]) });
  const problems = result.problems.filter((p) => p.rule !== 'kismatic-format' && p.rule !== SUPPORTED_VERSION_RULE);
  const code = planExitCode(problems);
  for (const p of problems) io.err(formatProblem(p));
  if (code === 2) return 2;
  if (result.format !== 'kismatic') {
    io.err(`muster: ${file} is not a Kismatic plan (it has none of docker, add_ons, cluster.ssh, internalip...); check it with "muster plan validate ${file}"`);
    return 1;
  }
  if (!result.plan) {
    io.err(`muster: ${file} not converted: fix the errors above in the Kismatic plan first`);
    return 1;
  }
  const dropped = result.dropped ?? [];
  const changed: string[] = [];
  const wasVersion = result.plan.cluster.version;
  if (result.problems.some((p) => p.rule === SUPPORTED_VERSION_RULE)) {
    result.plan.cluster.version = DEFAULT_KUBERNETES_VERSION;
    changed.push(`cluster.version: ${wasVersion} -> ${DEFAULT_KUBERNETES_VERSION} (muster supports ${SUPPORTED_RANGE}; set the release you run)`);
  }
  const text = renderPlan(result.plan, { header: [...importHeader(file, dropped), ...(changed.length ? ['Changed:', ...changed.map((c) => `  ${c}`)] : [])] });
  const check = parsePlan(text, out ?? '(converted plan)');
  if (check.plan === null) {
    // The Kismatic plan passed the same checks, so this is a rendering bug; never hand it out.
    for (const p of check.problems) io.err(formatProblem(p));
    io.err('muster: the converted plan does not validate; this is a muster bug, please report it');
    return 1;
  }
  if (dropped.length) {
    io.err(`left out of the conversion (${dropped.length}):`);
    for (const d of dropped) io.err(`  ${d.path}${d.line ? ` (line ${d.line})` : ''}: ${d.reason}`);
  }
  if (changed.length) {
    io.err(`changed in the conversion (${changed.length}):`);
    for (const c of changed) io.err(`  ${c}`);
  }
  if (out) {
    await writeFileAtomic(resolve(io.cwd, out), text);
    io.err(`wrote ${out}; check it with "muster plan validate ${out}"`);
  } else {
    io.out(text);
  }
  return 0;
}

function importHeader(file: string, dropped: readonly DroppedSetting[]): string[] {
  const lines = [`Converted from the Kismatic plan ${file} by "muster plan import".`];
  if (dropped.length) {
    lines.push('Left out, because it has no meaning in muster or is not supported yet:');
    for (const d of dropped) lines.push(`  ${d.path}${d.line ? ` (line ${d.line})` : ''}: ${d.reason}`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------- init

export const INIT_FLAGS = {
  output: { type: 'string', short: 'o' },
  force: { type: 'boolean', default: false },
  yes: { type: 'boolean', short: 'y', default: false },
  name: { type: 'string' },
  etcd: { type: 'string' },
  master: { type: 'string' },
  worker: { type: 'string' },
  network: { type: 'string' },
  'pod-cidr': { type: 'string' },
  'service-cidr': { type: 'string' },
  'load-balancer': { type: 'string' },
  expiry: { type: 'string' },
  'update-hosts-files': { type: 'boolean' },
  'network-policy': { type: 'boolean' },
  'etcd-hosts': { type: 'string' },
  'master-hosts': { type: 'string' },
  'worker-hosts': { type: 'string' },
} as const;

const INIT_USAGE = 'muster plan init [-o FILE] [--force] [--yes] [--name NAME] [--etcd N] [--master N] [--worker N] ...';

export const INIT_FLAG_HELP = `  --name NAME                 cluster name (default ${INIT_DEFAULTS.name})
  --etcd N --master N --worker N   node counts (default ${INIT_DEFAULTS.etcd}, ${INIT_DEFAULTS.master}, ${INIT_DEFAULTS.worker})
  --network overlay|routed    pod networking (default ${INIT_DEFAULTS.network})
  --pod-cidr CIDR             default ${INIT_DEFAULTS.podCidr}
  --service-cidr CIDR         default ${INIT_DEFAULTS.serviceCidr}
  --load-balancer HOST:PORT   API server load balancer, or a DNS name (needed with 2+ masters)
  --expiry DURATION           certificate lifetime (default ${INIT_DEFAULTS.expiry})
  --update-hosts-files        let agents manage /etc/hosts (default off)
  --network-policy            enable Calico network policy (default off)
  --etcd-hosts, --master-hosts, --worker-hosts HOST[=IP],...
                              name nodes; without them each group is a pool filled from registering nodes
  -o FILE                     where to write (default ./${DEFAULT_PLAN_FILE}); --force overwrites`;

type InitValues = { [K in keyof typeof INIT_FLAGS]?: (typeof INIT_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

type Parsed<T> = { value: T } | { error: string };

/** One answer: the flag that gives it, the question that asks for it, how to read either. */
interface Question<T> {
  flag: keyof typeof INIT_FLAGS;
  prompt: string;
  parse(text: string): Parsed<T>;
  show(value: T): string;
}

const count = (what: string, allowed?: readonly number[]) => (text: string): Parsed<number> => {
  const n = Number(text.trim());
  if (!/^\d+$/.test(text.trim())) return { error: `${what} must be a whole number` };
  if (allowed && !allowed.includes(n)) return { error: `${what} must be one of ${allowed.join(', ')}` };
  return { value: n };
};
const yesNo = (text: string): Parsed<boolean> =>
  /^(y|yes|true)$/i.test(text.trim()) ? { value: true } : /^(n|no|false)$/i.test(text.trim()) ? { value: false } : { error: 'answer y or n' };
const cidr = (text: string): Parsed<string> => (parseCidr(text) ? { value: text.trim() } : { error: `"${text}" is not a CIDR block like 172.16.0.0/16` });
const nonEmpty = (error: string) => (text: string): Parsed<string> => (text.trim() ? { value: text.trim() } : { error });

const QUESTIONS: { [K in keyof Omit<PlanInitAnswers, 'hosts'>]: Question<PlanInitAnswers[K]> } = {
  name: { flag: 'name', prompt: 'Cluster name', parse: nonEmpty('the name must not be empty'), show: String },
  etcd: { flag: 'etcd', prompt: 'Number of etcd nodes (1, 3, 5 or 7)', parse: count('the etcd count', [1, 3, 5, 7]), show: String },
  master: { flag: 'master', prompt: 'Number of master nodes', parse: count('the master count'), show: String },
  worker: { flag: 'worker', prompt: 'Number of worker nodes', parse: count('the worker count'), show: String },
  network: {
    flag: 'network', prompt: 'Pod networking, overlay or routed', show: String,
    parse: (t) => (t.trim() === 'overlay' || t.trim() === 'routed' ? { value: t.trim() as NetworkType } : { error: 'answer overlay or routed' }),
  },
  updateHostsFiles: { flag: 'update-hosts-files', prompt: 'Let muster manage /etc/hosts on the nodes (instead of DNS)?', parse: yesNo, show: (v) => (v ? 'y' : 'n') },
  networkPolicy: { flag: 'network-policy', prompt: 'Enable network policy (Calico)?', parse: yesNo, show: (v) => (v ? 'y' : 'n') },
  podCidr: { flag: 'pod-cidr', prompt: 'Pod network CIDR block', parse: cidr, show: String },
  serviceCidr: { flag: 'service-cidr', prompt: 'Service network CIDR block', parse: cidr, show: String },
  loadBalancer: {
    flag: 'load-balancer', prompt: "Load-balanced address of the masters' API server (host:port, or a DNS name)", show: String,
    parse: nonEmpty('with 2 or more masters a load-balanced address is needed: a virtual IP or DNS name in front of them'),
  },
  expiry: {
    flag: 'expiry', prompt: 'Certificate lifetime (17520h = 2 years)', show: String,
    parse: (t) => ((parseGoDuration(t) ?? 0) > 0 ? { value: t.trim() } : { error: `"${t}" is not a duration like 17520h` }),
  },
};
type QuestionKey = keyof typeof QUESTIONS;

const MAX_ATTEMPTS = 3;

/** Writes a commented plan, asking on a terminal, from flags (and --yes) otherwise. */
export async function planInitCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = flags(io, INIT_USAGE, () => parseArgs({ args: argv, options: INIT_FLAGS, allowNegative: true, strict: true }));
  if (!parsed) return 2;
  const values = parsed.values as InitValues;
  const interactive = io.ask !== null && !values.yes;
  if (io.ask === null && !values.yes) {
    io.err(`muster plan init: there is no terminal to ask questions on. Pass --yes to take the defaults, with any of:\n${INIT_FLAG_HELP}\n` +
      `e.g.: muster plan init --yes --load-balancer k8s.example.com:6443`);
    return 2;
  }
  const output = values.output ?? DEFAULT_PLAN_FILE;
  // -o - : the plan to stdout, everything else to stderr (plan init -o - | ssh host 'cat > plan.yaml').
  const toStdout = output === '-';
  const target = resolve(io.cwd, output);
  if (!toStdout && !values.force && (await exists(target))) {
    io.err(`muster: ${output} already exists; pass --force to overwrite it, or -o to write elsewhere`);
    return 1;
  }

  // Flags first: a bad flag is a usage error whether or not there is a terminal.
  const answers: PlanInitAnswers = { ...INIT_DEFAULTS, hosts: { etcd: [], master: [], worker: [] } };
  const given = new Set<string>();
  for (const g of GROUP_NAMES) {
    const list = values[`${g}-hosts`];
    if (list !== undefined) answers.hosts[g] = parseHostList(list);
  }
  const record = answers as unknown as Record<string, unknown>;
  for (const key of Object.keys(QUESTIONS) as QuestionKey[]) {
    const q = QUESTIONS[key] as Question<unknown>;
    const raw = values[q.flag];
    if (raw === undefined) continue;
    const parsedValue: Parsed<unknown> = typeof raw === 'boolean' ? { value: raw } : q.parse(raw);
    if ('error' in parsedValue) {
      io.err(`muster: --${q.flag}: ${parsedValue.error}\nusage: ${INIT_USAGE}`);
      return 2;
    }
    record[key] = parsedValue.value;
    given.add(key);
  }
  // A group given by hosts alone has as many nodes as hosts.
  for (const g of GROUP_NAMES) {
    if (given.has(g) || !answers.hosts[g].length) continue;
    answers[g] = answers.hosts[g].length;
    given.add(g);
  }

  if (interactive) {
    const ok = await ask(io, answers, given);
    if (!ok) return 2;
  } else if (answers.master > 1 && !answers.loadBalancer && !given.has('master')) {
    // --yes promises a plan that validates: without a load balancer that is one master.
    answers.master = 1;
    io.err('muster: no --load-balancer given, so the plan has 1 master (a development cluster); for 2 or more pass --master N --load-balancer HOST:PORT');
  } else if (answers.master > 1 && !answers.loadBalancer) {
    io.err(`muster: ${answers.master} masters need a load-balanced address for the API server: pass --load-balancer HOST:PORT (or a DNS name), or --master 1 for a development cluster`);
    return 2;
  }

  const plan = planFromAnswers(answers);
  const text = renderPlan(plan, { header: [`Generated by "muster plan init". Nodes are named in a group's nodes list, or taken from its pool.`] });
  const check = parsePlan(text, output);
  if (check.plan === null) {
    for (const p of check.problems) io.err(formatProblem(p));
    io.err(`muster: ${output} not written: the answers above make an invalid plan`);
    return 1;
  }
  if (toStdout) {
    io.out(text);
    for (const p of check.problems) io.err(formatProblem(p));
    io.err(`plan written to stdout (${summary(check.problems)})`);
    return 0;
  }
  await writeFileAtomic(target, text);
  for (const p of check.problems) io.err(formatProblem(p));
  io.out(`wrote ${output} (${summary(check.problems)})`);
  io.out(`next: review it, then "muster plan validate ${output}" and "muster coordinator serve --plan ${output} --data-dir DIR"`);
  return 0;
}

/** Asks every question not answered by a flag; false when an answer was refused too often. */
async function ask(io: CliIO, answers: PlanInitAnswers, given: Set<string>): Promise<boolean> {
  const prompt = io.ask;
  if (!prompt) return false;
  const order: QuestionKey[] = ['name', 'etcd', 'master', 'worker', 'network', 'updateHostsFiles', 'networkPolicy', 'podCidr', 'serviceCidr', 'loadBalancer', 'expiry'];
  const record = answers as unknown as Record<string, unknown>;
  for (const key of order) {
    if (given.has(key)) continue;
    if (key === 'loadBalancer' && answers.master < 2) continue;
    const q = QUESTIONS[key] as Question<unknown>;
    const current = record[key];
    let accepted = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && !accepted; attempt++) {
      const reply = (await prompt(`${q.prompt}${current === '' ? '' : ` [${q.show(current)}]`}: `)).trim();
      const result: Parsed<unknown> = reply === '' && current !== '' ? { value: current } : q.parse(reply);
      if ('error' in result) {
        io.err(`  ${result.error}`);
        continue;
      }
      record[key] = result.value;
      accepted = true;
    }
    if (!accepted) {
      io.err(`muster: no valid answer for "${q.prompt}" after ${MAX_ATTEMPTS} tries; nothing written`);
      return false;
    }
  }
  return true;
}
