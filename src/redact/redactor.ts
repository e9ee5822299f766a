/**
 * The redaction engine: runs the detectors over every string the processor reaches, replaces
 * what they found with a mask or a keyed hash, and counts replacements per detector.
 *
 * All detectors scan the original string and their spans are merged before anything is
 * replaced (see Spans), so a replacement is never scanned again. Everything that can be
 * prepared is prepared in the constructor; per string the work is the detectors' pre-checks,
 * and per record there are no closures or allocations unless something is replaced. Nested
 * values are copied on write: only the path down to a replaced value is new.
 */
import { createHmac } from 'node:crypto';
import type { AnyValue, Attributes, KeyValue, LogBatch, LogRecord, Resource } from '../records/types';
import { anyValueKind, anyValueToString } from '../records/values';
import { isSecretKeyName } from './secrets';
import { Spans, type Detector } from './spans';

export type RedactMode = 'mask' | 'hash';

/** Label of values redacted whole because their key is in `attribute_keys`. */
export const ATTRIBUTE_KEY_LABEL = 'attribute_key';
/** Label of values replaced whole because they nest deeper than MAX_DEPTH (fail closed). */
export const TOO_DEEP_LABEL = 'too_deep';
/** Nesting levels descended into bodies and attribute values; OLP_LIMITS_MAX_DEPTH's default (32) lets nothing deeper in. */
export const MAX_DEPTH = 128;
export const HASH_PREFIX = 'sha256:';
const HASH_HEX_CHARS = 16;
/** The detector name in a mask template. */
export const MASK_PLACEHOLDER = '{detector}';

export interface RedactorSettings {
  /** In priority order. */
  readonly detectors: readonly Detector[];
  readonly mode: RedactMode;
  /** Template; `{detector}` is replaced by the label. */
  readonly mask: string;
  readonly hashKey: string;
  readonly allowKeys: readonly string[];
  readonly attributeKeys: readonly string[];
  /** Redact values of keys that name a secret (on when the secret_kv detector is). */
  readonly secretKeys: boolean;
  readonly resource: boolean;
}

const KEY_SCAN = 0;
const KEY_ALLOW = 1;
const KEY_ATTRIBUTE = 2;
const KEY_SECRET = 3;
const KEY_CACHE_MAX = 4096;

/** Text that starts an already redacted value in this mode: secret_kv skips such values so that redacting twice changes nothing. */
export function redactedPrefixes(mode: RedactMode, mask: string): string[] {
  if (mode === 'hash') return [HASH_PREFIX];
  const i = mask.indexOf(MASK_PLACEHOLDER);
  const prefix = i < 0 ? mask : mask.slice(0, i);
  return prefix === '' ? [] : [prefix];
}

export class Redactor {
  /** Cumulative replacements per label (detector or pattern name, attribute_key, too_deep). */
  readonly counts = new Map<string, number>();
  private readonly detectors: readonly Detector[];
  /** Label and mask text by id: detectors first, then attribute_key, then too_deep. */
  private readonly labels: readonly string[];
  private readonly masks: readonly string[];
  private readonly attributeId: number;
  private readonly tooDeepId: number;
  private readonly secretId: number;
  private readonly hash: boolean;
  private readonly hashKey: string;
  private readonly skipPrefixes: readonly string[];
  private readonly allowKeys: ReadonlySet<string>;
  private readonly attributeKeys: ReadonlySet<string>;
  private readonly secretKeys: boolean;
  private readonly resource: boolean;
  private readonly spans = new Spans();
  // Attribute keys repeat across records: their classification is cached (cleared when full).
  private readonly keyActions = new Map<string, number>();
  // Replacements found in an attribute map, applied after its iteration (reused, emptied after use).
  private readonly pendingKeys: string[] = [];
  private readonly pendingValues: AnyValue[] = [];
  private readonly pendingAt: number[] = [];

