// Free text from other machines (apply errors, probe errors, facts) reaches log lines and CLI
// tables. A newline in it would start a forged log line; an ESC or CSI would drive the operator's
// terminal (colours, cursor moves, window titles). These functions make such characters visible
// instead, with JSON-like escapes, and leave every printable character alone (accents, CJK, emoji).

/**
 * What is escaped: C0 controls and DEL, C1 controls (U+0080-U+009F; U+009B is a one-character CSI
 * on terminals that honour C1), the Unicode line and paragraph separators (some log viewers break
 * lines there), and the bidirectional embeddings, overrides and isolates (they make a line read
 * differently from what it contains).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const CONTROL_ALL = new RegExp(CONTROL.source, 'g');

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function escapeOne(c: string): string {
  const short = SHORT[c];
  if (short) return short;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** "a\nb\u001b[31m" -> "a\\nb\\x1b[31m": every control character as a visible escape. */
export function escapeControl(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROL_ALL, escapeOne) : text;
}

/** The first control character of `text` (as escapeControl sees them), or null. */
export function findControl(text: string): { index: number; char: string } | null {
  const m = CONTROL.exec(text);
  return m ? { index: m.index, char: m[0] } : null;
}

/** "U+001B": how an error message names a character that must not be shown raw. */
export function codePointName(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * escapeControl, then at most `max` characters: a longer text is cut and ends in "…" (counted in
 * `max`). The cut never splits an escape sequence or a surrogate pair.
 */
export function oneLine(text: string, max: number): string {
  const escaped = escapeControl(text);
  if (escaped.length <= max) return escaped;
  if (max < 1) return '';
  let out = '';
  for (const ch of text) {
    const piece = CONTROL.test(ch) ? escapeOne(ch) : ch;
    if (out.length + piece.length > max - 1) break;
    out += piece;
  }
  return `${out}…`;
}
