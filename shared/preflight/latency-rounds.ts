// Latency judged over several probe rounds, not one. A round is the median of a few tries, but
// all of them run within a second or so: one burst of load (a busy peer, a loaded host, a
// collector pause) spoils the whole round, and a node held back by it waits for no reason. So the
// coordinator keeps each target's last LATENCY_ROUNDS round medians and peer-latency judges their
// median. A peer is called slow only once that holds over LATENCY_ROUNDS rounds; a peer within
// the limit passes on its first round, so the common case costs no extra round.
//
// Pure: the coordinator keeps the history (a Map per node) and re-probes while a verdict is open.
import type { LatencyResult } from '../../proto/gen/types/muster/v1/LatencyResult.ts';
import type { ProbeTarget } from '../../proto/gen/types/muster/v1/ProbeTarget.ts';
import type { LatencyRound, PeerLatency } from './types.ts';
import { median } from '../probe/median.ts';
import { num } from './read.ts';

/** Rounds kept per target, and the rounds a "slow" verdict needs. */
export const LATENCY_ROUNDS = 3;

/** Rounds per target, keyed by latencyTargetKey; oldest first. */
export type LatencyHistory = ReadonlyMap<string, readonly LatencyRound[]>;

/** A target is the same target only at the same address and port (a restarted agent may move). */
export function latencyTargetKey(t: ProbeTarget | null | undefined): string {
  return `${t?.node_name ?? ''}|${t?.address ?? ''}|${t?.port ?? 0}`;
}

/**
 * The history after one more round: each target of `latency` gets this round appended (the last
 * `keep` kept); targets not in this round are dropped, so a plan's targets are its history's.
 */
export function addLatencyRound(history: LatencyHistory, latency: readonly LatencyResult[], keep = LATENCY_ROUNDS): Map<string, LatencyRound[]> {
  const next = new Map<string, LatencyRound[]>();
  for (const r of latency) {
    const key = latencyTargetKey(r.target);
    const round: LatencyRound = { median_ms: num(r.median_ms), tries: r.tries ?? 0, error: r.error ?? '' };
    next.set(key, [...(history.get(key) ?? []), round].slice(-Math.max(1, keep)));
  }
  return next;
}

/** This round's results with each target's rounds attached, for the peer-latency check. */
export function withRounds(latency: readonly LatencyResult[], history: LatencyHistory): PeerLatency[] {
  return latency.map((r) => {
    const rounds = history.get(latencyTargetKey(r.target));
    return rounds ? { ...r, rounds: [...rounds] } : { ...r };
  });
}

export interface LatencyVerdict {
  /** The median over the rounds, ms; -1 when most rounds measured nothing. */
  medianMs: number;
  /** The rounds judged (oldest first); one when the result carries no history. */
  rounds: LatencyRound[];
  /** Rounds in which every try failed. */
  failedRounds: number;
  /** The latest error of a failed round, '' when none failed. */
  error: string;
  /** Over the limit, or nothing measured. */
  slow: boolean;
  /**
   * The verdict stands: within the limit, or slow over LATENCY_ROUNDS rounds, or a result
   * without history (inspect, a test): that one round is all there is.
   */
  settled: boolean;
}

/**
 * Judges one target: the median of its rounds, a failed round counting as infinitely slow (so
 * one refused connection among good rounds does not block, and most rounds failing does).
 */
export function judgeLatency(r: PeerLatency, maxMs: number): LatencyVerdict {
  const rounds: LatencyRound[] = r.rounds?.length ? [...r.rounds] : [{ median_ms: num(r.median_ms), tries: r.tries ?? 0, error: r.error ?? '' }];
  const m = median(rounds.map((x) => (x.median_ms < 0 ? Infinity : x.median_ms)));
  const medianMs = Number.isFinite(m) ? m : -1;
  const failed = rounds.filter((x) => x.median_ms < 0);
  const slow = medianMs < 0 || medianMs > maxMs;
  return {
    medianMs,
    rounds,
    failedRounds: failed.length,
    error: failed.at(-1)?.error ?? '',
    slow,
    settled: !r.rounds?.length || !slow || rounds.length >= LATENCY_ROUNDS,
  };
}
