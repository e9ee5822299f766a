/** Value operations of the `transform` processor: type conversion, UTF-8 truncation, hashing and deep clone. */
import { hash } from 'node:crypto';
import type { AnyValue } from '../records/types';
import { anyValueKind, anyValueToString } from '../records/values';

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
 * Ints are bigint throughout, so values beyond 2^53 stay exact.
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
      if (kind === 'boolValue') return { intValue: v.boolValue ? 1n : 0n };
      if (kind === 'stringValue') {
        const s = v.stringValue!;
        return INT_TEXT.test(s) ? int64(BigInt(s)) : undefined;
      }
      if (kind === 'doubleValue') {
        // Truncates toward zero, as OTTL's Int() does.
        const d = v.doubleValue!;
        if (!Number.isFinite(d) || d >= TWO_63 || d < -TWO_63) return undefined;
        return { intValue: BigInt(Math.trunc(d)) };
      }
      return undefined;
    case 'double':
      if (kind === 'doubleValue') return v;
      // Number(bigint) rounds to the nearest double once (exact below 2^53).
      if (kind === 'intValue') return { doubleValue: Number(v.intValue!) };
      if (kind === 'boolValue') return { doubleValue: v.boolValue ? 1 : 0 };
      if (kind === 'stringValue') return FLOAT_TEXT.test(v.stringValue!) ? { doubleValue: Number(v.stringValue!.trim()) } : undefined;
      return undefined;
    case 'bool':
      if (kind === 'boolValue') return v;
      if (kind === 'intValue') return { boolValue: v.intValue! !== 0n };
      if (kind === 'doubleValue') return Number.isNaN(v.doubleValue) ? undefined : { boolValue: v.doubleValue !== 0 };
      if (kind === 'stringValue') {
        const s = v.stringValue!.trim().toLowerCase();
        if (s === 'true' || s === '1') return { boolValue: true };
        if (s === 'false' || s === '0') return { boolValue: false };
      }
      return undefined;
  }
}

function int64(b: bigint): AnyValue | undefined {
  return b < INT64_MIN || b > INT64_MAX ? undefined : { intValue: b };
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

/**
 * Deep copy, for a value that lands in several places (a copy, a resource value written into
 * every record): no two fields share a value object, so one changed in place changes one field.
 */
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
      return { kvlistValue: { values: v.kvlistValue!.values.map((kv) => ({ key: kv.key, value: cloneValue(kv.value) })) } };
    default:
      return {};
  }
}
