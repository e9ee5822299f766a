/**
 * Exact conversions between OTLP 64-bit nanosecond timestamps and epoch milliseconds, without
 * allocating a Long per record (the aggregate hot path reads one timestamp per record).
 */
import type { Long } from '../otlp/model';

/** 2^32 = 4294 · 10^6 + 967296. */
const HI_MS = 4294;
const HI_REST = 967_296;

/**
 * floor(nanos / 10^6), exact for every unsigned 64-bit value; -1 when the time is unset (0),
 * absent or negative. Splitting the high word keeps every intermediate below 2^53: a plain
 * `high * 2^32 + low` as a double is off by up to 256 ns, enough to put a record that arrives a
 * few nanoseconds before a window boundary into the next window.
 */
export function millisFromNanos(v: Long | number | null | undefined): number {
  if (v === null || v === undefined) return -1;
  if (typeof v === 'number') return v > 0 && Number.isFinite(v) ? Math.floor(v / 1e6) : -1;
  const hi = v.high >>> 0;
  const lo = v.low >>> 0;
  if (hi === 0 && lo === 0) return -1;
  if (!v.unsigned && v.high < 0) return -1;
  const rest = hi * HI_REST + lo; // < 2^32 · 967296 + 2^32 < 2^53: exact
  let q = Math.floor(rest / 1e6);
  const r = rest - q * 1e6;
  // The float division may round across an integer; the remainder says which way.
  if (r < 0) q--;
  else if (r >= 1e6) q++;
  return hi * HI_MS + q;
}
