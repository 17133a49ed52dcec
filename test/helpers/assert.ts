// Assertions uvu/assert lacks.
import * as assert from 'uvu/assert';

/** Awaits fn, expects it to throw, checks the message against `pattern`; returns the error. */
export async function rejects(fn: () => Promise<unknown>, pattern?: RegExp | string): Promise<Error & Record<string, unknown>> {
  try {
    await fn();
  } catch (err) {
    const e = err as Error & Record<string, unknown>;
    if (pattern instanceof RegExp) assert.match(e.message, pattern);
    else if (typeof pattern === 'string') assert.ok(e.message.includes(pattern), `expected message to include ${JSON.stringify(pattern)}, got ${JSON.stringify(e.message)}`);
    return e;
  }
  throw new assert.Assertion({ message: 'expected the promise to reject, but it resolved', operator: 'rejects', generated: false, expects: 'rejection', actual: 'resolution' } as never);
}
