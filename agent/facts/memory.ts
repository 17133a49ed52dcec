// Memory and swap, from /proc/meminfo.
import { join } from 'node:path';
import type { CompiledCollectOptions } from './options.ts';
import type { MemorySection } from './types.ts';

/** /proc/meminfo as bytes by key ("MemTotal" -> 25276514304). Values in kB are converted. */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([\w()]+):\s+(\d+)(?:\s+(kB))?/.exec(line);
    if (m?.[1] && m[2]) out.set(m[1], Number(m[2]) * (m[3] ? 1024 : 1));
  }
  return out;
}

export function memoryFromMeminfo(info: Map<string, number>): MemorySection {
  const total = info.get('MemTotal') ?? 0;
  // MemAvailable exists since Linux 3.14; before that free + page cache is the usual estimate.
  const available = info.get('MemAvailable') ?? (info.get('MemFree') ?? 0) + (info.get('Cached') ?? 0) + (info.get('Buffers') ?? 0);
  const swapTotal = info.get('SwapTotal') ?? 0;
  const swapFree = info.get('SwapFree') ?? 0;
  return {
    total_bytes: total,
    available_bytes: available,
    swap_total_bytes: swapTotal,
    swap_used_bytes: Math.max(0, swapTotal - swapFree),
  };
}

export function collectMemory(o: CompiledCollectOptions): MemorySection {
  return memoryFromMeminfo(parseMeminfo(o.io.readText(join(o.procRoot, 'meminfo')) ?? ''));
}
