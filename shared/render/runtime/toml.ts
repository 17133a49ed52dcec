// The two TOML value forms muster's containerd files need, written by hand rather than through a
// TOML library: config.toml and hosts.toml are a handful of fixed tables, and a hand-written file
// keeps its comments and its table order, which a serialiser would not.

/** A TOML basic string. JSON's escapes are all valid TOML; DEL is the one control JSON leaves raw. */
export function tomlString(s: string): string {
  return JSON.stringify(s).replace(/\x7f/g, '\\u007f');
}

export function tomlStringArray(items: readonly string[]): string {
  return `[${items.map(tomlString).join(', ')}]`;
}
