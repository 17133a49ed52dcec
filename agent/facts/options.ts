// CollectOptions -> compileCollectOptions() -> CompiledCollectOptions: every default is filled in
// once here, so the section collectors trust their inputs.
import type { ClockFacts } from '../../proto/gen/types/muster/v1/ClockFacts.ts';
import { nodeFactsIO } from './io.ts';
import type { ExecFn, FactsIO } from './io.ts';
import { VersionCache } from './binaries.ts';

export interface CollectOptions {
  /** Where procfs is mounted. @default "/proc" */
  procRoot?: string;
  /** Where sysfs is mounted. @default "/sys" */
  sysRoot?: string;
  /** The node's /etc (os-release, machine-id, hosts, resolv.conf). @default "/etc" */
  etcRoot?: string;
  /** Runs version probes. @default child_process.execFile with a C locale */
  exec?: ExecFn;
  /** Wall clock in ms, used for the time budget of the port-owner scan. @default Date.now */
  now?: () => number;
  /** Replace single IO operations (statfs, interface addresses, ...) in tests. */
  io?: Partial<FactsIO>;
  /** Directories searched for binaries, in order. @default $PATH, then /usr/local/sbin, /usr/sbin, /sbin */
  searchPath?: string[];
  /** Remembers binary versions by path+mtime. @default one cache shared by the whole process */
  versionCache?: VersionCache;
  /** Per version probe. @default 2000 */
  execTimeoutMs?: number;
  /** Per filesystem; a hung network mount is left out instead of stalling collection. @default 1000 */
  statfsTimeoutMs?: number;
  /** Path whose filesystem is reported as var_lib_mount. @default "/var/lib" */
  varLibPath?: string;
  /** A measured clock offset (see clockOffset()); without it the clock section says 0. */
  clock?: ClockFacts;
  /** Bounds of the scan that maps listening sockets to processes. */
  portScan?: { maxProcesses?: number; maxFdsPerProcess?: number; budgetMs?: number };
}

export interface CompiledCollectOptions {
  procRoot: string;
  sysRoot: string;
  etcRoot: string;
  now: () => number;
  io: FactsIO;
  searchPath: string[];
  versionCache: VersionCache;
  execTimeoutMs: number;
  statfsTimeoutMs: number;
  varLibPath: string;
  clock: { offset_ms: number; round_trip_ms: number };
  portScan: { maxProcesses: number; maxFdsPerProcess: number; budgetMs: number };
}

/** Shared by every collection in this process, so only the first one spawns version probes. */
const processVersionCache = new VersionCache();

const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export function compileCollectOptions(options: CollectOptions = {}): CompiledCollectOptions {
  const io: FactsIO = { ...nodeFactsIO(), ...options.io };
  if (options.exec) io.exec = options.exec;
  const pathDirs = (process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/'));
  const searchPath = options.searchPath ?? [...new Set([...pathDirs, ...SBIN_DIRS])];
  return {
    procRoot: options.procRoot ?? '/proc',
    sysRoot: options.sysRoot ?? '/sys',
    etcRoot: options.etcRoot ?? '/etc',
    now: options.now ?? Date.now,
    io,
    searchPath,
    versionCache: options.versionCache ?? processVersionCache,
    execTimeoutMs: options.execTimeoutMs ?? 2000,
    statfsTimeoutMs: options.statfsTimeoutMs ?? 1000,
    varLibPath: options.varLibPath ?? '/var/lib',
    clock: { offset_ms: Number(options.clock?.offset_ms ?? 0), round_trip_ms: Number(options.clock?.round_trip_ms ?? 0) },
    portScan: {
      maxProcesses: options.portScan?.maxProcesses ?? 32_768,
      maxFdsPerProcess: options.portScan?.maxFdsPerProcess ?? 4096,
      budgetMs: options.portScan?.budgetMs ?? 250,
    },
  };
}
