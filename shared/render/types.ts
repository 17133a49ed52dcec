// What renderers produce: files to put on a node, and what each file's change sets off.
// Renderers are pure (render input in, files out); only the agent's apply engine
// (agent/apply/) touches a disk, restarts a service or reloads sysctl.

/** What a changed file sets off, once the whole change set is on disk. */
export type Trigger =
  /** A systemd unit file or drop-in: `systemctl daemon-reload`, then enable the unit. */
  | { kind: 'unit'; unit: string }
  /** Restart this systemd unit (its config, certificates or unit changed). */
  | { kind: 'restart'; unit: string }
  /** A static pod manifest: the kubelet sees the change by itself. */
  | { kind: 'static-pod' }
  /** `sysctl --system`. */
  | { kind: 'sysctl' }
  /** `systemctl restart systemd-modules-load`. */
  | { kind: 'modules' };

export interface FileSpec {
  /** Absolute path on the node, e.g. /etc/kubernetes/manifests/etcd.yaml. */
  path: string;
  mode: number;
  content: string;
  /** Holds a key or a token: shown redacted in diffs and previews, never logged. */
  secret?: boolean;
  /** What the apply engine does when this file changed (nothing when absent). */
  triggers?: Trigger[];
  /**
   * 'managed-block': `content` is only the lines between muster's markers in a file others own
   * too (/etc/hosts); the apply engine keeps every other line as it is.
   */
  merge?: 'managed-block';
}
