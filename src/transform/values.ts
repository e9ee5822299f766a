/** Value operations of the `transform` processor: type conversion, UTF-8 truncation, hashing, deep clone and equality. */
import { hash } from 'node:crypto';
import Long from 'long';
import type { AnyValue } from '../otlp/model';
import { anyValueKind, anyValueToString } from '../otlp/values';

export const CONVERT_TYPES = ['string', 'int', 'double', 'bool'] as const;
export type ConvertType = (typeof CONVERT_TYPES)[number];

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TWO_63 = 2 ** 63;
const INT_TEXT = /^\s*[+-]?\d+\s*$/;
const FLOAT_TEXT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/**
 * `v` converted to `type`: the same object when it already has that type, undefined when it
 * cannot be converted (structured and bytes values, unparsable text, out-of-range numbers).
 * 64-bit ints go through BigInt/strings only, so values beyond 2^53 stay exact.
 */
export function convertValue(v: AnyValue, type: ConvertType): AnyValue | undefined {
  const kind = anyValueKind(v);
  switch (type) {
    case 'string':
      if (kind === 'stringValue') return v;
      if (kind === 'intValue' || kind === 'doubleValue' || kind === 'boolValue') return { stringValue: anyValueToString(v) };
      return undefined;
    case 'int':
      if (kind === 'intValue') return v;
      if (kind === 'boolValue') return { intValue: v.boolValue ? Long.ONE : Long.ZERO };
      if (kind === 'stringValue') {
        const s = v.stringValue!;
        if (!INT_TEXT.test(s)) return undefined;
        // Up to 15 characters is at most 15 digits, below 2^53: a JS number is exact and much faster.
        if (s.length <= 15) return { intValue: Long.fromNumber(Number(s)) };
        return intFromBigInt(BigInt(s.trim()));
      }
      if (kind === 'doubleValue') {
        // Truncates toward zero, as OTTL's Int() does.
        const d = v.doubleValue!;
        if (!Number.isFinite(d) || d >= TWO_63 || d < -TWO_63) return undefined;
        const t = Math.trunc(d);
        return Number.isSafeInteger(t) ? { intValue: Long.fromNumber(t) } : intFromBigInt(BigInt(t));
      }
      return undefined;
    case 'double':
      if (kind === 'doubleValue') return v;
      if (kind === 'intValue') return { doubleValue: toDouble(v.intValue!) };
      if (kind === 'boolValue') return { doubleValue: v.boolValue ? 1 : 0 };
      if (kind === 'stringValue') return FLOAT_TEXT.test(v.stringValue!) ? { doubleValue: Number(v.stringValue!.trim()) } : undefined;
      return undefined;
    case 'bool':
      if (kind === 'boolValue') return v;
      if (kind === 'intValue') return { boolValue: !v.intValue!.isZero() };
      if (kind === 'doubleValue') return Number.isNaN(v.doubleValue) ? undefined : { boolValue: v.doubleValue !== 0 };
      if (kind === 'stringValue') {
        const s = v.stringValue!.trim().toLowerCase();
        if (s === 'true' || s === '1') return { boolValue: true };
        if (s === 'false' || s === '0') return { boolValue: false };
      }
      return undefined;
  }
}

/** Nearest double; exact below 2^53, and rounded once (via the decimal string) above. */
function toDouble(l: Long): number {
  return l.high >= -0x200000 && l.high < 0x200000 && !l.unsigned ? l.toNumber() : Number(l.toString());
}

function intFromBigInt(b: bigint): AnyValue | undefined {
  if (b < INT64_MIN || b > INT64_MAX) return undefined;
  return { intValue: Long.fromString(b.toString()) };
}

