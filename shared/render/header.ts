// Every file muster renders says so at the top, in the file's own comment syntax, so an operator
// who opens it knows that a hand edit is undone at the agent's next pass (drift repair) and where
// to see what muster would write instead.
export const MANAGED_NOTICE = 'Managed by muster-agent: changes here are undone. Preview with `muster render --node NAME`.';

/** The notice as comment lines for `#`-comment formats (YAML, TOML, systemd units, sysctl). */
export function hashHeader(what?: string): string {
  // A value in `what` (a pool CIDR, label keys) stays on its comment line whatever it holds.
  return `# ${MANAGED_NOTICE}\n${what ? `# ${what.replace(/[\r\n\u2028\u2029]+/g, ' ')}\n` : ''}`;
}
