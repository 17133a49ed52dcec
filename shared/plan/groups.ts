// The node groups of a plan in the order they are checked and printed.
export const GROUP_NAMES = ['etcd', 'master', 'worker'] as const;
export type GroupName = (typeof GROUP_NAMES)[number];
