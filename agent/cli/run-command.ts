// `muster-agent run`: join (once), then report, pull and apply until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import type { CliIO } from '../../shared/cli/io.ts';
import { compileAgentOptions, optionsFromEnv, readAgentConfigFile, parseLabels, type AgentOptions } from '../config/options.ts';
import { Agent, type FactsSource } from '../loop/agent.ts';
import { createLogger, type LogFormat } from '../../shared/log/logger.ts';
import { VERSION } from '../../shared/version.ts';
import { nodeFactsSource } from '../loop/facts-source.ts';

export const RUN_FLAGS = {
  config: { type: 'string' },
  coordinator: { type: 'string' },
  token: { type: 'string' },
  'ca-hash': { type: 'string' },
  'insecure-skip-ca-verification': { type: 'boolean' },
  'state-dir': { type: 'string' },
  root: { type: 'string' },
  'node-name': { type: 'string' },
  address: { type: 'string' },
  'node-labels': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'probe-port': { type: 'string' },
} as const;

export function agentOptionsFromArgs(argv: string[], env: Record<string, string | undefined>): { options: AgentOptions; logFormat: LogFormat } {
  const { values } = parseArgs({ args: argv, options: RUN_FLAGS, strict: true });
  const flags: AgentOptions = {};
  if (values.coordinator) flags.coordinator = values.coordinator;
  if (values.token) flags.token = values.token;
  if (values['ca-hash']) flags.caHash = values['ca-hash'];
  if (values['insecure-skip-ca-verification']) flags.insecureSkipCaVerification = true;
  if (values['state-dir']) flags.stateDir = values['state-dir'];
  if (values.root) flags.root = values.root;
  if (values['node-name']) flags.nodeName = values['node-name'];
  if (values.address) flags.address = values.address;
  if (values['node-labels']) flags.labels = parseLabels(values['node-labels'], '--node-labels');
  if (values['log-level']) flags.logLevel = values['log-level'] as AgentOptions['logLevel'];
  if (values['probe-port'] !== undefined) flags.probePort = values['probe-port'] as unknown as number; // checked in compileAgentOptions
  const options = { ...readAgentConfigFile(values.config ?? env.MUSTER_AGENT_CONFIG), ...optionsFromEnv(env), ...flags };
  return { options, logFormat: (values['log-format'] as LogFormat) ?? 'text' };
}

export async function runCommand(argv: string[], io: CliIO, deps: { facts?: FactsSource; signal?: AbortSignal } = {}): Promise<number> {
  const { options, logFormat } = agentOptionsFromArgs(argv, io.env);
  const compiled = compileAgentOptions(options);
  const log = createLogger({ level: compiled.logLevel, format: logFormat, component: 'agent' });
  const agent = new Agent(compiled, { log, facts: deps.facts ?? nodeFactsSource(), version: VERSION });
  const ac = new AbortController();
  const stop = () => ac.abort(new Error('stopped'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  deps.signal?.addEventListener('abort', stop, { once: true });
  try {
    await agent.run(ac.signal);
    log.info('stopped');
    return 0;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
