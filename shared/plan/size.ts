// Byte sizes in pool requirements: "4GiB", "50GB", "512MiB", or a plain number of bytes.
// Binary (KiB..TiB, also Kubernetes' Ki..Ti) and decimal (KB..TB) units; a plain "B" is bytes.
const UNITS: Record<string, number> = {
  '': 1, B: 1,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
  KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
};

export function parseSize(value: string | number): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(value.trim());
  if (!m?.[1]) return null;
  const unit = UNITS[m[2] ?? ''];
  if (unit === undefined) return null;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** The largest unit that spells a byte count exactly: 4294967296 -> "4GiB", 8e9 -> "8GB". */
export function formatSize(bytes: number): string {
  if (bytes === 0) return '0';
  for (const unit of ['TiB', 'TB', 'GiB', 'GB', 'MiB', 'MB', 'KiB', 'KB'] as const) {
    const n = UNITS[unit] ?? 1;
    if (bytes % n === 0) return `${bytes / n}${unit}`;
  }
  return String(bytes);
}