  constructor(s: RedactorSettings) {
    this.detectors = s.detectors;
    this.attributeId = s.detectors.length;
    this.tooDeepId = s.detectors.length + 1;
    this.labels = [...s.detectors.map((d) => d.name), ATTRIBUTE_KEY_LABEL, TOO_DEEP_LABEL];
    this.masks = this.labels.map((l) => s.mask.split(MASK_PLACEHOLDER).join(l));
    this.secretId = this.labels.indexOf('secret_kv');
    this.hash = s.mode === 'hash';
    this.hashKey = s.hashKey;
    this.skipPrefixes = redactedPrefixes(s.mode, s.mask);
    this.allowKeys = new Set(s.allowKeys);
    this.attributeKeys = new Set(s.attributeKeys);
    this.secretKeys = s.secretKeys && this.secretId >= 0;
    this.resource = s.resource;
    for (const d of s.detectors) this.counts.set(d.name, 0);
    if (s.attributeKeys.length > 0) this.counts.set(ATTRIBUTE_KEY_LABEL, 0);
  }

  redactBatch(batch: LogBatch): void {
    let resource: Resource | undefined;
    for (const rec of batch) {
      if (this.resource && rec.resource !== resource) {
        // Records of a group share one resource: its attributes are redacted once per group.
        resource = rec.resource;
        if (resource.attributes.size > 0) this.attributes(resource.attributes);
      }
      this.record(rec);
    }
  }

  private record(rec: LogRecord): void {
    const str = rec.bodyString;
    if (str !== undefined) {
      if (str !== '') {
        const out = this.redactString(str);
        if (out !== str) rec.body = { stringValue: out };
      }
    } else {
      const body = rec.body;
      if (body !== undefined) {
        const r = this.value(body, 0);
        if (r !== undefined) rec.body = r;
      }
    }
    const attrs = rec.attributes;
    if (attrs.size > 0) this.attributes(attrs);
  }

  /** The string with every detected span replaced, or `s` itself when nothing was found. */
  redactString(s: string): string {
    const spans = this.spans;
    spans.clear();
    const ds = this.detectors;
    for (let i = 0; i < ds.length; i++) ds[i]!.find(s, spans, i);
    if (spans.length === 0) return s;
    const n = spans.resolve();
    let out = '';
    let pos = 0;
    for (let k = 0; k < n; k++) {
      const a = spans.starts[k]!;
      const b = spans.ends[k]!;
      out += s.slice(pos, a) + this.replacement(spans.ids[k]!, s, a, b);
      pos = b;
    }
    return out + s.slice(pos);
  }

  /** A replacement for `v`, or undefined to keep it. */
  private value(v: AnyValue, depth: number): AnyValue | undefined {
    if (depth > MAX_DEPTH) return this.whole(v, this.tooDeepId);
    const str = v.stringValue;
    if (str !== undefined) {
      if (str === '') return undefined;
      const out = this.redactString(str);
      return out === str ? undefined : { stringValue: out };
    }
    const kvs = v.kvlistValue;
    if (kvs) {
      const values = this.keyValues(kvs.values, depth + 1);
      return values === undefined ? undefined : { kvlistValue: { values } };
    }
    const arr = v.arrayValue;
    if (arr) {
      const values = arr.values;
      let out: AnyValue[] | undefined;
      for (let i = 0; i < values.length; i++) {
        const r = this.value(values[i]!, depth + 1);
        if (r !== undefined) (out ??= values.slice())[i] = r;
      }
      return out === undefined ? undefined : { arrayValue: { values: out } };
    }
    return undefined;
  }

  /** A copy of a map body's entries with replacements, or undefined when nothing is replaced. */
  private keyValues(list: readonly KeyValue[], depth: number): KeyValue[] | undefined {
    let out: KeyValue[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const kv = list[i]!;
      const r = this.entry(kv.key, kv.value, depth);
      if (r !== undefined) (out ??= list.slice())[i] = { key: kv.key, value: r };
    }
    return out;
  }

