// Node's system errors (EADDRINUSE, EACCES, ENOENT...) carry text written for programmers
// ("listen EADDRINUSE: address already in use 0.0.0.0:7443"). When one reaches the CLI's edge
// it becomes one sentence that says what is wrong and what to do.
import { MusterError } from '../errors/index.ts';

const WHAT_TO_DO: Record<string, string> = {
  EADDRINUSE: 'another program is using that port: stop it, or choose another port',
  EADDRNOTAVAIL: 'that address is not on this machine: use one of its addresses (ip -brief address), or 0.0.0.0',
  EACCES: 'permission denied: run as a user allowed to do this (ports below 1024 and files owned by root need root)',
  EPERM: 'operation not permitted for this user',
  ENOENT: 'no such file or directory',
  EISDIR: 'that is a directory, not a file',
  ENOSPC: 'the disk is full',
  EROFS: 'the file system is read-only',
};

export function explainSystemError(err: unknown): unknown {
  if (err instanceof MusterError) return err;
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const advice = typeof e?.code === 'string' ? WHAT_TO_DO[e.code] : undefined;
  if (!advice) return err;
  const where = e.path ?? (e.address ? `${e.address}${e.port !== undefined ? `:${e.port}` : ''}` : '');
  return new MusterError('failed-precondition', e.code!.toLowerCase(), `${e.syscall ?? 'operation'}${where ? ` ${where}` : ''} failed: ${advice} (${e.code})`, { cause: err });
}
