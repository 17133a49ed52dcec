// Plain text tables for CLI output: left-aligned columns separated by two spaces.
import { escapeControl } from '../text/escape.ts';

/**
 * Cells are escaped: they carry what nodes sent (addresses, apply errors, probe errors), and a
 * newline would break the row, an escape sequence would recolour or rewrite the terminal.
 */
export function formatTable(rawHeaders: string[], rawRows: string[][]): string {
  const headers = rawHeaders.map(escapeControl);
  const rows = rawRows.map((r) => r.map((c) => escapeControl(c ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
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
