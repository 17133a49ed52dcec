// Typed errors. Every error a user can act on is one of these, with a message that names the
// object (node, token, file, field) and says what to do. They are mapped to gRPC status codes in
// exactly one place: shared/wire/status.ts.

export type ErrorKind =
  | 'invalid-argument'
  | 'not-found'
  | 'already-exists'
  | 'permission-denied'
  | 'unauthenticated'
  | 'failed-precondition'
  | 'unavailable'
  | 'resource-exhausted'
  | 'internal';

export class MusterError extends Error {
  readonly kind: ErrorKind;
  /** A stable machine-readable reason, e.g. "token-expired". */
  readonly reason: string;
  constructor(kind: ErrorKind, reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.reason = reason;
  }
  override get name(): string {
    return this.constructor.name;
  }
}

export class InvalidArgumentError extends MusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid-argument', 'invalid-argument', message, options);
  }
}

export class NotFoundError extends MusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not-found', 'not-found', message, options);
  }
}

export class AlreadyExistsError extends MusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('already-exists', 'already-exists', message, options);
  }
}

export class FailedPreconditionError extends MusterError {
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super('failed-precondition', reason, message, options);
  }
}

export class PermissionDeniedError extends MusterError {
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super('permission-denied', reason, message, options);
  }
}

export type TokenProblem = 'malformed' | 'unknown' | 'expired' | 'used-up' | 'revoked';

/** A bootstrap token was refused. The message never contains the token's secret. */
export class TokenError extends MusterError {
  readonly problem: TokenProblem;
  constructor(problem: TokenProblem, message: string) {
    super('unauthenticated', `token-${problem}`, message);
    this.problem = problem;
  }
}

/** The coordinator's CA does not match the pin the agent was given. */
export class CaPinMismatchError extends MusterError {
  constructor(expected: string, actual: string, coordinator: string) {
    super(
      'permission-denied',
      'ca-pin-mismatch',
      `the CA of coordinator ${coordinator} has hash ${actual}, but --ca-hash is ${expected}; ` +
        'check that you are talking to the right coordinator and that the join command is current ' +
        '(or, only on a trusted network, pass --insecure-skip-ca-verification)',
    );
  }
}

export class UnavailableError extends MusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', 'unavailable', message, options);
  }
}

/**
 * The coordinator is refusing work from this caller for now (a rate limit or budget), and says
 * when to come back: retry loops wait at least `retryAfterMs` (shared/retry.ts `retryDelayMs`).
 */
export class ResourceExhaustedError extends MusterError {
  /** How long the caller should wait before trying again; undefined when the server gave no hint. */
  readonly retryAfterMs: number | undefined;
  constructor(reason: string, message: string, options?: { retryAfterMs?: number; cause?: unknown }) {
    super('resource-exhausted', reason, message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** A configuration or input problem found before anything started (bad flag, bad config file). */
export class ConfigError extends MusterError {
  constructor(message: string, options?: { cause?: unknown }, reason = 'config') {
    super('invalid-argument', reason, message, options);
  }
}

/**
 * The command line itself is wrong: an unknown command or flag, a missing argument, a flag value
 * that does not parse (`--ttl 5x`). The CLIs exit 2 for these (shared/cli/exit-codes.ts), unlike
 * other ConfigErrors (a config file that is wrong), which exit 1.
 */
export class UsageError extends ConfigError {
  /** The usage line of the command, printed under the message. */
  readonly usage: string | undefined;
  constructor(message: string, options?: { usage?: string; cause?: unknown }) {
    super(message, { cause: options?.cause }, 'usage');
    this.usage = options?.usage;
  }
}

/** The operator pressed Ctrl-C at a prompt: not a failure to report, an exit (130). */
export class InterruptedError extends MusterError {
  constructor() {
    super('failed-precondition', 'interrupted', 'interrupted');
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
