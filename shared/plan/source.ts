// A plan's YAML tree together with where each node sits in the file, so every problem can say
// file:line:column. For a Kismatic plan the tree is the translated (muster-shaped) one, built
// from the original nodes, so positions still point into the Kismatic file; `display` maps a
// muster field path back to the name the user wrote (e.g. internal_ip -> internalip).
import { isAlias, isMap, isScalar, isSeq, isPair, type LineCounter, type Node, type Document } from 'yaml';

export type PathSegment = string | number;

export interface Position {
  line: number;
  column: number;
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** ['worker','nodes',2,'labels','a.b/c'] -> 'worker.nodes[2].labels["a.b/c"]' */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (SIMPLE_KEY.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
  for (const m of path.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(m[3]) as string);
  }
  return out;
}

export class PlanSource {
  readonly file: string;
  readonly text: string;
  /** The muster-shaped tree the checks read. */
  readonly root: Node | null;
  readonly lineCounter: LineCounter;
  /** The document as parsed (the original tree, Kismatic-shaped for a Kismatic file). */
  readonly document: Document.Parsed;
  /** muster path -> the user's path, for translated subtrees of a Kismatic file. */
  readonly pathMap: ReadonlyMap<string, string>;

  constructor(init: { file: string; text: string; root: Node | null; lineCounter: LineCounter; document: Document.Parsed; pathMap?: ReadonlyMap<string, string> }) {
    this.file = init.file;
    this.text = init.text;
    this.root = init.root;
    this.lineCounter = init.lineCounter;
    this.document = init.document;
    this.pathMap = init.pathMap ?? new Map();
  }

  deref(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.document) as Node | undefined) ?? null;
    return (node as Node | null) ?? null;
  }

  /** The value node at a path, or null when any part of it is absent. */
  node(path: string | readonly PathSegment[]): Node | null {
    const segs = typeof path === 'string' ? parsePath(path) : path;
    let cur: Node | null = this.root;
    for (const seg of segs) {
      cur = this.child(cur, seg)?.value ?? null;
      if (!cur) return null;
    }
    return cur;
  }

  /** True when the user wrote this field (with a non-null value). */
  has(path: string | readonly PathSegment[]): boolean {
    const n = this.node(path);
    return n !== null && !(isScalar(n) && n.value === null);
  }

  /**
   * Where to point for a path: the value of a scalar, the key of a collection, the start of a list
   * item; for an absent field, the key of its nearest present parent; 0:0 when nothing is there.
   */
  locate(path: string | readonly PathSegment[]): Position {
    const segs = typeof path === 'string' ? parsePath(path) : path;
    let cur: Node | null = this.root;
    let anchor: Node | null = null;
    for (const seg of segs) {
      const c = this.child(cur, seg);
      if (!c) return this.position(anchor);
      cur = c.value;
      anchor = c.key ?? c.value;
      if (!cur) return this.position(anchor);
    }
    if (cur && (isScalar(cur) && cur.value !== null)) return this.position(cur);
    return this.position(anchor ?? cur);
  }

  display(path: string): string {
    let best = '';
    for (const from of this.pathMap.keys()) {
      if (from.length > best.length && (path === from || path.startsWith(`${from}.`) || path.startsWith(`${from}[`))) best = from;
    }
    return best ? `${this.pathMap.get(best)}${path.slice(best.length)}` : path;
  }

  position(node: Node | null): Position {
    const offset = node?.range?.[0];
    if (offset === undefined) return { line: 0, column: 0 };
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  private child(node: Node | null, seg: PathSegment): { key: Node | null; value: Node | null } | null {
    const n = this.deref(node);
    if (typeof seg === 'number') {
      if (!isSeq(n)) return null;
      const item = n.items[seg];
      return item === undefined ? null : { key: null, value: this.deref(item) };
    }
    if (!isMap(n)) return null;
    for (const pair of n.items) {
      if (!isPair(pair)) continue;
      const key = pair.key as Node | null;
      if (isScalar(key) && String(key.value) === seg) return { key, value: this.deref(pair.value) };
    }
    return null;
  }
}
