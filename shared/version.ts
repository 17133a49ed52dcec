// The product version, injected at build time by esbuild (packaging/build.ts); "dev" when run from source.
declare const MUSTER_VERSION: string | undefined;
export const VERSION: string = typeof MUSTER_VERSION === 'string' ? MUSTER_VERSION : '0.0.0-dev';