/** `s` cut to at most `maxBytes` UTF-8 bytes, never inside a code point (a surrogate pair is one 4-byte code point). */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s; // one UTF-16 unit is at most 3 UTF-8 bytes
  if (s.length <= maxBytes && Buffer.byteLength(s) <= maxBytes) return s;
  if (s.length > maxBytes) {
    // Fast path: a prefix of maxBytes units that is maxBytes bytes is all ASCII, hence the answer.
    const prefix = s.slice(0, maxBytes);
    if (Buffer.byteLength(prefix) === maxBytes) return prefix;
  }
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let n = 3;
    let pair = false;
    if (c < 0x80) n = 1;
    else if (c < 0x800) n = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n = 4;
      pair = true;
    }
    if (bytes + n > maxBytes) return s.slice(0, i);
    bytes += n;
    if (pair) i++;
  }
  return s;
}

/** Truncates a string value, or the string elements of an array value; other values come back unchanged (same object). */
export function truncateValue(v: AnyValue, maxBytes: number): AnyValue {
  const kind = anyValueKind(v);
  if (kind === 'stringValue') {
    const s = v.stringValue!;
    const t = truncateUtf8(s, maxBytes);
    return t === s ? v : { stringValue: t };
  }
  if (kind === 'arrayValue') {
    const values = v.arrayValue!.values;
    let out: AnyValue[] | undefined;
    for (let i = 0; i < values.length; i++) {
      const e = values[i]!;
      const t = anyValueKind(e) === 'stringValue' ? truncateValue(e, maxBytes) : e;
      if (t !== e && !out) out = values.slice(0, i);
      if (out) out.push(t);
    }
    return out ? { arrayValue: { values: out } } : v;
  }
  return v;
}

/** Lower-case hex SHA-256 of the value's string form (bytes values: of the bytes themselves). */
export function hashValue(v: AnyValue): string {
  if (anyValueKind(v) === 'bytesValue') return hash('sha256', v.bytesValue!, 'hex');
  return hash('sha256', anyValueToString(v), 'hex');
}

/** Deep copy, so that records never share value objects. Longs are immutable and shared. */
export function cloneValue(v: AnyValue): AnyValue {
  switch (anyValueKind(v)) {
    case 'stringValue':
      return { stringValue: v.stringValue! };
    case 'intValue':
      return { intValue: v.intValue! };
    case 'boolValue':
      return { boolValue: v.boolValue! };
    case 'doubleValue':
      return { doubleValue: v.doubleValue! };
    case 'bytesValue':
      return { bytesValue: Uint8Array.from(v.bytesValue!) };
    case 'arrayValue':
      return { arrayValue: { values: v.arrayValue!.values.map(cloneValue) } };
    case 'kvlistValue':
      return { kvlistValue: { values: v.kvlistValue!.values.map((kv) => ({ key: kv.key, value: kv.value ? cloneValue(kv.value) : null })) } };
    default:
      return {};
  }
}

/** Deep equality of two values (same type and content; kvlists compare in order). */
export function valuesEqual(a: AnyValue | null | undefined, b: AnyValue | null | undefined): boolean {
  if (a === b) return true;
  const kind = anyValueKind(a);
  if (kind !== anyValueKind(b)) return false;
  switch (kind) {
    case undefined:
      return true;
    case 'stringValue':
      return a!.stringValue === b!.stringValue;
    case 'intValue':
      return a!.intValue!.toString() === b!.intValue!.toString();
    case 'boolValue':
      return a!.boolValue === b!.boolValue;
    case 'doubleValue':
      return Object.is(a!.doubleValue, b!.doubleValue);
    case 'bytesValue':
      return Buffer.from(a!.bytesValue!).equals(b!.bytesValue!);
    case 'arrayValue': {
      const x = a!.arrayValue!.values;
      const y = b!.arrayValue!.values;
      return x.length === y.length && x.every((e, i) => valuesEqual(e, y[i]));
    }
    case 'kvlistValue': {
      const x = a!.kvlistValue!.values;
      const y = b!.kvlistValue!.values;
      return x.length === y.length && x.every((kv, i) => kv.key === y[i]!.key && valuesEqual(kv.value, y[i]!.value));
    }
  }
}
