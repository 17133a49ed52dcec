// Every string of a plan, map keys included, is one line of printable text without white space
// at either end. Plan values end up inside systemd units, TOML, JSON, YAML and /etc/hosts on the
// nodes; a newline or a control character there starts a forged line in one of those files, and
// surrounding blanks are what trim()-based parsing accepts while the raw value travels on. The
// renderers quote what they write as well; this makes the plan say so, naming the field.
import { defineCheck, type Reporter } from './check.ts';
import { formatPath, type PathSegment } from '../source.ts';
import { codePointName, findControl } from '../../text/escape.ts';

function checkText(r: Reporter, path: PathSegment[], text: string, what: string): void {
  const c = findControl(text);
  if (c) r.error(formatPath(path), `${what} contains the control character ${codePointName(c.char)} (at ${c.index})`, 'write one line of printable text; quote the value and remove the escape');
  else if (text !== text.trim()) r.error(formatPath(path), `${what} ${JSON.stringify(text)} has white space at its start or end`, `write ${JSON.stringify(text.trim())}`);
}

function walk(r: Reporter, value: unknown, path: PathSegment[]): void {
  if (typeof value === 'string') checkText(r, path, value, 'the value');
  else if (Array.isArray(value)) value.forEach((v, i) => walk(r, v, [...path, i]));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      // internal_ip defaults to ip (compile.ts): report the value once, where it was written.
      if (k === 'internal_ip' && v === (value as { ip?: unknown }).ip) continue;
      checkText(r, [...path, k], k, 'the key');
      walk(r, v, [...path, k]);
    }
  }
}

export const textCheck = defineCheck('text', (ctx, r) => walk(r, ctx.plan, []));
