// Flag values the admin commands share, parsed once with the same error: a duration flag
// (`--ttl 2h`, `--timeout 30s`) is a Go-style duration, and a bad one is a usage error naming it.
import { parseDurationMs } from '../trust/tokens.ts';
import { UsageError } from '../../shared/errors/index.ts';

/** The duration in ms; `fallbackMs` when the flag is absent (or empty). */
export function durationFlag(flag: string, text: string | undefined, fallbackMs: number): number {
  if (text === undefined || text === '') return fallbackMs;
  try {
    return parseDurationMs(text);
  } catch (e) {
    throw new UsageError(`${flag} ${text}: ${(e as Error).message}`);
  }
}
