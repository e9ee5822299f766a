/** AnyValue → plain JS for readable expectations: ints as bigint (exact), empty values as null. */
import type Long from 'long';
import type { AnyValue, KeyValue } from '../../src/otlp/model';
import { anyValueKind } from '../../src/otlp/values';

/** Works on values built in tests and on decoded messages (whose unset members read as defaults). */
export function plainValue(v: AnyValue | null | undefined): unknown {
  if (!v) return undefined;
  switch (anyValueKind(v)) {
    case 'stringValue':
      return v.stringValue;
    case 'intValue':
      return BigInt((v.intValue as Long).toString());
    case 'doubleValue':
      return v.doubleValue;
    case 'boolValue':
      return v.boolValue;
    case 'arrayValue':
      return v.arrayValue!.values.map(plainValue);
    case 'kvlistValue':
      return plainAttributes(v.kvlistValue!.values);
    default:
      return null;
  }
}

export function plainAttributes(kvs: readonly KeyValue[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  // defineProperty: a "__proto__" key must be a field, not the prototype.
  for (const kv of kvs) Object.defineProperty(o, kv.key, { value: plainValue(kv.value), enumerable: true, writable: true, configurable: true });
  return o;
}
