// The files a demo node's agent wrote under its root, as a short tree per directory: what a
// real node gets, visible without opening every file. Keys are marked, never shown.
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

async function walk(dir: string, out: string[]): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = await stat(p);
    if (st.isDirectory()) await walk(p, out);
    else out.push(p);
  }
}

export async function nodeTree(name: string, root: string, rel: (p: string) => string): Promise<string> {
  const files: string[] = [];
  await walk(root, files);
  const byDir = new Map<string, string[]>();
  for (const f of files) {
    const r = `/${relative(root, f)}`;
    const d = r.slice(0, r.lastIndexOf('/')) || '/';
    const base = r.slice(r.lastIndexOf('/') + 1);
    byDir.set(d, [...(byDir.get(d) ?? []), /\.key$|sa\.key/.test(base) ? `${base} (key, 0600)` : base]);
  }
  const lines = [...byDir].map(([d, names]) => `    ${d}/  ${names.join('  ')}`);
  return `${name}: ${files.length} files under ${rel(root)}\n${lines.join('\n')}\n`;
}
