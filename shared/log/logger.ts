// Logging for both programs (winston). Lines go to stderr so stdout stays for command output.
// A redaction format runs on every line: bootstrap token secrets and private keys never reach a log.
import winston from 'winston';
import { Writable } from 'node:stream';
import { TOKEN_RE } from '../constants.ts';

export type Logger = winston.Logger;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'text' | 'json';

const TOKEN_ANYWHERE = new RegExp(TOKEN_RE.source.replace(/^\^|\$$/g, ''), 'g');
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;

/** Masks secrets in a string: "abcdef.0123456789abcdef" -> "abcdef.<redacted>". */
export function redact(text: string): string {
  return text.replace(TOKEN_ANYWHERE, (_m, id: string) => `${id}.<redacted>`).replace(PRIVATE_KEY, '<redacted private key>');
}

const redactFormat = winston.format((info) => {
  if (typeof info.message === 'string') info.message = redact(info.message);
  for (const [k, v] of Object.entries(info)) {
    if (typeof v === 'string' && k !== 'level') (info as Record<string, unknown>)[k] = redact(v);
  }
  return info;
});

const textFormat = winston.format.printf((info) => {
  const { level, message, timestamp, component, ...rest } = info as Record<string, unknown>;
  const extras = Object.entries(rest)
    .filter(([k]) => typeof k === 'string' && !k.startsWith('Symbol'))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join(' ');
  return `${timestamp} ${String(level).padEnd(5)} ${component ? `${component}: ` : ''}${message}${extras ? ` ${extras}` : ''}`;
});

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  component?: string;
  /** Where lines go; default stderr. Tests pass a sink to capture lines. */
  sink?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const sink = options.sink;
  const transport = sink
    ? new winston.transports.Stream({
        stream: new Writable({
          write(chunk, _enc, cb) {
            sink(String(chunk).replace(/\n$/, ''));
            cb();
          },
        }),
      })
    : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] });
  return winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: options.component ? { component: options.component } : undefined,
    format: winston.format.combine(
      redactFormat(),
      winston.format.timestamp(),
      options.format === 'json' ? winston.format.json() : textFormat,
    ),
    transports: [transport],
  });
}

/** A logger that drops everything (library use, benchmarks). */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
