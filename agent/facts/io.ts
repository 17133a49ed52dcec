// What fact collection may touch of the outside world. Every section reads through this small
// interface, so tests point the readers at fixture files (via the roots in CollectOptions) or swap
// in a fake statfs/exec where the real machine cannot produce the case they need.
//
// Reads are synchronous on purpose: /proc, /sys and /etc are answered from memory by the kernel,
// and one synchronous read costs a fraction of what a promise round trip through the libuv thread
// pool costs -- collecting a few hundred of them async was the largest CPU item. statfs and exec
// stay asynchronous because a hung NFS mount or a wedged binary must not block the agent.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, existsSync, statSync, realpathSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** null when the process was killed (timeout) or could not start. */
  exitCode: number | null;
  timedOut: boolean;
}

/** Runs `file args` without a shell, killing it after timeoutMs. Never rejects. */
export type ExecFn = (file: string, args: string[], timeoutMs: number) => Promise<ExecResult>;

export interface FileStat {
  mtimeMs: number;
  size: number;
  ino: number;
  isFile: boolean;
  executable: boolean;
}

export interface FsUsage {
  sizeBytes: number;
  /** Bytes available to unprivileged users, what `df` shows as Available. */
  freeBytes: number;
}

/** One address of an interface as the OS reports it (node:os networkInterfaces()). */
export interface InterfaceAddress {
  cidr: string;
  family: 'IPv4' | 'IPv6';
  address: string;
}

export interface FactsIO {
  /** File content, or null when it does not exist or cannot be read. */
  readText(path: string): string | null;
  /** Entry names of a directory, [] when it does not exist or cannot be read. */
  list(dir: string): string[];
  /** Target of a symbolic link, null when unreadable. */
  readLink(path: string): string | null;
  exists(path: string): boolean;
  /** stat() following links; null when missing. */
  stat(path: string): FileStat | null;
  /** Canonical path with links resolved, or the path itself when it cannot be resolved. */
  realpath(path: string): string;
  statfs(path: string): Promise<FsUsage>;
  exec: ExecFn;
  interfaceAddresses(): Record<string, InterfaceAddress[]>;
}

export function nodeFactsIO(): FactsIO {
  return {
    readText(path) {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return null;
      }
    },
    list(dir) {
      try {
        return readdirSync(dir);
      } catch {
        return [];
      }
    },
    readLink(path) {
      try {
        return readlinkSync(path);
      } catch {
        return null;
      }
    },
    exists: (path) => existsSync(path),
    stat(path) {
      try {
        // throwIfNoEntry: most probes look for binaries that are not there; no exception to build.
        const s = statSync(path, { throwIfNoEntry: false });
        if (!s) return null;
        return { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino, isFile: s.isFile(), executable: (s.mode & 0o111) !== 0 };
      } catch {
        return null;
      }
    },
    realpath(path) {
      try {
        return realpathSync(path);
      } catch {
        return path;
      }
    },
    async statfs(path) {
      const s = await statfs(path);
      return { sizeBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
    },
    exec: execProcess,
    interfaceAddresses() {
      const out: Record<string, InterfaceAddress[]> = {};
      for (const [name, addrs] of Object.entries(networkInterfaces())) {
        out[name] = (addrs ?? [])
          .filter((a) => a.cidr !== null)
          .map((a) => ({ cidr: a.cidr as string, family: a.family, address: a.address }));
      }
      return out;
    },
  };
}

/**
 * The default ExecFn: no shell, C locale (stable output to parse), output capped at 256 KiB.
 * The child leads its own process group, so a timeout kills whatever it started too.
 */
export const execProcess: ExecFn = (file, args, timeoutMs) =>
  new Promise((resolve) => {
    const MAX_OUTPUT = 256 * 1024;
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (exitCode: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ stdout, stderr, exitCode, timedOut });
    };
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout = (stdout + d).slice(0, MAX_OUTPUT)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(0, MAX_OUTPUT)));
    child.on('error', () => finish(null));
    child.on('close', (code) => finish(timedOut ? null : code));
  });
