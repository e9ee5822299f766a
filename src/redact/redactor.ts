/**
 * The redaction engine: runs the detectors over every string the processor reaches, replaces
 * what they found with a mask or a keyed hash, and counts replacements per detector.
 *
 * All detectors scan the original string and their spans are merged before anything is
 * replaced (see Spans), so a replacement is never scanned again. Everything that can be
 * prepared is prepared in the constructor; per string the work is the detectors' pre-checks,
 * and per record there are no closures or allocations unless something is replaced.
 */
import { createHmac } from 'node:crypto';
import type { AnyValue, KeyValue, LogRecord, LogsData } from '../otlp/model';
import { anyValueKind, anyValueToString, asString } from '../otlp/values';
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

  redactBatch(batch: LogsData): void {
    const rls = batch.resourceLogs;
    for (let i = 0; i < rls.length; i++) {
      const rl = rls[i]!;
      if (this.resource && rl.resource) this.keyValues(rl.resource.attributes, 0);
      const sls = rl.scopeLogs;
      for (let j = 0; j < sls.length; j++) {
        const recs = sls[j]!.logRecords;
        for (let k = 0; k < recs.length; k++) this.record(recs[k]!);
      }
    }
  }

  record(rec: LogRecord): void {
    const body = rec.body;
    if (body) {
      const r = this.value(body, 0);
      if (r !== undefined) rec.body = r;
    }
    if (rec.attributes.length > 0) this.keyValues(rec.attributes, 0);
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
    // Decoded messages carry prototype defaults: "" and null for the unset members.
    const str = v.stringValue;
    if (typeof str === 'string' && str !== '') {
      const out = this.redactString(str);
      return out === str ? undefined : { stringValue: out };
    }
    const kvs = v.kvlistValue;
    if (kvs) {
      this.keyValues(kvs.values, depth + 1);
      return undefined;
    }
    const arr = v.arrayValue;
    if (arr) {
      const values = arr.values;
      for (let i = 0; i < values.length; i++) {
        const item = values[i];
        if (!item) continue;
        const r = this.value(item, depth + 1);
        if (r !== undefined) values[i] = r;
      }
    }
    return undefined;
  }

  private keyValues(list: KeyValue[], depth: number): void {
    for (let i = 0; i < list.length; i++) {
      const kv = list[i]!;
      const v = kv.value;
      if (!v) continue;
      let r: AnyValue | undefined;
      switch (this.keyAction(kv.key)) {
        case KEY_ALLOW:
          continue;
        case KEY_ATTRIBUTE:
          r = this.whole(v, this.attributeId);
          break;
        case KEY_SECRET:
          // A flag cannot be a credential: `has_token: true` stays.
          r = anyValueKind(v) === 'boolValue' ? undefined : this.whole(v, this.secretId);
          break;
        default:
          r = this.value(v, depth);
      }
      // A new KeyValue rather than a mutation: the old one may be shared with another record.
      if (r !== undefined) list[i] = { key: kv.key, value: r };
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
    const str = asString(v);
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
