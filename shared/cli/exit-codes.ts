// The one table from an error to the exit code both programs return (README "Exit codes"):
// 0 ok, 1 refused or failed, 2 usage, 3 coordinator unreachable or overloaded, 130 Ctrl-C.
import { InterruptedError, MusterError, UsageError } from '../errors/index.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, unavailable: 3, interrupted: 130 } as const;

/** node:util parseArgs failures (unknown flag, missing value): the command line is wrong. */
export function isParseArgsError(err: unknown): err is Error & { code: string } {
  return typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS');
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof InterruptedError) return EXIT.interrupted;
  if (err instanceof UsageError || isParseArgsError(err)) return EXIT.usage;
  if (err instanceof MusterError) return err.kind === 'unavailable' || err.kind === 'resource-exhausted' ? EXIT.unavailable : EXIT.failed;
  return EXIT.failed;
}

/** The error as --json prints it: one object, snake_case like every other JSON muster prints. */
export function errorJson(err: unknown): { error: { exit_code: number; kind: string; reason: string; message: string } } {
  const code = exitCodeFor(err);
  if (err instanceof MusterError) return { error: { exit_code: code, kind: err.kind, reason: err.reason, message: err.message } };
  if (isParseArgsError(err)) return { error: { exit_code: code, kind: 'invalid-argument', reason: 'usage', message: err.message } };
  return { error: { exit_code: code, kind: 'internal', reason: 'internal', message: String((err as Error)?.message ?? err) } };
}
