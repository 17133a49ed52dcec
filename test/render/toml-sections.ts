// Reads the TOML that containerd writes (`config dump`) and muster's own config.toml into
// table -> key -> raw value, enough to assert on settings without a TOML library: both are one
// `key = value` per line under `[table]` headers.
export type Sections = Map<string, Map<string, string>>;

const unquote = (t: string) => t.replace(/'([^']*)'|"((?:[^"\\]|\\.)*)"/g, (_m, a: string | undefined, b: string | undefined) => `"${a ?? b}"`);

export function tomlSections(text: string): Sections {
  const out: Sections = new Map([['', new Map()]]);
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const t = /^\[([^\]]+|.+)\]$/.exec(line);
    if (t && !line.includes('=')) {
      table = unquote(t[1]!.trim());
      if (!out.has(table)) out.set(table, new Map());
      continue;
    }
    const kv = /^([A-Za-z0-9_."'-]+)\s*=\s*(.*)$/.exec(line);
    if (kv) out.get(table)!.set(kv[1]!, unquote(kv[2]!.trim()));
  }
  return out;
}

export function value(s: Sections, table: string, key: string): string | undefined {
  return s.get(table)?.get(key);
}
