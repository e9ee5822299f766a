/**
 * `rate_limit`: a token bucket per key (Vector's `throttle`): each key may pass `rate` records
 * per second on average and `burst` at once; the excess is dropped as `rate_limited`.
 *
 * Buckets refill lazily from the processor clock, so no timers are needed. They are kept in an
 * LRU of `max_keys`: a key that falls out starts again with a full bucket, so more active keys
 * than `max_keys` loosen the limit rather than grow memory. Drops are also counted per key in
 * `counts` (olp_processor_events_total) for at most `max_counted_keys` key values, the rest
 * under one overflow event, because every event is a metric series.
 */
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { opt } from '../config/options';
import { OptionError, defineProcessor } from './contract';
import type { AnyValue, LogBatch, LogRecord, Resource, Scope } from '../records/types';
import { anyValueToString } from '../records/values';
import { parseNumber } from './sample';

export const RATE_LIMITED = 'rate_limited';
/** Counts event for drops of key values beyond `max_counted_keys`. */
export const OTHER_KEYS_EVENT = `${RATE_LIMITED}:(other)`;
/** Key values are cut to this length (map keys and metric labels). */
const MAX_KEY_CHARS = 256;

interface Bucket {
  tokens: number;
  /** Clock time of the last refill. */
  last: number;
}

/** Where a key part is read: once per resource, once per scope, or per record. */
type Part =
  | { level: 0; get: (resource: Resource) => AnyValue | string | undefined }
  | { level: 1; get: (scope: Scope) => AnyValue | string | undefined }
  | { level: 2; get: (rec: LogRecord) => AnyValue | string | undefined };

/** Field paths accepted in `key`. */
export function parseKeyPart(path: string): Part | undefined {
  if (path.startsWith('resource.') && path.length > 9) {
    const k = path.slice(9);
    return { level: 0, get: (resource) => resource.attributes.get(k) };
  }
  if (path.startsWith('attributes.') && path.length > 11) {
    const k = path.slice(11);
    return { level: 2, get: (rec) => rec.attributes.get(k) };
  }
  if (path.startsWith('scope.attributes.') && path.length > 17) {
    const k = path.slice(17);
    return { level: 1, get: (scope) => scope.attributes.get(k) };
  }
  switch (path) {
    case 'scope.name':
      return { level: 1, get: (scope) => scope.name };
    case 'severity_text':
      return { level: 2, get: (rec) => rec.severityText };
    case 'severity_number':
      return { level: 2, get: (rec) => String(rec.severityNumber) };
    case 'event_name':
      return { level: 2, get: (rec) => rec.eventName };
    default:
      return undefined;
  }
}

function render(v: AnyValue | string | undefined): string {
  const s = typeof v === 'string' ? v : (v?.stringValue ?? anyValueToString(v));
  return s.length > MAX_KEY_CHARS ? s.slice(0, MAX_KEY_CHARS) : s;
}

