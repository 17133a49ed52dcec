// A component's command line as data: one row per flag, with the value it takes and the
// Kubernetes minors that accept it, so "which flag on which version" is a table a test can read
// rather than ifs inside a renderer. kubeadm's flag lists are the model (phases/controlplane and
// phases/etcd); rows whose value names a file say so, and the pod mounts exactly those files.

export interface FlagRow<C> {
  /** Without the leading dashes. */
  flag: string;
  /** The value; undefined leaves the flag out for this node. */
  value: (c: C) => string | undefined;
  /** The value is the path of a file the component reads: it is mounted read-only at that path. */
  file?: true;
  /** First Kubernetes minor that takes the flag (inclusive). */
  since?: number;
  /** Last Kubernetes minor that takes it (inclusive): the flag was removed after it. */
  until?: number;
}

export interface BuiltFlags {
  /** "--flag=value", sorted by flag name as kubeadm sorts its defaults. */
  args: string[];
  /** The files the flags name (rows marked `file`), in flag order, without repeats. */
  files: string[];
}

export function appliesTo(row: FlagRow<unknown>, minor: number): boolean {
  return (row.since === undefined || minor >= row.since) && (row.until === undefined || minor <= row.until);
}

export function buildFlags<C>(rows: readonly FlagRow<C>[], minor: number, c: C): BuiltFlags {
  const picked: { flag: string; value: string; file: boolean }[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (!appliesTo(row as FlagRow<unknown>, minor)) continue;
    const value = row.value(c);
    if (value === undefined) continue;
    // Two rows for one flag on the same version is a table bug, never a plan's doing.
    if (seen.has(row.flag)) throw new Error(`flag --${row.flag} is in the table twice for minor ${minor}`);
    seen.add(row.flag);
    picked.push({ flag: row.flag, value, file: row.file === true });
  }
  picked.sort((a, b) => (a.flag < b.flag ? -1 : a.flag > b.flag ? 1 : 0));
  const files: string[] = [];
  for (const p of picked) if (p.file && !files.includes(p.value)) files.push(p.value);
  return { args: picked.map((p) => `--${p.flag}=${p.value}`), files };
}
