/** Conversions between OTLP 64-bit nanosecond timestamps (bigint) and epoch milliseconds. */

const NANOS_PER_MS = 1_000_000n;

/**
 * floor(nanos / 10^6), exact for every unsigned 64-bit value; -1 when the time is unset (0).
 * Integer division, not `Number(nanos) / 1e6`: a double is off by up to 256 ns at today's
 * times, enough to put a record that arrives a few nanoseconds before a window boundary into
 * the next window.
 */
export function millisFromNanos(nanos: bigint): number {
  return nanos <= 0n ? -1 : Number(nanos / NANOS_PER_MS);
}

/** Epoch milliseconds (a whole, non-negative number) as nanoseconds. */
export function nanosFromMillis(ms: number): bigint {
  return BigInt(ms) * NANOS_PER_MS;
}
