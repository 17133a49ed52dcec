// Public face of the plan package: parse a plan file's text (muster's format or Kismatic's),
// fill defaults, run every check, and return the compiled Plan with all problems found.
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Node } from 'yaml';
import type { Plan } from './types.ts';
import type { PlanProblem } from './problem.ts';
import { PlanSource } from './source.ts';
import { compilePlan } from './compile.ts';
import { isKismaticPlan, translateKismatic, KISMATIC_KEYS, type DroppedSetting } from './kismatic.ts';
import { PLAN_CHECKS, runChecks, type PlanFormat } from './checks/index.ts';
import { MUSTER_KEYS } from './checks/shape.ts';
import { errorMessage } from '../errors/index.ts';

export type * from './types.ts';
export { formatProblem, type PlanProblem, type Severity } from './problem.ts';
export type { PlanFormat, PlanCheck, CheckContext } from './checks/index.ts';
export type { DroppedSetting } from './kismatic.ts';
export { PLAN_CHECKS } from './checks/index.ts';
export { defaultPlan, defaultDnsServiceIp } from './compile.ts';
export { renderPlan, type RenderOptions } from './render.ts';
export { planFromAnswers, INIT_DEFAULTS, POOL_MINIMUMS, parseHostList, type PlanInitAnswers, type HostEntry } from './init.ts';
export { parseSize, formatSize } from './size.ts';
export { parseGoDuration } from './duration.ts';
export { SUPPORTED_RANGE, SUPPORTED_MINORS, parseKubernetesVersion, isSupportedVersion, compareVersions, type KubernetesVersion } from './k8s-version.ts';
export { SUPPORTED_VERSION_RULE } from './checks/version.ts';
export { DEFAULT_KUBERNETES_VERSION } from './schema.ts';

export interface PlanParseResult {
  /** Null when there is at least one error. */
  plan: Plan | null;
  problems: PlanProblem[];
  /** Which format the file was recognised as (absent only when the YAML did not parse). */
  format?: PlanFormat;
  /** For a Kismatic plan: the settings that have no meaning in muster and were left out. */
  dropped?: DroppedSetting[];
}

/** Rules whose errors mean the file could not be read or parsed at all (exit code 2). */
export const UNREADABLE_RULES: ReadonlySet<string> = new Set(['read', 'yaml']);

export interface ParseOptions {
  /**
   * Rules whose errors are reported but still yield the compiled plan (`muster plan import`
   * converts a Kismatic plan whose version muster does not support, and replaces the version).
   */
  tolerate?: ReadonlySet<string>;
}

/**
 * The last plan parsed without options, by its text. A coordinator starting with
 * --plan parses the same text three times (the file checked before anything is written, the
 * stored plan at open, the file again when applied) and a 10,000-node plan costs ~1 s each
 * (bench/plan-change.ts). A parse is a pure function of its input and a compiled plan is never
 * modified, so the same result serves all three.
 */
let lastParse: { text: string; file: string; result: PlanParseResult } | null = null;

export function parsePlan(text: string, file: string, o: ParseOptions = {}): PlanParseResult {
  if (o.tolerate) return parsePlanUncached(text, file, o);
  if (lastParse?.text !== text) lastParse = { text, file, result: parsePlanUncached(text, file, o) };
  const { result: r, file: parsedAs } = lastParse;
  // The file name appears only in the problems (the stored plan may have been applied from another path).
  return { ...r, problems: r.problems.map((p) => (p.file === parsedAs ? { ...p, file } : p)) };
}

function parsePlanUncached(text: string, file: string, o: ParseOptions): PlanParseResult {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlProblems = [...document.errors, ...document.warnings].map((e): PlanProblem => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    return {
      severity: e.name === 'YAMLWarning' ? 'warning' : 'error', rule: 'yaml', file, line, column: col, path: '',
      message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
      fix: 'fix the YAML syntax at this position',
    };
  });
  if (document.errors.length) return { plan: null, problems: yamlProblems };

  let source = new PlanSource({ file, text, root: document.contents as Node | null, lineCounter, document });
  const format: PlanFormat = isKismaticPlan(source) ? 'kismatic' : 'muster';
  let dropped: DroppedSetting[] | undefined;
  if (format === 'kismatic') {
    const t = translateKismatic(source);
    dropped = t.dropped;
    source = new PlanSource({ file, text, root: t.root, lineCounter, document, pathMap: t.pathMap });
  }
  const { plan, typeIssues } = compilePlan(source);
  const problems = [...yamlProblems, ...runChecks({ format, source, plan, typeIssues, knownKeys: format === 'kismatic' ? KISMATIC_KEYS : MUSTER_KEYS }, PLAN_CHECKS)];
  const failed = problems.some((p) => p.severity === 'error' && !o.tolerate?.has(p.rule));
  return { plan: failed ? null : plan, problems, format, ...(dropped ? { dropped } : {}) };
}

/**
 * Reads and parses a plan file; an unreadable file is one problem with rule "read" (exit code 2).
 * `name` is how problems name the file (default: the path).
 */
export async function parsePlanFile(path: string, name: string = path, o: ParseOptions = {}): Promise<PlanParseResult & { text: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : errorMessage(err);
    return {
      plan: null, text: '',
      problems: [{ severity: 'error', rule: 'read', file: name, line: 0, column: 0, path: '', message: `cannot read the plan file: ${what}`, fix: 'check the path, or create a plan with "muster plan init"' }],
    };
  }
  return { ...parsePlan(text, name, o), text };
}

/** The exit code of a validation: 2 unreadable or unparsable, 1 any error, 0 valid (warnings allowed). */
export function planExitCode(problems: readonly PlanProblem[]): 0 | 1 | 2 {
  if (problems.some((p) => p.severity === 'error' && UNREADABLE_RULES.has(p.rule))) return 2;
  return problems.some((p) => p.severity === 'error') ? 1 : 0;
}
