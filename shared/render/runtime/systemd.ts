// Writing values into systemd unit files. `%` starts a specifier in every unit setting and `$`
// an environment expansion in Exec lines, so both are doubled; arguments with white space,
// quotes, backslashes or control characters are double-quoted, with C escapes for the controls
// (systemd.syntax(7), systemd.service(5) "Command lines"): a newline in a value would otherwise
// end the line and let the rest be read as a directive of its own.

export function systemdEscape(value: string): string {
  return value.replace(/%/g, '%%');
}

const C_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\', '"': '\\"' };

/** One ExecStart= argument, exactly as the program should receive it. */
export function execArg(arg: string): string {
  const e = systemdEscape(arg).replace(/\$/g, '$$$$');
  if (e !== '' && !/[\s"'\\;\x00-\x1f\x7f]/.test(e)) return e;
  return `"${e.replace(/[\\"\x00-\x1f\x7f]/g, (c) => C_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`;
}

/** An ExecStart= value: the binary and its arguments. */
export function execLine(binary: string, args: readonly string[]): string {
  return [binary, ...args].map(execArg).join(' ');
}
