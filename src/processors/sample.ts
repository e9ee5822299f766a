/**
 * `sample`: probabilistic sampling of log records, as the Collector's probabilistic_sampler
 * (hash_seed mode) and Vector's `sample` do it.
 *
 * - Records at or above `keep_severity` are always kept (errors are what sampling must not lose).
 * - A record with a valid trace id (16 bytes, not all zero) is kept iff
 *   murmur3_32(trace_id, hash_seed) & 0x3fff < floor(rate × 16384), modelled on the Collector's
 *   hash_seed mode (not cross-checked against a Collector), so every log of a trace is kept or
 *   dropped together, on every replica that uses the same seed. The rate's granularity is 1/16384.
 * - Any other record is kept with probability `rate`, drawn from a PRNG owned by the instance
 *   (seeded by `random_seed`, or from crypto when it is 0) so that tests are reproducible.
 * Dropped records are reported as `sampled_out`.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { opt } from '../config/options';
import { OptionError, defineProcessor } from './contract';
import type { LogBatch, LogRecord } from '../records/types';
import { severityFromText } from '../severity/levels';

export const SAMPLED_OUT = 'sampled_out';

/** Hash buckets of the Collector's hash_seed mode (14 bits). */
const HASH_BUCKETS = 0x4000;
const HASH_MASK = HASH_BUCKETS - 1;

const SEVERITY_FLOORS = { none: Infinity, trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 } as const;
type SeverityFloor = keyof typeof SEVERITY_FLOORS;

/** A decimal number (env text or YAML number); range is checked by the schema. */
export function parseNumber(raw: unknown): number {
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
  const s = String(raw).trim();
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i.test(s)) throw new Error(`expected a number, got "${String(raw)}"`);
  return Number(s);
}

function optionalNumber(min: number, max: number, doc: string) {
  return opt.custom<number | undefined>(
    `number ${min}–${max}`,
    parseNumber,
    z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`).optional(),
    undefined,
    doc,
    { defaultText: '' },
  );
}

/** MurmurHash3 x86_32 over bytes (the Collector's computeHash). */
export function murmur3(data: Uint8Array, seed: number): number {
  let h = seed >>> 0;
  const n = data.length;
  const blocks = n & ~3;
  let i = 0;
  for (; i < blocks; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest > 0) {
    let k = data[i]!;
    if (rest > 1) k |= data[i + 1]! << 8;
    if (rest > 2) k |= data[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A trace id worth hashing: 16 bytes, not all zero (the OTLP "invalid" id). */
function validTraceId(id: Uint8Array): boolean {
  if (id.length !== 16) return false;
  for (let i = 0; i < 16; i++) if (id[i] !== 0) return true;
  return false;
}

/** sfc32: small, fast, good enough for sampling; state lives in the processor instance. */
class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number) {
    // splitmix32 spreads a small seed over the state.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 2^32). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
}

function severityOf(rec: LogRecord): number {
  const n = rec.severityNumber;
  if (n !== 0) return n;
  // No number (severity processor not in the chain): read the text so that "ERROR" is still kept.
  const text = rec.severityText;
  return text === '' ? 0 : (severityFromText(text) ?? 0);
}

export const sampleProcessor = defineProcessor({
  name: 'sample',
  summary: 'Keeps a fraction of records: by trace id when there is one (all logs of a trace together), at random otherwise; records at or above a severity are always kept.',
  options: {
    rate: optionalNumber(0, 1, 'Fraction of records to keep (0–1). Required unless `percent` is set.'),
    percent: optionalNumber(0, 100, 'The same as a percentage (0–100), as the Collector\'s `sampling_percentage`; set `rate` or `percent`, not both.'),
    keep_severity: opt.enum(
      Object.keys(SEVERITY_FLOORS) as SeverityFloor[],
      'warn',
      'Records at or above this severity are always kept (`warn`: severity_number ≥ 13, or a severity text such as `ERROR` when the number is unset); `none`: sample every record.',
    ),
    hash_seed: opt.int(0, 'Seed of the trace-id hash. Replicas with the same seed keep the same traces; use different seeds for samplers in series.', { min: 0, max: 0xffffffff }),
    random_seed: opt.int(0, 'Seed of the random draws for records without a trace id; 0 seeds from crypto (set it only for reproducible tests).', { min: 0, max: 0xffffffff }),
    rate_attribute: opt.string('', 'Record attribute set on every kept record to the rate it was kept at (double; 1 for records kept by severity), so downstream counts can be scaled by 1/rate; empty: off.'),
  },
  create(o) {
    if (o.rate !== undefined && o.percent !== undefined) throw new OptionError('percent', 'set either rate or percent, not both');
    if (o.rate === undefined && o.percent === undefined) throw new OptionError('rate', 'sample needs a rate (0–1) or a percent (0–100)');
    const rate = o.rate ?? o.percent! / 100;
    const floor = SEVERITY_FLOORS[o.keep_severity];
    const hashThreshold = Math.floor(rate * HASH_BUCKETS);
    // Compared with a uint32 draw; rate 1 must keep everything, so it is > 2^32 - 1.
    const randomThreshold = rate * 0x1_0000_0000;
    const seed = o.hash_seed >>> 0;
    const prng = new Prng(o.random_seed !== 0 ? o.random_seed : randomBytes(4).readUInt32LE(0));
    const rateAttribute = o.rate_attribute.trim();
    const counts = new Map<string, number>([
      ['kept_severity', 0],
      ['kept_trace', 0],
      ['kept_random', 0],
    ]);

    return {
      counts,
      thins: true,
      process(batch: LogBatch): void {
        let bySeverity = 0;
        let byTrace = 0;
        let byRandom = 0;
        for (const rec of batch) {
          let keep: boolean;
          let sampled = true;
          // keep_severity none: the severity is not read at all.
          if (floor !== Infinity && severityOf(rec) >= floor) {
            keep = true;
            sampled = false;
            bySeverity++;
          } else {
            const traceId = rec.traceId;
            if (validTraceId(traceId)) {
              keep = (murmur3(traceId, seed) & HASH_MASK) < hashThreshold;
              if (keep) byTrace++;
            } else {
              keep = prng.next() < randomThreshold;
              if (keep) byRandom++;
            }
          }
          if (!keep) rec.drop(SAMPLED_OUT);
          else if (rateAttribute !== '') rec.attributes.set(rateAttribute, sampled ? rate : 1);
        }
        counts.set('kept_severity', counts.get('kept_severity')! + bySeverity);
        counts.set('kept_trace', counts.get('kept_trace')! + byTrace);
        counts.set('kept_random', counts.get('kept_random')! + byRandom);
      },
    };
  },
});
