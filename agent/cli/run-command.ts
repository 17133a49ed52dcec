// `muster-agent run`: join (once), then report, pull and apply until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import type { CliIO } from '../../shared/cli/io.ts';
import { compileAgentOptions, optionsFromEnv, readAgentConfigFile, parseLabels, type AgentOptions } from '../config/options.ts';
import { Agent, type FactsSource } from '../loop/agent.ts';
import { createLogger, type LogFormat } from '../../shared/log/logger.ts';
import { VERSION } from '../../shared/version.ts';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { readJoinedAs } from '../identity/identity-store.ts';
import { ConfigError, UsageError } from '../../shared/errors/index.ts';
import { DEFAULT_AGENT_STATE_DIR } from '../../shared/constants.ts';
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
  'startup-jitter-ms': { type: 'string' },
  'reconnect-jitter-ms': { type: 'string' },
  'ready-timeout-ms': { type: 'string' },
} as const;

export function agentOptionsFromArgs(argv: string[], env: Record<string, string | undefined>): { options: AgentOptions; logFormat: LogFormat } {
  const { values } = parseArgs({ args: argv, options: RUN_FLAGS, allowNegative: true, strict: true });
  if (values['log-format'] !== undefined && values['log-format'] !== 'text' && values['log-format'] !== 'json') throw new UsageError(`--log-format ${values['log-format']}: expected text or json`);
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
  if (values['startup-jitter-ms'] !== undefined) flags.startupJitterMs = values['startup-jitter-ms'] as unknown as number; // likewise
  if (values['reconnect-jitter-ms'] !== undefined) flags.reconnectJitterMs = values['reconnect-jitter-ms'] as unknown as number;
  if (values['ready-timeout-ms'] !== undefined) flags.readyTimeoutMs = values['ready-timeout-ms'] as unknown as number;
  const options = { ...readAgentConfigFile(values.config ?? env.MUSTER_AGENT_CONFIG), ...optionsFromEnv(env), ...flags };
  return { options, logFormat: (values['log-format'] as LogFormat) ?? 'text' };
}

/**
 * What the state dir says about settings given now: a joined node keeps its name (a different
 * --node-name is refused, not silently ignored), and without --coordinator it goes back to the
 * coordinator it joined.
 */
export async function withSavedIdentity(options: AgentOptions): Promise<AgentOptions> {
  const saved = await readJoinedAs(resolve(options.stateDir ?? DEFAULT_AGENT_STATE_DIR));
  if (!saved) return options;
  if (options.nodeName && options.nodeName.toLowerCase() !== saved.nodeName) {
    throw new ConfigError(
      `this node joined as ${saved.nodeName} (state in ${options.stateDir ?? DEFAULT_AGENT_STATE_DIR}); --node-name ${options.nodeName} would be another node. ` +
        `Leave --node-name out (or give ${saved.nodeName}); to rename the node, remove it (muster node remove ${saved.nodeName}), delete the state dir and join again`,
    );
  }
  return options.coordinator ? options : { ...options, coordinator: saved.coordinator };
}

/** An --address must be one of this machine's: binding to it is the test the kernel uses. */
export async function checkLocalAddress(address: string): Promise<void> {
  if (!address) return;
  await new Promise<void>((ok, fail) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) =>
      fail(err.code === 'EADDRNOTAVAIL' ? new UsageError(`--address ${address} is not an address of this machine; give one of its addresses (ip -brief address), which other nodes reach it on`) : err),
    );
    s.listen(0, address, () => s.close(() => ok()));
  });
}

export async function runCommand(argv: string[], io: CliIO, deps: { facts?: FactsSource; signal?: AbortSignal } = {}): Promise<number> {
  const { options: given, logFormat } = agentOptionsFromArgs(argv, io.env);
  const options = await withSavedIdentity(given);
  const compiled = compileAgentOptions(options);
  await checkLocalAddress(compiled.address);
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