  /** Redacts an attribute map (record or resource) through its setter. */
  private attributes(attrs: Attributes): void {
    const keys = this.pendingKeys;
    const values = this.pendingValues;
    const at = this.pendingAt;
    // Emptied first too: a throw (caught by the runner) may have left entries behind.
    keys.length = 0;
    values.length = 0;
    at.length = 0;
    let i = 0;
    for (const [key, v] of attrs) {
      const r = this.entry(key, v, 0);
      if (r !== undefined) {
        keys.push(key);
        values.push(r);
        at.push(i);
      }
      i++;
    }
    if (keys.length === 0) return;
    if (this.repeatsPending(attrs)) this.collapse(attrs);
    else for (let k = 0; k < keys.length; k++) attrs.set(keys[k]!, values[k]!);
    keys.length = 0;
    values.length = 0;
    at.length = 0;
  }

  /** Whether a key with a pending replacement occurs more than once in the map (malformed, but received). */
  private repeatsPending(attrs: Attributes): boolean {
    const keys = this.pendingKeys;
    const at = this.pendingAt;
    let j = 0;
    for (const key of attrs.keys()) {
      for (let k = 0; k < keys.length; k++) if (keys[k] === key && at[k] !== j) return true;
      j++;
    }
    return false;
  }

  /**
   * `set` replaces only the first entry of a repeated key, so a later one would keep its
   * secret: the map is rewritten with the replacements and only the first entry of each key
   * (the one `get` answers). Fails closed on malformed input; well-formed maps never get here.
   */
  private collapse(attrs: Attributes): void {
    const entries = [...attrs];
    const keys = this.pendingKeys;
    const values = this.pendingValues;
    const at = this.pendingAt;
    for (let k = 0; k < keys.length; k++) entries[at[k]!] = [keys[k]!, values[k]!];
    attrs.clear();
    for (const [key, value] of entries) if (!attrs.has(key)) attrs.set(key, value);
  }

  /** A replacement for the value of map entry `key`, or undefined to keep it. */
  private entry(key: string, v: AnyValue, depth: number): AnyValue | undefined {
    switch (this.keyAction(key)) {
      case KEY_ALLOW:
        return undefined;
      case KEY_ATTRIBUTE:
        return this.whole(v, this.attributeId);
      case KEY_SECRET:
        // A flag cannot be a credential: `has_token: true` stays.
        return v.boolValue !== undefined ? undefined : this.whole(v, this.secretId);
      default:
        return this.value(v, depth);
    }
  }

  private keyAction(key: string): number {
    let a = this.keyActions.get(key);
    if (a === undefined) {
      if (this.allowKeys.has(key)) a = KEY_ALLOW;
      else if (this.attributeKeys.has(key)) a = KEY_ATTRIBUTE;
      else if (this.secretKeys && isSecretKeyName(key)) a = KEY_SECRET;
      else a = KEY_SCAN;
      if (this.keyActions.size >= KEY_CACHE_MAX) this.keyActions.clear();
      this.keyActions.set(key, a);
    }
    return a;
  }

  /** Replaces a whole value (any type) by one masked or hashed string; unset values and already redacted strings stay. */
  private whole(v: AnyValue, id: number): AnyValue | undefined {
    const kind = anyValueKind(v);
    if (kind === undefined) return undefined;
    const str = v.stringValue;
    if (str !== undefined && (str === '' || this.alreadyRedacted(str))) return undefined;
    const text = str ?? anyValueToString(v);
    return { stringValue: this.replacement(id, text, 0, text.length) };
  }

  private alreadyRedacted(s: string): boolean {
    for (const p of this.skipPrefixes) if (s.startsWith(p)) return true;
    return false;
  }

  /** Mask or hash for text[a, b); the text is only sliced in hash mode. */
  private replacement(id: number, text: string, a: number, b: number): string {
    const label = this.labels[id]!;
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
    if (!this.hash) return this.masks[id]!;
    const value = a === 0 && b === text.length ? text : text.slice(a, b);
    return HASH_PREFIX + hmacHex(this.hashKey, normalizeForHash(label, value)).slice(0, HASH_HEX_CHARS);
  }
}

function hmacHex(key: string, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex');
}

/** The same card or address written differently hashes the same: card digits only, e-mail lower-cased. */
export function normalizeForHash(label: string, text: string): string {
  if (label === 'credit_card') return text.replaceAll(' ', '').replaceAll('-', '');
  if (label === 'email') return text.toLowerCase();
  return text;
}
