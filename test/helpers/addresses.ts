// Loopback addresses for one test file. Test files run in parallel, and two files that both put
// simulated nodes on 127.0.0.2-4 would see each other's listeners and latency. The runner
// (test/run.ts) hands every file its own /24 of 127.0.0.0/8 in MUSTER_TEST_NET ("127.A.B");
// a file run directly (`node test/x.test.ts`) derives one from its path instead.
import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AddressBlock {
  /** "127.A.B" */
  readonly prefix: string;
  /** 127.A.B.i, i in 1..254 */
  host(i: number): string;
}

export function addressBlock(fileUrl: string): AddressBlock {
  let prefix = process.env.MUSTER_TEST_NET;
  if (!prefix || !/^127\.\d{1,3}\.\d{1,3}$/.test(prefix)) {
    const rel = relative(new URL('../..', import.meta.url).pathname, fileURLToPath(fileUrl));
    const h = createHash('sha256').update(rel).digest();
    // 127.200-254.x: away from the runner's blocks (127.10-99.x) and from 127.0.0.x.
    prefix = `127.${200 + (h[0]! % 55)}.${h[1]!}`;
  }
  const p = prefix;
  return {
    prefix: p,
    host(i: number) {
      if (!Number.isInteger(i) || i < 1 || i > 254) throw new RangeError(`host ${i}: expected 1..254`);
      return `${p}.${i}`;
    },
  };
}
