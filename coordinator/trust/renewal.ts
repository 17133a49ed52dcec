// Renews a certificate the coordinator holds (its serving certificate, the data dir's admin
// credential) at a random point between 70% and 90% of its lifetime, while running: a
// coordinator that stays up for years never serves an expired certificate.
import { X509Certificate } from 'node:crypto';
import { renewalTime } from '../../shared/pki/x509.ts';
import { RENEW_WINDOW } from '../../shared/constants.ts';
import type { Logger } from '../../shared/log/logger.ts';

/** setTimeout's limit; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RenewalOptions {
  what: string;
  /** The certificate in force now. */
  current: () => string;
  /** Issues and installs a new one. */
  renew: () => Promise<void>;
  log: Logger;
  clock?: () => number;
  random?: () => number;
  /** After a failed renewal. @default 60000 */
  retryMs?: number;
}

export function scheduleRenewal(o: RenewalOptions): { stop(): void } {
  const clock = o.clock ?? Date.now;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const arm = (at: number) => {
    if (stopped) return;
    const wait = Math.max(0, Math.min(at - clock(), MAX_TIMER_MS));
    timer = setTimeout(() => (clock() >= at ? void fire() : arm(at)), wait);
    timer.unref();
  };
  const next = () => {
    const c = new X509Certificate(o.current());
    return renewalTime(new Date(c.validFrom), new Date(c.validTo), RENEW_WINDOW, o.random);
  };
  const fire = async () => {
    try {
      await o.renew();
      o.log.info(`${o.what} renewed; valid until ${new X509Certificate(o.current()).validTo}`);
      arm(next());
    } catch (err) {
      o.log.warn(`cannot renew ${o.what}: ${(err as Error)?.message ?? err}; trying again in ${(o.retryMs ?? 60_000) / 1000}s`);
      arm(clock() + (o.retryMs ?? 60_000));
    }
  };
  arm(next());
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
