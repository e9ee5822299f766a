/** Constructors and accessors for decoded AnyValue / KeyValue lists (OTLP/JSON, the CLI, the debug exporter; processors use src/records/values.ts). */
import Long from 'long';
import type { AnyValue, KeyValue, LogRecord } from './model';

export function stringValue(s: string): AnyValue {
  return { stringValue: s };
}

export function boolValue(b: boolean): AnyValue {
  return { boolValue: b };
}

export function intValue(n: number | bigint | Long): AnyValue {
  return { intValue: Long.isLong(n) ? n : Long.fromString(String(n)) };
}

/** Which member of the AnyValue oneof is set (own properties only: decoded messages carry prototype defaults). */
export function anyValueKind(v: AnyValue | null | undefined): keyof AnyValue | undefined {
  if (!v) return undefined;
  if (has(v, 'stringValue')) return 'stringValue';
  if (has(v, 'intValue')) return 'intValue';
  if (has(v, 'boolValue')) return 'boolValue';
  if (has(v, 'doubleValue')) return 'doubleValue';
  if (has(v, 'kvlistValue')) return 'kvlistValue';
  if (has(v, 'arrayValue')) return 'arrayValue';
  if (has(v, 'bytesValue')) return 'bytesValue';
  return undefined;
}

function has(v: AnyValue, k: keyof AnyValue): boolean {
  return Object.prototype.hasOwnProperty.call(v, k) && v[k] !== null && v[k] !== undefined;
}

/** The string member of a value, or undefined when the value is not a string. */
export function asString(v: AnyValue | null | undefined): string | undefined {
  return v && has(v, 'stringValue') ? (v.stringValue as string) : undefined;
}

/** Index of the first attribute with this key, or -1. Linear: attribute lists are short. */
export function findAttribute(attrs: readonly KeyValue[], key: string): number {
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.key === key) return i;
  return -1;
}

export function getAttribute(attrs: readonly KeyValue[], key: string): AnyValue | undefined {
  const i = findAttribute(attrs, key);
  return i < 0 ? undefined : (attrs[i]!.value ?? undefined);
}

/** Human-readable rendering of a value (debug output, severity inference on structured bodies). */
export function anyValueToString(v: AnyValue | null | undefined): string {
  switch (anyValueKind(v)) {
    case 'stringValue':
      return v!.stringValue as string;
    case 'intValue':
      return (v!.intValue as Long).toString();
    case 'boolValue':
      return String(v!.boolValue);
    case 'doubleValue':
      return String(v!.doubleValue);
    case 'bytesValue':
      return Buffer.from(v!.bytesValue as Uint8Array).toString('base64');
    case 'arrayValue':
      return `[${v!.arrayValue!.values.map(anyValueToString).join(', ')}]`;
    case 'kvlistValue':
      return `{${v!.kvlistValue!.values.map((kv) => `${kv.key}: ${anyValueToString(kv.value)}`).join(', ')}}`;
    default:
      return '';
  }
}

const ZERO = Long.UZERO;

/** A log record with every field at its proto3 default, for processors and senders that build records. */
export function newLogRecord(fields: Partial<LogRecord> = {}): LogRecord {
  return {
    timeUnixNano: ZERO,
    observedTimeUnixNano: ZERO,
    severityNumber: 0,
    severityText: '',
    body: null,
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: new Uint8Array(0),
    spanId: new Uint8Array(0),
    eventName: '',
    ...fields,
  };
}

/** Current wall-clock time in Unix nanoseconds, exact (no float rounding). */
export function unixNanosFromMillis(ms: number, extraNanos = 0): Long {
  return Long.fromNumber(ms, true).multiply(1_000_000).add(extraNanos);
}
