// Placeholder until the OS renderers land: the managed block of a shared file.
const BEGIN = '# BEGIN muster managed block';
const END = '# END muster managed block';

export function mergeManagedBlock(existing: string | null, block: string): string {
  const text = existing ?? '';
  const lines = text.split('\n');
  const b = lines.indexOf(BEGIN);
  const e = lines.indexOf(END);
  const body = block ? [BEGIN, ...block.replace(/\n$/, '').split('\n'), END] : [];
  if (b >= 0 && e > b) lines.splice(b, e - b + 1, ...body);
  else if (body.length) {
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    lines.push(...body, '');
  }
  return lines.join('\n');
}
