/** AnyValue → plain JS for readable expectations: ints as bigint (exact), empty values as null. */
import type Long from 'long';
import type { AnyValue, KeyValue } from '../../src/otlp/model';

export function plainValue(v: AnyValue | null | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return BigInt((v.intValue as Long).toString());
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return v.arrayValue.values.map(plainValue);
  if (v.kvlistValue) return plainAttributes(v.kvlistValue.values);
  return null;
}

export function plainAttributes(kvs: readonly KeyValue[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  // defineProperty: a "__proto__" key must be a field, not the prototype.
  for (const kv of kvs) Object.defineProperty(o, kv.key, { value: plainValue(kv.value), enumerable: true, writable: true, configurable: true });
  return o;
}
