// Writing values into systemd unit files. `%` starts a specifier in every unit setting and `$`
// an environment expansion in Exec lines, so both are doubled; arguments with white space or
// quotes are double-quoted (systemd.syntax(7)).

export function systemdEscape(value: string): string {
  return value.replace(/%/g, '%%');
}

function execArg(arg: string): string {
  const e = systemdEscape(arg).replace(/\$/g, '$$$$');
  return /[\s"'\\;]/.test(e) ? `"${e.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : e;
}

/** An ExecStart= value: the binary and its arguments. */
export function execLine(binary: string, args: readonly string[]): string {
  return [binary, ...args].map(execArg).join(' ');
}
