/**
 * AnyValue: reading from and writing to the wire, and the helpers processors share
 * (constructors, kind, string rendering). Field numbers follow common.proto.
 */
import type { AnyValue, KeyValue, ValueInput } from './types';
import { WT_I64, WT_LEN, WT_VARINT, WireCursor, type WireWriter, utf8 } from './wire';

// AnyValue members.
const F_STRING = 1;
const F_BOOL = 2;
const F_INT = 3;
const F_DOUBLE = 4;
const F_ARRAY = 5;
const F_KVLIST = 6;
const F_BYTES = 7;

export function stringValue(s: string): AnyValue {
  return { stringValue: s };
}

export function boolValue(b: boolean): AnyValue {
  return { boolValue: b };
}

export function intValue(n: number | bigint): AnyValue {
  return { intValue: BigInt(n) };
}

export function doubleValue(n: number): AnyValue {
  return { doubleValue: n };
}

export type AnyValueKind = keyof AnyValue;

/** Which member of the value is set, or undefined for an empty value. */
export function anyValueKind(v: AnyValue | undefined): AnyValueKind | undefined {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return 'stringValue';
  if (v.intValue !== undefined) return 'intValue';
  if (v.boolValue !== undefined) return 'boolValue';
  if (v.doubleValue !== undefined) return 'doubleValue';
  if (v.kvlistValue !== undefined) return 'kvlistValue';
  if (v.arrayValue !== undefined) return 'arrayValue';
  if (v.bytesValue !== undefined) return 'bytesValue';
  return undefined;
}

/** The string member of a value, or undefined when the value is not a string. */
export function asString(v: AnyValue | undefined): string | undefined {
  return v?.stringValue;
}

/** A value from what `Attributes.set` accepts. */
export function toAnyValue(v: ValueInput): AnyValue {
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'bigint':
      return { intValue: BigInt.asIntN(64, v) };
    case 'number':
      return { doubleValue: v };
    default:
      return v;
  }
}

/** Human-readable rendering of a value (debug output, severity inference on structured bodies). */
export function anyValueToString(v: AnyValue | undefined): string {
  switch (anyValueKind(v)) {
    case 'stringValue':
      return v!.stringValue!;
    case 'intValue':
      return v!.intValue!.toString();
    case 'boolValue':
      return String(v!.boolValue);
    case 'doubleValue':
      return String(v!.doubleValue);
    case 'bytesValue':
      return Buffer.from(v!.bytesValue!).toString('base64');
    case 'arrayValue':
      return `[${v!.arrayValue!.values.map(anyValueToString).join(', ')}]`;
    case 'kvlistValue':
      return `{${v!.kvlistValue!.values.map((kv) => `${kv.key}: ${anyValueToString(kv.value)}`).join(', ')}}`;
    default:
      return '';
  }
}

/** Deep equality of two values (same member, same content). */
export function anyValueEquals(a: AnyValue | undefined, b: AnyValue | undefined): boolean {
  const k = anyValueKind(a);
  if (k !== anyValueKind(b)) return false;
  if (k === undefined) return true;
  switch (k) {
    case 'arrayValue': {
      const x = a!.arrayValue!.values;
      const y = b!.arrayValue!.values;
      return x.length === y.length && x.every((v, i) => anyValueEquals(v, y[i]));
    }
    case 'kvlistValue': {
      const x = a!.kvlistValue!.values;
      const y = b!.kvlistValue!.values;
      return x.length === y.length && x.every((kv, i) => kv.key === y[i]!.key && anyValueEquals(kv.value, y[i]!.value));
    }
    case 'bytesValue':
      return Buffer.from(a!.bytesValue!).equals(b!.bytesValue!);
    case 'doubleValue':
      return Object.is(a!.doubleValue, b!.doubleValue);
    default:
      return a![k] === b![k];
  }
}

// ---- wire ----

/** Decodes the AnyValue message in b[start, end). A repeated member: the last one wins (as protobuf). */
export function decodeAnyValue(b: Uint8Array, start: number, end: number): AnyValue {
  const c = new WireCursor(b, start, end);
  let v: AnyValue = {};
  while (c.pos < end) {
    const tag = c.varint();
    switch (tag) {
      case (F_STRING << 3) | WT_LEN: {
        const n = c.length();
        v = { stringValue: utf8(b, c.pos, c.pos + n) };
        c.pos += n;
        break;
      }
      case (F_BOOL << 3) | WT_VARINT:
        v = { boolValue: c.varint64() !== 0n };
        break;
      case (F_INT << 3) | WT_VARINT:
        v = { intValue: BigInt.asIntN(64, c.varint64()) };
        break;
      case (F_DOUBLE << 3) | WT_I64:
        v = { doubleValue: c.double() };
        break;
      case (F_ARRAY << 3) | WT_LEN: {
        const n = c.length();
        v = { arrayValue: { values: decodeValues(b, c.pos, c.pos + n) } };
        c.pos += n;
        break;
      }
      case (F_KVLIST << 3) | WT_LEN: {
        const n = c.length();
        v = { kvlistValue: { values: decodeKeyValues(b, c.pos, c.pos + n) } };
        c.pos += n;
        break;
      }
      case (F_BYTES << 3) | WT_LEN: {
        const n = c.length();
        v = { bytesValue: b.slice(c.pos, c.pos + n) };
        c.pos += n;
        break;
      }
      default:
        c.skip(tag);
    }
  }
  return v;
}

