// Logging for both programs (winston). Lines go to stderr so stdout stays for command output.
// A redaction format runs on every line: bootstrap token secrets and private keys never reach a log.
// Text lines are escaped last: messages carry text from other machines (apply errors, probe
// errors), and a newline or terminal escape in it must not forge a line or drive a terminal.
import winston from 'winston';
import { Writable } from 'node:stream';
import { TOKEN_RE } from '../constants.ts';
import { escapeControl } from '../text/escape.ts';

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

/** An extra field's value: quoted when it has spaces, so `k=v` pairs stay apart. */
function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  try {
    return String(JSON.stringify(v));
  } catch {
    return String(v); // circular or BigInt: still one line, after escaping
  }
}

// Everything a line is made of is escaped, so the only line break is the one ending it (a stack
// trace is one line too, with "\n" between frames).
const textFormat = winston.format.printf((info) => {
  const { level, message, timestamp, component, ...rest } = info as Record<string, unknown>;
  const extras = Object.entries(rest)
    .filter(([k]) => typeof k === 'string' && !k.startsWith('Symbol'))
    .map(([k, v]) => `${k}=${fieldValue(v)}`)
    .join(' ');
  const text = `${component ? `${component}: ` : ''}${message}${extras ? ` ${extras}` : ''}`;
  return `${timestamp} ${String(level).padEnd(5)} ${escapeControl(text)}`;
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
