// Go's time.ParseDuration syntax ("17520h", "8760h30m", "1.5h"), because Kismatic plans and
// Kubernetes tooling write certificate lifetimes that way. Returns milliseconds, or null when the
// text is not a Go duration.
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export function parseGoDuration(text: string): number | null {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return null;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (!m?.[1] || !m[2]) return null;
    total += Number(m[1]) * (UNIT_MS[m[2]] ?? NaN);
  }
  return Number.isFinite(total) ? sign * total : null;
}

/** A Go duration in whole seconds ("30s", "2m"), or null when it is none or has a fraction of a second ("1.5s", "500ms"). */
export function wholeSecondsOf(text: string): number | null {
  const ms = parseGoDuration(text);
  if (ms === null) return null;
  const s = Math.round(ms / 1000);
  return Math.abs(ms - s * 1000) < 1e-6 ? s : null;
}

/** Milliseconds as a short human figure for messages: "2y 0d", "365d", "12h". */
export function describeMs(ms: number): string {
  const hours = ms / 3_600_000;
  if (hours >= 48) return `${Math.round((hours / 24) * 10) / 10} days`;
  return `${Math.round(hours * 10) / 10} hours`;
}