/** The string of an AnyValue message when its (last) member is a string, without building a value. */
export function decodeStringValue(b: Uint8Array, start: number, end: number): string | undefined {
  const c = new WireCursor(b, start, end);
  let s: string | undefined;
  while (c.pos < end) {
    const tag = c.varint();
    if (tag === ((F_STRING << 3) | WT_LEN)) {
      const n = c.length();
      s = utf8(b, c.pos, c.pos + n);
      c.pos += n;
    } else {
      const member = tag >>> 3;
      c.skip(tag);
      if (member >= F_STRING && member <= F_BYTES) s = undefined;
    }
  }
  return s;
}

/** ArrayValue: repeated AnyValue values = 1. */
function decodeValues(b: Uint8Array, start: number, end: number): AnyValue[] {
  const c = new WireCursor(b, start, end);
  const out: AnyValue[] = [];
  while (c.pos < end) {
    const tag = c.varint();
    if (tag === ((1 << 3) | WT_LEN)) {
      const n = c.length();
      out.push(decodeAnyValue(b, c.pos, c.pos + n));
      c.pos += n;
    } else c.skip(tag);
  }
  return out;
}

/** KeyValueList: repeated KeyValue values = 1. */
function decodeKeyValues(b: Uint8Array, start: number, end: number): KeyValue[] {
  const c = new WireCursor(b, start, end);
  const out: KeyValue[] = [];
  while (c.pos < end) {
    const tag = c.varint();
    if (tag === ((1 << 3) | WT_LEN)) {
      const n = c.length();
      out.push(decodeKeyValue(b, c.pos, c.pos + n));
      c.pos += n;
    } else c.skip(tag);
  }
  return out;
}

/** KeyValue: key = 1, value = 2. */
export function decodeKeyValue(b: Uint8Array, start: number, end: number): KeyValue {
  const c = new WireCursor(b, start, end);
  let key = '';
  let value: AnyValue = {};
  while (c.pos < end) {
    const tag = c.varint();
    if (tag === ((1 << 3) | WT_LEN)) {
      const n = c.length();
      key = utf8(b, c.pos, c.pos + n);
      c.pos += n;
    } else if (tag === ((2 << 3) | WT_LEN)) {
      const n = c.length();
      value = decodeAnyValue(b, c.pos, c.pos + n);
      c.pos += n;
    } else c.skip(tag);
  }
  return { key, value };
}

/** Writes the content of an AnyValue message. */
export function writeAnyValue(w: WireWriter, v: AnyValue): void {
  switch (anyValueKind(v)) {
    case 'stringValue':
      w.stringField(F_STRING, v.stringValue!);
      return;
    case 'boolValue':
      w.tag(F_BOOL, WT_VARINT);
      w.varint(v.boolValue ? 1 : 0);
      return;
    case 'intValue':
      w.tag(F_INT, WT_VARINT);
      w.varint64(v.intValue!);
      return;
    case 'doubleValue':
      w.tag(F_DOUBLE, WT_I64);
      w.double(v.doubleValue!);
      return;
    case 'arrayValue': {
      const mark = w.beginLen(F_ARRAY);
      for (const item of v.arrayValue!.values) {
        const m = w.beginLen(1);
        writeAnyValue(w, item);
        w.endLen(m);
      }
      w.endLen(mark);
      return;
    }
    case 'kvlistValue': {
      const mark = w.beginLen(F_KVLIST);
      for (const kv of v.kvlistValue!.values) writeKeyValueField(w, 1, kv.key, kv.value);
      w.endLen(mark);
      return;
    }
    case 'bytesValue':
      w.bytesField(F_BYTES, v.bytesValue!);
      return;
    default:
  }
}

/** Writes field `field` holding a KeyValue message. */
export function writeKeyValueField(w: WireWriter, field: number, key: string, value: AnyValue): void {
  const mark = w.beginLen(field);
  if (key !== '') w.stringField(1, key);
  const m = w.beginLen(2);
  writeAnyValue(w, value);
  w.endLen(m);
  w.endLen(mark);
}
