// The product version, injected at build time by esbuild (packaging/build.ts); "dev" when run from source.
import { isSea } from 'node:sea';

declare const MUSTER_VERSION: string | undefined;
export const VERSION: string = typeof MUSTER_VERSION === 'string' ? MUSTER_VERSION : '0.0.0-dev';

/** `version --verbose`: what runs this program, and with which Node flags (a single executable carries its own). */
export function versionDetail(): string {
  const form = isSea() ? 'single executable' : typeof MUSTER_VERSION === 'string' ? 'bundle' : 'sources';
  return [
    VERSION,
    `node ${process.version} (${process.platform}/${process.arch}), ${form}`,
    `node flags: ${process.execArgv.filter((a) => a.startsWith('--')).join(' ') || '(none)'}`,
  ].join('\n');
}
