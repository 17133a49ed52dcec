// Listening ports: TCP sockets in LISTEN and unconnected UDP sockets (what `ss -ltn` / `ss -lun`
// show), from /proc/net/{tcp,tcp6,udp,udp6}, with the owning process where it can be read.
import { endianness } from 'node:os';
import { join } from 'node:path';
import { formatIPv6 } from './network.ts';
import type { CompiledCollectOptions } from './options.ts';
import type { ListeningPortFact, PortSection } from './types.ts';

export interface SocketEntry {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
  inode: number;
}

const TCP_LISTEN = '0A';
/** TCP_CLOSE: how the kernel lists an unconnected (bound, "listening") UDP socket. */
const UDP_UNCONNECTED = '07';

/** One 32-bit word of /proc/net hex as 4 bytes in network order (the kernel prints host order). */
function wordBytes(hex8: string): number[] {
  const n = parseInt(hex8, 16) >>> 0;
  const be = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return endianness() === 'LE' ? be.reverse() : be;
}

/** Address part of a /proc/net/tcp{,6} entry in the text form `ss` prints. */
export function decodeProcAddress(hex: string): string {
  if (hex.length === 8) return wordBytes(hex).join('.');
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 8) bytes.push(...wordBytes(hex.slice(i, i + 8)));
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes.slice(12).join('.')}`; // IPv4-mapped, as ss shows it
  }
  return formatIPv6(groups);
}

/** Listening entries of one /proc/net/{tcp,tcp6,udp,udp6} file. */
export function parseProcNet(text: string, protocol: 'tcp' | 'udp'): SocketEntry[] {
  const want = protocol === 'tcp' ? TCP_LISTEN : UDP_UNCONNECTED;
  const out: SocketEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== want) continue;
    const local = f[1] ?? '';
    const colon = local.lastIndexOf(':');
    if (colon < 0) continue;
    out.push({
      protocol,
      address: decodeProcAddress(local.slice(0, colon)),
      port: parseInt(local.slice(colon + 1), 16),
      inode: Number(f[9]),
    });
  }
  return out;
}

interface Owner {
  pid: number;
  process: string;
}

const INTERPRETERS = /^(node|nodejs|python[\d.]*|perl|ruby|java|bash|sh|dash)$/;

/**
 * The program holding a port, as an operator names it: /proc/PID/comm is the name of the main
 * *thread*, which programs rename (Node calls its own "MainThread"), so the command line comes
 * first: its program, and for an interpreter the script it runs ("node muster.cjs").
 */
export function programName(cmdline: string | null, comm: string | null): string {
  const argv = (cmdline ?? '').split('\0').filter(Boolean);
  const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  if (argv.length) {
    const program = base(argv[0]!);
    const script = argv.slice(1).find((a) => !a.startsWith('-'));
    return INTERPRETERS.test(program) && script ? `${program} ${base(script)}` : program;
  }
  return comm?.trim() ?? '';
}

/**
 * Maps socket inodes to the process holding them by reading /proc/PID/fd links, as ss -p does.
 * Bounded: stops when every inode is found, after maxProcesses processes, maxFdsPerProcess links
 * per process, or when the time budget is spent. Processes we may not read are skipped.
 */
export function findSocketOwners(o: CompiledCollectOptions, inodes: Set<number>): Map<number, Owner> {
  const owners = new Map<number, Owner>();
  const wanted = new Set([...inodes].filter((i) => i > 0));
  if (wanted.size === 0) return owners;
  const deadline = o.now() + o.portScan.budgetMs;
  const pids = o.io.list(o.procRoot).filter((n) => /^\d+$/.test(n)).slice(0, o.portScan.maxProcesses);
  for (const pid of pids) {
    if (wanted.size === 0 || o.now() > deadline) break;
    const fdDir = join(o.procRoot, pid, 'fd');
    const fds = o.io.list(fdDir);
    let name: string | null = null;
    for (const [i, fd] of fds.slice(0, o.portScan.maxFdsPerProcess).entries()) {
      const link = o.io.readLink(join(fdDir, fd));
      if (link === null && i === 0) break; // not ours to read (or gone): skip the whole process
      if (!link?.startsWith('socket:[')) continue;
      const inode = Number(link.slice(8, -1));
      if (!wanted.has(inode)) continue;
      name ??= programName(o.io.readText(join(o.procRoot, pid, 'cmdline')), o.io.readText(join(o.procRoot, pid, 'comm')));
      owners.set(inode, { pid: Number(pid), process: name });
      wanted.delete(inode);
    }
  }
  return owners;
}

export function collectPorts(o: CompiledCollectOptions): PortSection {
  const sockets: SocketEntry[] = [];
  for (const [file, protocol] of [['tcp', 'tcp'], ['tcp6', 'tcp'], ['udp', 'udp'], ['udp6', 'udp']] as const) {
    sockets.push(...parseProcNet(o.io.readText(join(o.procRoot, 'net', file)) ?? '', protocol));
  }
  const owners = findSocketOwners(o, new Set(sockets.map((s) => s.inode)));
  const seen = new Map<string, ListeningPortFact>();
  for (const s of sockets) {
    const key = `${s.protocol} ${s.address} ${s.port}`;
    const owner = owners.get(s.inode);
    const prev = seen.get(key);
    // SO_REUSEPORT groups list one line per socket; keep one, preferring a known owner.
    if (prev && (prev.pid || !owner)) continue;
    seen.set(key, { protocol: s.protocol, address: s.address, port: s.port, process: owner?.process ?? '', pid: owner?.pid ?? 0 });
  }
  const listening = [...seen.values()].sort(
    (a, b) => compareText(a.protocol, b.protocol) || a.port - b.port || compareText(a.address, b.address),
  );
  return { listening };
}

/** Locale-independent order, so the same sockets always give the same list. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
