// A unified line diff (the format of `diff -u` and git) for plan history: Myers' O(ND) algorithm
// after trimming the common prefix and suffix. Past MAX_EDITS differing lines it stops looking
// for the shortest script and shows the differing middle as removed-then-added, which is still a
// correct diff and keeps time and memory bounded on unrelated files.

const CONTEXT = 3;
const MAX_EDITS = 2000;
const NO_EOL = '\\ No newline at end of file';

type Op = 0 | 1 | 2; // keep, delete, insert

/** Unified diff of two texts; "" when they are equal. */
export function diffText(oldText: string, newText: string, oldName: string, newName: string): string {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  const ops = editScript(a, b);
  if (!ops.some((op) => op !== 0)) return '';

  const out: string[] = [`--- ${oldName}`, `+++ ${newName}`];
  // oldAt[i] / newAt[i]: lines of each side before op i.
  const oldAt = new Int32Array(ops.length + 1);
  const newAt = new Int32Array(ops.length + 1);
  ops.forEach((op, i) => {
    oldAt[i + 1] = oldAt[i]! + (op !== 2 ? 1 : 0);
    newAt[i + 1] = newAt[i]! + (op !== 1 ? 1 : 0);
  });
  const changes: number[] = [];
  ops.forEach((op, i) => op !== 0 && changes.push(i));
  for (let i = 0; i < changes.length; ) {
    let j = i;
    while (j + 1 < changes.length && changes[j + 1]! - changes[j]! - 1 <= 2 * CONTEXT) j++;
    const from = Math.max(0, changes[i]! - CONTEXT);
    const to = Math.min(ops.length, changes[j]! + CONTEXT + 1);
    const oldCount = oldAt[to]! - oldAt[from]!;
    const newCount = newAt[to]! - newAt[from]!;
    out.push(`@@ -${range(oldAt[from]!, oldCount)} +${range(newAt[from]!, newCount)} @@`);
    for (let k = from; k < to; k++) {
      const op = ops[k]!;
      const line = op === 2 ? b[newAt[k]!]! : a[oldAt[k]!]!;
      const ends = line.endsWith('\n'); // only the last line of a text without a final newline
      out.push(`${op === 0 ? ' ' : op === 1 ? '-' : '+'}${ends ? line.slice(0, -1) : line}`);
      if (ends) out.push(NO_EOL);
    }
    i = j + 1;
  }
  return `${out.join('\n')}\n`;
}

/** GNU's hunk range: "start,count", "start" when count is 1, and the line before when count is 0. */
function range(before: number, count: number): string {
  if (count === 1) return String(before + 1);
  return `${count === 0 ? before : before + 1},${count}`;
}

/**
 * Lines without their "\n"; a last line that had no "\n" keeps a trailing "\n" as a marker, so
 * it differs from the same text with a newline (no line can otherwise contain one).
 */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else lines[lines.length - 1] += '\n';
  return lines;
}

function editScript(a: readonly string[], b: readonly string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const ids = new Map<string, number>();
  const id = (s: string) => ids.get(s) ?? (ids.set(s, ids.size), ids.size - 1);
  const x = Int32Array.from(a.slice(head, a.length - tail), id);
  const y = Int32Array.from(b.slice(head, b.length - tail), id);
  const middle = myers(x, y) ?? [...new Array<Op>(x.length).fill(1), ...new Array<Op>(y.length).fill(2)];
  return [...new Array<Op>(head).fill(0), ...middle, ...new Array<Op>(tail).fill(0)];
}

/** Shortest edit script from a to b, or null when it needs more than MAX_EDITS edits. */
function myers(a: Int32Array, b: Int32Array): Op[] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  v[off + 1] = 0;
  // trace[d] = v[-(d+1) .. d+1] as it was when step d started.
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let xi = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let yi = xi - k;
      while (xi < n && yi < m && a[xi] === b[yi]) {
        xi++;
        yi++;
      }
      v[off + k] = xi;
      if (xi >= n && yi >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return null;

  const ops: Op[] = [];
  let xi = n;
  let yi = m;
  for (let d = found; d >= 0; d--) {
    const t = trace[d]!;
    const at = (k: number) => t[k + d + 1]!;
    const k = xi - yi;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (xi > prevX && yi > prevY) {
      ops.push(0);
      xi--;
      yi--;
    }
    if (d > 0) ops.push(xi === prevX ? 2 : 1);
    xi = prevX;
    yi = prevY;
  }
  return ops.reverse();
}
