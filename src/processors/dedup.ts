/**
 * `dedup`: collapses identical records seen within a time window, like the Collector's
 * logdedup and Vector's dedupe.
 *
 * Processors keep no timers, so nothing can be emitted when a window ends (the Collector's
 * logdedup emits one record with `log_count` then). Instead windows are fixed and start with
 * the record that passes:
 * - the first record of a kind passes unchanged and opens a window of `window` length;
 * - identical records arriving inside the window are dropped (`deduplicated`) and counted;
 * - the first identical record arriving after the window passes, carrying `count_attribute`
 *   = the number suppressed in the previous window (absent when none was), and opens a new one.
 * So a line repeating forever leaves at most one record per window. A count whose kind never
 * recurs (or whose entry was evicted) is only visible in the drop metrics.
 *
 * Time is the processor clock at arrival, not the records' timestamps (those may be skewed or
 * out of order). Identity is a 53-bit hash of the chosen fields, never of timestamps, trace or
 * span ids or flags; attribute order does not matter, a structured body's key order does.
 */
import { TEMPLATE_NEW_ATTRIBUTE } from './aggregate';
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { opt } from '../config/options';
import { OptionError, defineProcessor } from './contract';
import type { AnyValue, Attributes, LogBatch, Resource, Scope } from '../records/types';
import { anyValueKind } from '../records/values';

export const DEDUPLICATED = 'deduplicated';

export const DEDUP_FIELDS = ['resource', 'scope', 'event_name', 'severity', 'severity_number', 'severity_text', 'body', 'attributes'] as const;
type Field = (typeof DEDUP_FIELDS)[number];

/**
 * Two-lane multiplicative hash (cyrb53's mixing), fed incrementally so that no key string is
 * built per record. Seeded per instance so that colliding inputs cannot be prepared offline.
 */
class Hasher {
  h1 = 0;
  h2 = 0;

  reset(h1: number, h2: number): void {
    this.h1 = h1;
    this.h2 = h2;
  }

  /**
   * One 32-bit input. The shift after each multiply carries high bits down: multiplication alone
   * only moves differences upwards, so inputs differing in their high bits (an int's two halves,
   * -1 against 1) collided for one seed in four.
   */
  code(c: number): void {
    const a = Math.imul(this.h1 ^ c, 2654435761);
    const b = Math.imul(this.h2 ^ c, 1597334677);
    this.h1 = a ^ (a >>> 15);
    this.h2 = b ^ (b >>> 15);
  }

  /** Length-prefixed, so that ("ab","c") and ("a","bc") differ. */
  str(s: string): void {
    const n = s.length;
    this.code(n & 0xffff);
    this.code(n >>> 16);
    // Locals, not fields, in the per-character loop: several times faster.
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
      h1 ^= h1 >>> 15;
      h2 ^= h2 >>> 15;
    }
    this.h1 = h1;
    this.h2 = h2;
  }

  value(v: AnyValue | undefined): void {
    const kind = anyValueKind(v);
    switch (kind) {
      case 'stringValue':
        this.code(1);
        this.str(v!.stringValue!);
        break;
      case 'intValue': {
        const n = v!.intValue!;
        this.code(2);
        this.code(Number(BigInt.asIntN(32, n)));
        this.code(Number(BigInt.asIntN(32, n >> 32n)));
        break;
      }
      case 'boolValue':
        this.code(v!.boolValue ? 4 : 3);
        break;
      case 'doubleValue':
        this.code(5);
        this.str(String(v!.doubleValue));
        break;
      case 'bytesValue': {
        const b = v!.bytesValue!;
        this.code(6);
        this.code(b.length);
        for (let i = 0; i < b.length; i++) this.code(b[i]!);
        break;
      }
      case 'arrayValue': {
        const values = v!.arrayValue!.values;
        this.code(7);
        this.code(values.length);
        for (let i = 0; i < values.length; i++) this.value(values[i]);
        break;
      }
      case 'kvlistValue': {
        const values = v!.kvlistValue!.values;
        this.code(8);
        this.code(values.length);
        for (let i = 0; i < values.length; i++) {
          this.str(values[i]!.key);
          this.value(values[i]!.value);
        }
        break;
      }
      default:
        this.code(0);
    }
  }

  digest(): number {
    let h1 = this.h1;
    let h2 = this.h2;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return 4294967296 * (2097151 & h2) + (h1 >>> 0);
  }
}

interface Entry {
  /** Clock time the current window opened. */
  start: number;
  /** Records dropped in the current window. */
  suppressed: number;
}

