// Plain text tables for CLI output: left-aligned columns separated by two spaces.
import { escapeControl } from '../text/escape.ts';

/**
 * Cells are escaped: they carry what nodes sent (addresses, apply errors, probe errors), and a
 * newline would break the row, an escape sequence would recolour or rewrite the terminal.
 */
export function formatTable(rawHeaders: string[], rawRows: string[][], paint?: (row: number, column: number, cell: string) => string): string {
  const headers = rawHeaders.map(escapeControl);
  const rows = rawRows.map((r) => r.map((c) => escapeControl(c ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // Colour goes around the cell's text, never its padding, so the columns stay aligned.
  const line = (cells: string[], row: number) =>
    cells
      .map((c, i) => {
        const text = row >= 0 && paint ? paint(row, i, c) : c;
        return i === cells.length - 1 ? text : text + ' '.repeat(widths[i]! - c.length);
      })
      .join('  ')
      .trimEnd();
  return [line(headers, -1), ...rows.map((r, i) => line(r, i))].join('\n');
}

/** `text` broken at spaces into lines of at most `width` (a longer word gets a line of its own); later lines indented. */
export function wrap(text: string, width: number, indent = '    '): string {
  const lead = /^ */.exec(text)![0];
  const lines: string[] = [];
  let line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    const next = line.trim() ? `${line} ${word}` : line + word;
    if (next.length > width && line.trim()) {
      lines.push(line);
      line = indent + word;
    } else line = next;
  }
  lines.push(line);
  return lines.join('\n');
}

/** `text` cut to `max` characters with an ellipsis, or as it is. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}\u2026`;
}

/** "3s ago", "5m ago", "2h ago", "never". */
export function ago(ms: number, now = Date.now()): string {
  if (!ms) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}
