// What a renderer produces: files to put on a node. Renderers are pure (assignment + facts in,
// files out); only the agent's apply engine touches a disk.
export interface FileSpec {
  /** Absolute path on the node, e.g. /etc/muster/assignment.yaml. */
  path: string;
  mode: number;
  content: string;
}
