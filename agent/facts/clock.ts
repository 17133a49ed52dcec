// Clock offset between the node and the coordinator, measured NTP style over one Report call.

export interface ClockMeasurement {
  /** Node clock minus coordinator clock. Positive: the node is ahead. */
  offset_ms: number;
  round_trip_ms: number;
}

/**
 * The coordinator stamped serverTimeMs somewhere between the node's sentAtMs and receivedAtMs;
 * assuming the middle (symmetric network delay, as NTP does), the node's clock read
 * (sent + received) / 2 at that instant. The error is at most half the round trip.
 */
export function clockOffset(sentAtMs: number, serverTimeMs: number, receivedAtMs: number): ClockMeasurement {
  // A clock step between send and receive can make the interval negative; treat it as zero.
  const roundTrip = Math.max(0, receivedAtMs - sentAtMs);
  const offset = sentAtMs + roundTrip / 2 - serverTimeMs;
  return { offset_ms: offset, round_trip_ms: roundTrip };
}
