// The median the probes use: the agent takes it over one round's tries, the coordinator over a
// target's last few rounds (shared/preflight/latency-rounds.ts). One definition, so both agree on
// even counts (the mean of the middle two).
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
