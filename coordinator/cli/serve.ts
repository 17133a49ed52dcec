// `muster coordinator serve`: run the coordinator until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import type { CliIO } from '../../shared/cli/io.ts';
import { startCoordinator } from '../server/coordinator.ts';
import { createLogger, type LogFormat, type LogLevel } from '../../shared/log/logger.ts';
import { UsageError } from '../../shared/errors/index.ts';

const LOG_LEVELS: readonly string[] = ['error', 'warn', 'info', 'debug'];
import { DEFAULT_COORDINATOR_DATA_DIR, DEFAULT_COORDINATOR_PORT, DEFAULT_METRICS_ADDRESS } from '../../shared/constants.ts';

/** The flags; defaults that come from the environment are applied after parsing. */
export const SERVE_OPTIONS = {
  'data-dir': { type: 'string' },
  plan: { type: 'string' },
  listen: { type: 'string' },
  advertise: { type: 'string' },
  san: { type: 'string', multiple: true, default: [] as string[] },
  'log-level': { type: 'string' },
  'log-format': { type: 'string', default: 'text' },
  reinitialize: { type: 'boolean', default: false },
  'join-burst': { type: 'string' },
  'join-rate': { type: 'string' },
  'max-unverified-per-source': { type: 'string' },
  'max-unverified': { type: 'string' },
  'work-concurrency': { type: 'string' },
  'work-queue': { type: 'string' },
  'reconnect-rate': { type: 'string' },
  'metrics-address': { type: 'string' },
} as const;

export async function serveCommand(argv: string[], io: CliIO, signal?: AbortSignal): Promise<number> {
  const { values: given } = parseArgs({ args: argv, options: SERVE_OPTIONS, allowNegative: true, strict: true });
  const dataDirGiven = given['data-dir'] ?? io.env.MUSTER_DATA_DIR;
  const values = {
    ...given,
    'data-dir': dataDirGiven ?? DEFAULT_COORDINATOR_DATA_DIR,
    plan: given.plan ?? io.env.MUSTER_PLAN,
    listen: given.listen ?? io.env.MUSTER_LISTEN ?? `0.0.0.0:${DEFAULT_COORDINATOR_PORT}`,
    advertise: given.advertise ?? io.env.MUSTER_ADVERTISE,
    'log-level': given['log-level'] ?? io.env.MUSTER_LOG_LEVEL ?? 'info',
  };
  if (!LOG_LEVELS.includes(values['log-level'])) throw new UsageError(`--log-level ${values['log-level']}: expected ${LOG_LEVELS.join(', ')}`);
  if (values['log-format'] !== 'text' && values['log-format'] !== 'json') throw new UsageError(`--log-format ${values['log-format']}: expected text or json`);
  // Said before anything else: a coordinator started in the wrong place is a fresh cluster there.
  if (dataDirGiven === undefined) io.err(`muster: no --data-dir (or MUSTER_DATA_DIR) given; using the default ${DEFAULT_COORDINATOR_DATA_DIR}`);
  const num = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} ${v}: expected a positive number`);
    return n;
  };
  // "off" for none; an address given must bind; the default (loopback) is skipped with a warning
  // when its port is taken, so a second coordinator on one machine (tests, a migration) still starts.
  const metricsGiven = given['metrics-address'] ?? io.env.MUSTER_METRICS_ADDRESS;
  const metricsAddress = metricsGiven === 'off' || metricsGiven === '' ? undefined : (metricsGiven ?? DEFAULT_METRICS_ADDRESS);
  const integer = (flag: string, v: string | undefined) => {
    const n = num(flag, v);
    if (n !== undefined && !Number.isInteger(n)) throw new UsageError(`--${flag} ${v}: expected a whole number`);
    return n;
  };
  const workBudget = { concurrency: integer('work-concurrency', values['work-concurrency']), maxQueue: integer('work-queue', values['work-queue']) };
  const joinBudget = { burst: num('join-burst', values['join-burst']), refillPerSecond: num('join-rate', values['join-rate']) };
  const logger = createLogger({ level: values['log-level'] as LogLevel, format: values['log-format'] as LogFormat, component: 'coordinator' });
  const c = await startCoordinator({
    dataDir: values['data-dir'],
    planFile: values.plan,
    listen: values.listen,
    advertise: values.advertise,
    extraSans: values.san,
    reinitialize: values.reinitialize,
    metricsAddress,
    metricsBestEffort: metricsGiven === undefined,
    admission: { joinBudget, workBudget, maxUnverifiedPerSource: num('max-unverified-per-source', values['max-unverified-per-source']), maxUnverifiedConnections: integer('max-unverified', values['max-unverified']), reconnectsPerSecond: integer('reconnect-rate', values['reconnect-rate']) },
    logger,
  });
  if (c.identity.created) {
    const { token } = await c.state.tokens.create({ description: 'created at first start' });
    io.out(
      `muster coordinator initialised in ${values['data-dir']}.\n\n` +
        `Join nodes by running on each (token valid 24h; more with \`muster token create\`):\n\n  ${c.joinCommand(token)}\n\n` +
        `Admin credentials: ${values['data-dir']}/admin.yaml (use --data-dir here, or copy it and pass --config elsewhere).`,
    );
  } else {
    io.out(`Join command: muster-agent run --coordinator ${c.address} --token <muster token create> --ca-hash ${c.identity.caPin}`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    signal?.addEventListener('abort', stop, { once: true });
  });
  logger.info('shutting down');
  await c.close();
  return 0;
}