export const dedupProcessor = defineProcessor({
  name: 'dedup',
  summary: 'Drops records identical to one passed within a time window; the next one after the window carries how many were dropped.',
  parallel: false,
  options: {
    window: opt.duration('10s', 'Length of a window, opened by the record that passes. Measured with the processor clock at arrival, not record timestamps.', { min: 1 }),
    fields: opt.list(
      ['resource', 'scope', 'event_name', 'severity', 'body', 'attributes'],
      `What makes records identical, from: ${DEDUP_FIELDS.map((f) => `\`${f}\``).join(', ')} (\`severity\` = number and text; \`resource\`/\`scope\` = their attributes, scope name and version). Timestamps, trace/span ids and flags never count.`,
    ),
    exclude_attributes: opt.list([], 'Record attribute keys ignored when comparing (volatile values such as request ids); needs `attributes` in `fields`.'),
    count_attribute: opt.string('log.dedup.count', 'Record attribute (int) set on the first record after a window to the number of identical records dropped in that window; empty: off.'),
    max_entries: opt.int(10_000, 'Most distinct records remembered (LRU); the least recently seen is forgotten first, losing its unreported count.', { min: 1, max: 10_000_000 }),
  },
  create(o, ctx) {
    const fields = new Set<Field>();
    for (const f of o.fields) {
      if (!(DEDUP_FIELDS as readonly string[]).includes(f)) throw new OptionError('fields', `unknown field "${f}" (known: ${DEDUP_FIELDS.join(', ')})`);
      fields.add(f as Field);
    }
    if (fields.size === 0) throw new OptionError('fields', 'needs at least one field');
    const exclude = new Set(o.exclude_attributes);
    if (exclude.size > 0 && !fields.has('attributes')) throw new OptionError('exclude_attributes', 'has no effect unless `attributes` is in fields');
    const countAttribute = o.count_attribute.trim();
    if (countAttribute !== '' && fields.has('attributes') && !exclude.has(countAttribute)) {
      // A record that carries a count must still be identical to the others of its kind.
      exclude.add(countAttribute);
    }
    // Likewise the first record of a template that `aggregate` flagged as new.
    if (fields.has('attributes')) exclude.add(TEMPLATE_NEW_ATTRIBUTE);
    const windowMs = o.window;
    const byResource = fields.has('resource');
    const byScope = fields.has('scope');
    const byEventName = fields.has('event_name');
    const bySevNumber = fields.has('severity') || fields.has('severity_number');
    const bySevText = fields.has('severity') || fields.has('severity_text');
    const byBody = fields.has('body');
    const byAttributes = fields.has('attributes');

    const seed = randomBytes(8);
    const seed1 = seed.readUInt32LE(0);
    const seed2 = seed.readUInt32LE(4);
    const h = new Hasher();
    const sub = new Hasher();
    /** Order-independent: per-attribute hashes are summed (duplicated keys are the sender's problem). */
    const attributes = (attrs: Attributes, skip: ReadonlySet<string> | undefined): void => {
      let s1 = 0;
      let s2 = 0;
      let n = 0;
      for (const [key, value] of attrs) {
        if (skip !== undefined && skip.has(key)) continue;
        sub.reset(seed1, seed2);
        sub.str(key);
        sub.value(value);
        s1 = (s1 + sub.h1) | 0;
        s2 = (s2 + sub.h2) | 0;
        n++;
      }
      h.code(n);
      h.code(s1);
      h.code(s2);
    };

    const counts = new Map<string, number>([
      ['reported', 0],
      ['evicted_unreported', 0],
    ]);
    const entries = new LRUCache<number, Entry>({
      max: o.max_entries,
      dispose: (entry, _key, reason) => {
        if (reason === 'evict' && entry.suppressed > 0) counts.set('evicted_unreported', counts.get('evicted_unreported')! + entry.suppressed);
      },
    });
    ctx.logger.debug({ windowMs, fields: [...fields], maxEntries: o.max_entries }, 'dedup configured');

    return {
      counts,
      thins: true,
      process(batch: LogBatch): void {
        const now = ctx.clock.now();
        let reported = 0;
        // Resource and scope hashes, recomputed only when the record's resource or scope object
        // changes (one object per group of records).
        let resource: Resource | undefined;
        let scope: Scope | undefined;
        let r1 = 0;
        let r2 = 0;
        let s1 = 0;
        let s2 = 0;
        for (const rec of batch) {
          const sc = rec.scope;
          if (sc !== scope) {
            const res = rec.resource;
            if (res !== resource) {
              resource = res;
              h.reset(seed1, seed2);
              if (byResource) attributes(res.attributes, undefined);
              r1 = h.h1;
              r2 = h.h2;
            }
            scope = sc;
            h.reset(r1, r2);
            if (byScope) {
              h.str(sc.name);
              h.str(sc.version);
              attributes(sc.attributes, undefined);
            }
            s1 = h.h1;
            s2 = h.h2;
          }
          h.reset(s1, s2);
          if (byEventName) h.str(rec.eventName);
          if (bySevNumber) h.code(rec.severityNumber);
          if (bySevText) h.str(rec.severityText);
          if (byBody) {
            // The string body without building a value; other bodies decoded.
            const text = rec.bodyString;
            if (text !== undefined) {
              h.code(1);
              h.str(text);
            } else h.value(rec.body);
          }
          if (byAttributes) attributes(rec.attributes, exclude);
          const key = h.digest();
          const entry = entries.get(key);
          if (entry === undefined) {
            entries.set(key, { start: now, suppressed: 0 });
          } else if (now - entry.start < windowMs && now >= entry.start) {
            entry.suppressed++;
            rec.drop(DEDUPLICATED);
          } else {
            // Window over (or the clock stepped back): this record passes and reports the last window.
            if (entry.suppressed > 0 && countAttribute !== '') {
              rec.attributes.set(countAttribute, BigInt(entry.suppressed));
              reported++;
            }
            entry.start = now;
            entry.suppressed = 0;
          }
        }
        if (reported > 0) counts.set('reported', counts.get('reported')! + reported);
      },
    };
  },
});
