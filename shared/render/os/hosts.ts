// /etc/hosts is the operator's file and the distribution's; muster owns only the lines between
// its two marker lines. The renderer returns those lines (a FileSpec with merge 'managed-block');
// mergeManagedBlock puts them into whatever the file holds now, and is what the agent's apply
// engine calls. Pure, so every damaged-file case is a table row in test/render/os.test.ts.
//
// Damaged markers, decided:
// - several complete BEGIN..END pairs (a crash between two writes, a copied file): repaired. The
//   first pair's place gets the new block, the other pairs go; all of them were muster's lines.
// - a BEGIN without an END, an END without a BEGIN, a BEGIN inside a block: refused. Where muster's
//   lines end is then a guess, and a wrong guess deletes the operator's entries; an operator fixes
//   the markers by hand (the error says which line) and the next pass writes the block.
import type { RenderContext } from '../context.ts';
import type { FileSpec } from '../types.ts';
import { FailedPreconditionError } from '../../errors/index.ts';
import { MANAGED_NOTICE } from '../header.ts';

export const HOSTS_FILE = '/etc/hosts';
export const BLOCK_BEGIN = '# BEGIN muster managed block';
export const BLOCK_END = '# END muster managed block';

export class ManagedBlockError extends FailedPreconditionError {
  /** 1-based line of the marker that does not pair up. */
  readonly line: number;
  constructor(line: number, problem: string) {
    super(
      'managed-block-damaged',
      `muster's managed block is damaged: line ${line} ${problem}; fix or delete muster's marker lines ` +
        `("${BLOCK_BEGIN}" / "${BLOCK_END}") by hand, and the agent writes the block again`,
    );
    this.line = line;
  }
}

/** The lines between the markers: the notice, then one line per host entry, in the assignment's order. */
export function renderHostsBlock(ctx: RenderContext): string {
  const lines = [`# ${MANAGED_NOTICE}`];
  for (const e of ctx.a.hosts_entries) {
    for (const field of [e.ip, ...e.names]) {
      // Plan validation admits only addresses and DNS names; anything else here is a muster bug,
      // and would let one entry write arbitrary lines into /etc/hosts.
      if (!field || /[\s#]/.test(field)) throw new Error(`hosts entry field ${JSON.stringify(field)} is not an address or a host name`);
    }
    if (e.names.length) lines.push(`${e.ip} ${e.names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderHosts(ctx: RenderContext): FileSpec {
  return { path: HOSTS_FILE, mode: 0o644, content: renderHostsBlock(ctx), merge: 'managed-block' };
}

const isMarker = (line: string, marker: string) => line.trim() === marker;

/**
 * `existing` with its managed block replaced by `block` (the lines between the markers), the block
 * appended when there is none, or removed when `block` is ''. Lines outside the markers keep
 * their bytes; the new lines use the file's line ending (CRLF when its first line break is).
 * `existing` null (no file) is the empty file. Idempotent.
 */
export function mergeManagedBlock(existing: string | null, block: string): string {
  const text = existing ?? '';
  const firstBreak = text.indexOf('\n');
  const eol = firstBreak > 0 && text[firstBreak - 1] === '\r' ? '\r\n' : '\n';
  const blockLines = block === '' ? [] : block.replace(/\r?\n$/, '').split(/\r?\n/);
  for (const l of blockLines) {
    if (isMarker(l, BLOCK_BEGIN) || isMarker(l, BLOCK_END)) throw new Error('a managed block may not contain muster\'s marker lines');
  }
  const replacement = blockLines.length ? [BLOCK_BEGIN, ...blockLines, BLOCK_END].map((l) => l + eol).join('') : '';

  // Each element keeps its own "\r" (the split is on "\n" only), so untouched lines are
  // rejoined byte for byte.
  const lines = text.split('\n');
  const pairs: [number, number][] = [];
  let open = -1;
  lines.forEach((line, i) => {
    if (isMarker(line, BLOCK_BEGIN)) {
      if (open >= 0) throw new ManagedBlockError(i + 1, `opens a block inside the one opened at line ${open + 1}`);
      open = i;
    } else if (isMarker(line, BLOCK_END)) {
      if (open < 0) throw new ManagedBlockError(i + 1, 'closes a block that was never opened');
      pairs.push([open, i]);
      open = -1;
    }
  });
  if (open >= 0) throw new ManagedBlockError(open + 1, 'opens a block that is never closed');

  if (pairs.length === 0) {
    if (!replacement) return text;
    const sep = text === '' || text.endsWith('\n') ? '' : eol;
    return text + sep + replacement;
  }
  // Rebuild: lines outside every pair, with the replacement where the first pair was. A pair's
  // END line ends with its "\n" unless it is the file's last line without one.
  let out = '';
  let i = 0;
  pairs.forEach(([b, e], n) => {
    out += lines.slice(i, b).map((l) => `${l}\n`).join('');
    if (n === 0) out += replacement;
    i = e + 1;
  });
  const rest = lines.slice(i);
  out += rest.join('\n');
  return out;
}
