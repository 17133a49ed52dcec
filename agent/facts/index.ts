// Node facts: what a node is (CPU, memory, disks, OS, network, listening ports, binaries, kernel
// settings, clock), collected from /proc, /sys and /etc, and diffed so a steady node reports
// almost nothing.
export { collectFacts } from './collect.ts';
export type { CollectOptions } from './options.ts';
export { diffFacts, mergeFacts, NOISE_FRACTION, NOISE_FLOOR_BYTES, CLOCK_NOISE_MS } from './diff.ts';
export type { FactsDiff } from './diff.ts';
export { clockOffset } from './clock.ts';
export type { ClockMeasurement } from './clock.ts';
export { VersionCache, BINARY_SPECS } from './binaries.ts';
export { formatFactsSummary, formatBytes } from './summary.ts';
export { nodeFactsIO } from './io.ts';
export type { FactsIO, ExecFn, ExecResult } from './io.ts';
export { SECTION_NAMES } from './types.ts';
export type { NodeFacts, SectionName } from './types.ts';
