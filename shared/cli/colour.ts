// Colour on a terminal only: never in a pipe or file, never with NO_COLOR set (no-color.org) or
// TERM=dumb. The decision is made once, in processIO; everything else asks the CliIO.
const CODES = { red: '31', yellow: '33', green: '32', bold: '1', dim: '2' } as const;
export type Colour = keyof typeof CODES;

export function colourWanted(isTTY: boolean | undefined, env: Record<string, string | undefined>): boolean {
  if (!isTTY) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}

/** `text` in `colour` when `on`, else unchanged. */
export function paint(on: boolean | undefined, colour: Colour | Colour[], text: string): string {
  if (!on || !text) return text;
  const codes = (Array.isArray(colour) ? colour : [colour]).map((c) => CODES[c]).join(';');
  return `\u001b[${codes}m${text}\u001b[0m`;
}