export const rateLimitProcessor = defineProcessor({
  name: 'rate_limit',
  summary: 'Token bucket per key (e.g. per service): passes `rate` records per second and bursts of `burst`, drops the excess.',
  parallel: false,
  options: {
    rate: opt.custom<number | undefined>(
      'number',
      parseNumber,
      z.number().positive('must be more than 0').optional(),
      undefined,
      'Records per second each key may pass on average (fractions allowed: 0.5 = one every 2 s). Required.',
      { defaultText: '' },
    ),
    burst: opt.int(0, 'Records a key may pass at once (the bucket size); a new or idle key starts with a full bucket. 0: `rate` rounded up, at least 1.', { min: 0 }),
    key: opt.list(
      ['resource.service.name'],
      'Field paths whose values, together, name a bucket: `resource.<attr>`, `scope.name`, `scope.attributes.<attr>`, `attributes.<attr>`, `severity_text`, `severity_number`, `event_name`. A missing value counts as empty. Empty list: one bucket for everything.',
    ),
    max_keys: opt.int(10_000, 'Most buckets kept (LRU); a key evicted and seen again starts with a full bucket.', { min: 1, max: 10_000_000 }),
    max_counted_keys: opt.int(100, 'Key values whose drops are counted separately as `rate_limited:<value>` events; drops of further values count as `rate_limited:(other)`. 0: only that.', {
      min: 0,
      max: 10_000,
    }),
  },
  create(o, ctx) {
    if (o.rate === undefined) throw new OptionError('rate', 'rate_limit needs a rate (records per second)');
    const ratePerMs = o.rate / 1000;
    const burst = o.burst > 0 ? o.burst : Math.max(1, Math.ceil(o.rate));
    const parts: Part[] = [];
    for (const path of o.key) {
      const part = parseKeyPart(path);
      if (!part) {
        throw new OptionError('key', `unknown field path "${path}" (use resource.<attr>, scope.name, scope.attributes.<attr>, attributes.<attr>, severity_text, severity_number or event_name)`);
      }
      parts.push(part);
    }
    const resourceParts = parts.filter((p) => p.level === 0) as Extract<Part, { level: 0 }>[];
    const scopeParts = parts.filter((p) => p.level === 1) as Extract<Part, { level: 1 }>[];
    const recordParts = parts.filter((p) => p.level === 2) as Extract<Part, { level: 2 }>[];
    // Key parts are joined in a fixed order (resource, scope, record); the order given does not matter.
    const join = (prefix: string, value: string, first: boolean): string => (first ? value : `${prefix}|${value}`);
    const firstAtRecord = resourceParts.length + scopeParts.length === 0;

    const counts = new Map<string, number>();
    let counted = 0;
    let evicted = 0;
    const buckets = new LRUCache<string, Bucket>({
      max: o.max_keys,
      dispose: (_b, _k, reason) => {
        if (reason === 'evict') evicted++;
      },
    });

    const countDrops = (key: string, n: number): void => {
      let event = `${RATE_LIMITED}:${key === '' ? '(none)' : key}`;
      const prev = counts.get(event);
      if (prev === undefined && counted >= o.max_counted_keys) event = OTHER_KEYS_EVENT;
      else if (prev === undefined) counted++;
      counts.set(event, (counts.get(event) ?? 0) + n);
    };

    /** The key's bucket, refilled up to `now`. */
    const refill = (key: string, now: number): Bucket => {
      let b = buckets.get(key);
      if (b === undefined) {
        b = { tokens: burst, last: now };
        buckets.set(key, b);
      } else if (now > b.last) {
        b.tokens = Math.min(burst, b.tokens + (now - b.last) * ratePerMs);
        b.last = now;
      } else if (now < b.last) {
        // The clock stepped back: restart the refill from here, granting nothing.
        b.last = now;
      }
      return b;
    };

    ctx.logger.debug({ rate: o.rate, burst, key: o.key }, 'rate_limit configured');

    return {
      counts,
      thins: true,
      process(batch: LogBatch): void {
        const now = ctx.clock.now();
        let dropsByKey: Map<string, number> | undefined;
        // Resource and scope key parts, rebuilt only when the record's resource or scope object
        // changes (one object per group of records).
        let resource: Resource | undefined;
        let scope: Scope | undefined;
        let rkey = '';
        let skey = '';
        // The bucket of the previous record's key: consecutive records of one key (all of a
        // scope when no part is per record) take their tokens without an LRU lookup each.
        let key: string | undefined;
        let bucket: Bucket | undefined;
        for (const rec of batch) {
          const sc = rec.scope;
          if (sc !== scope) {
            const res = rec.resource;
            if (res !== resource) {
              resource = res;
              rkey = '';
              for (let p = 0; p < resourceParts.length; p++) rkey = join(rkey, render(resourceParts[p]!.get(res)), p === 0);
            }
            scope = sc;
            skey = rkey;
            for (let p = 0; p < scopeParts.length; p++) skey = join(skey, render(scopeParts[p]!.get(sc)), p === 0 && resourceParts.length === 0);
          }
          let k = skey;
          for (let p = 0; p < recordParts.length; p++) k = join(k, render(recordParts[p]!.get(rec)), p === 0 && firstAtRecord);
          if (k !== key || bucket === undefined) {
            key = k;
            bucket = refill(k, now);
          }
          // The epsilon absorbs float drift: ten refills of 0.1 must make a whole token.
          if (bucket.tokens + 1e-9 >= 1) {
            bucket.tokens -= 1;
          } else {
            rec.drop(RATE_LIMITED);
            dropsByKey ??= new Map();
            dropsByKey.set(k, (dropsByKey.get(k) ?? 0) + 1);
          }
        }
        if (dropsByKey) for (const [k, n] of dropsByKey) countDrops(k, n);
        if (evicted > 0) {
          counts.set('buckets_evicted', (counts.get('buckets_evicted') ?? 0) + evicted);
          evicted = 0;
        }
      },
    };
  },
});
