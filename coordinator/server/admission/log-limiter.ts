// Rate-limited warn lines. A failed join is worth a warn (a node with a stale token, someone
// guessing), but a stranger can fail a thousand joins a second and must not be able to flood
// the log or fill the disk with it. Per key (a source address): at most `linesPerKey` lines per
// window, then one "... and M more failed joins from X in the last Ys" when the window ends.
// Across all keys: at most `linesTotal` lines per window, the rest folded into one "... from
// K sources" summary, so rotating addresses does not get around it either.
//
// Windows are fixed, starting at a key's first line; summaries are written by `flush()`, which
// the owner calls on a timer (and which `log` calls too), so a source that goes quiet still gets
// its summary. Time comes from an injectable clock.

export interface LogLimiterOptions {
  /** What the summary counts, e.g. "failed joins". */
  what: string;
  /** Where lines go, e.g. `(l) => log.warn(l)`. */
  emit: (line: string) => void;
  /** Lines per key per window. @default 5 */
  linesPerKey?: number;
  /** Lines (summaries included) for all keys together per window. @default 50 */
  linesTotal?: number;
  /** Window length. @default 60000 */
  intervalMs?: number;
  /** Keys tracked at once; the oldest window is summarised and dropped beyond this. @default 1000 */
  maxKeys?: number;
  /** @default Date.now */
  clock?: () => number;
}

interface KeyWindow {
  start: number;
  lines: number;
  suppressed: number;
}

export class LogLimiter {
  readonly #what: string;
  readonly #emit: (line: string) => void;
  readonly #perKey: number;
  readonly #total: number;
  readonly #interval: number;
  readonly #maxKeys: number;
  readonly #clock: () => number;
  /** In window-start order: a key whose window ended is deleted before it starts a new one. */
  readonly #keys = new Map<string, KeyWindow>();
  #global = { start: -Infinity, lines: 0, suppressed: 0, sources: new Set<string>() };

  constructor(o: LogLimiterOptions) {
    this.#what = o.what;
    this.#emit = o.emit;
    this.#perKey = o.linesPerKey ?? 5;
    this.#total = o.linesTotal ?? 50;
    this.#interval = o.intervalMs ?? 60_000;
    this.#maxKeys = o.maxKeys ?? 1000;
    this.#clock = o.clock ?? Date.now;
    if (!(this.#perKey >= 1 && this.#total >= 1 && this.#interval > 0 && this.#maxKeys >= 1)) {
      throw new RangeError(`log limiter for ${o.what}: linesPerKey, linesTotal, intervalMs and maxKeys must be positive`);
    }
  }

  /** Writes `line` unless `key` (or everyone) has used up the window; true when written. */
  log(key: string, line: string): boolean {
    const now = this.#clock();
    this.flush(now);
    let w = this.#keys.get(key);
    if (!w) {
      while (this.#keys.size >= this.#maxKeys) {
        const [oldest, ow] = this.#keys.entries().next().value!;
        this.#keys.delete(oldest);
        this.#summarise(oldest, ow);
      }
      w = { start: now, lines: 0, suppressed: 0 };
      this.#keys.set(key, w);
    }
    if (w.lines >= this.#perKey) {
      w.suppressed++;
      return false;
    }
    if (!this.#spend()) {
      this.#global.suppressed++;
      this.#global.sources.add(key);
      return false;
    }
    w.lines++;
    this.#emit(line);
    return true;
  }

  /** Writes the summaries of windows that have ended by `now`. */
  flush(now = this.#clock()): void {
    // The shared window first, so key summaries below count against the window they are written in.
    const g = this.#global;
    if (now - g.start >= this.#interval) {
      this.#global = { start: now, lines: 0, suppressed: 0, sources: new Set() };
      if (g.suppressed > 0) {
        this.#global.lines++;
        const n = g.sources.size;
        this.#emit(`... and ${g.suppressed} more ${this.#what} from ${n} ${n === 1 ? 'source' : 'sources'} in the last ${this.#seconds()}s`);
      }
    }
    for (const [key, w] of this.#keys) {
      if (now - w.start < this.#interval) break; // later entries started later
      this.#keys.delete(key);
      this.#summarise(key, w);
    }
  }

  #summarise(key: string, w: KeyWindow): void {
    if (w.suppressed === 0) return;
    if (this.#spend()) this.#emit(`... and ${w.suppressed} more ${this.#what} from ${key} in the last ${this.#seconds()}s`);
    else {
      this.#global.suppressed += w.suppressed;
      this.#global.sources.add(key);
    }
  }

  /** Takes one line from the shared window (rolled by `flush`); false when it is used up. */
  #spend(): boolean {
    if (this.#global.lines >= this.#total) return false;
    this.#global.lines++;
    return true;
  }

  #seconds(): string {
    return String(Math.round(this.#interval / 1000));
  }
}
