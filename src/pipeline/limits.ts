/**
 * Per-record checks made before the chain. A record that breaks a limit is rejected alone:
 * the sender learns of it through partial_success, and the rest of the request goes on.
 * Recursion is bounded: a value is never descended past max_depth.
 */
import type { AnyValue, KeyValue, LogsData } from '../otlp/model';

export interface RecordLimits {
  readonly maxBodyBytes: number;
  readonly maxAttributes: number;
  readonly maxAttributeKeyBytes: number;
  readonly maxAttributeValueBytes: number;
  readonly maxDepth: number;
  readonly maxCollectionLength: number;
}

export interface Rejection {
  readonly rejected: number;
  /** Describes the first rejected record, naming the field and the limit's variable. */
  readonly message: string;
  /** Rejected records by reason (metric label). */
  readonly reasons: Readonly<Record<string, number>>;
}

/** What is wrong and where, relative to the field checked; the path is built only on failure. */
interface Violation {
  readonly reason: string;
  /** Path below the field, e.g. `[2].value`; prefixed on the way back up. */
  at: string;
  readonly problem: string;
}

/** UTF-8 byte length without allocating; a string is at most 3 bytes per UTF-16 unit. */
function over(s: string, max: number): number {
  if (s.length * 3 <= max) return 0;
  const n = Buffer.byteLength(s);
  return n > max ? n : 0;
}

function checkValue(v: AnyValue | null | undefined, limits: RecordLimits, depth: number, maxString: number): Violation | undefined {
  if (!v) return undefined;
  if (typeof v.stringValue === 'string') {
    const n = over(v.stringValue, maxString);
    if (!n) return undefined;
    const isBody = maxString === limits.maxBodyBytes;
    return {
      reason: isBody ? 'body_too_large' : 'value_too_large',
      at: '',
      problem: `is ${n} bytes, over the ${maxString}-byte limit (${isBody ? 'OLP_LIMITS_MAX_BODY_BYTES' : 'OLP_LIMITS_MAX_ATTRIBUTE_VALUE_BYTES'})`,
    };
  }
  if (v.bytesValue && v.bytesValue.length > maxString) {
    return { reason: 'value_too_large', at: '', problem: `is ${v.bytesValue.length} bytes, over the ${maxString}-byte limit` };
  }
  const list = v.arrayValue?.values ?? v.kvlistValue?.values;
  if (!list) return undefined;
  if (depth >= limits.maxDepth) return { reason: 'too_deep', at: '', problem: `nests deeper than ${limits.maxDepth} levels (OLP_LIMITS_MAX_DEPTH)` };
  if (list.length > limits.maxCollectionLength) {
    return { reason: 'collection_too_long', at: '', problem: `has ${list.length} entries, over ${limits.maxCollectionLength} (OLP_LIMITS_MAX_COLLECTION_LENGTH)` };
  }
  if (v.arrayValue) {
    const values = v.arrayValue.values;
    for (let i = 0; i < values.length; i++) {
      const bad = checkValue(values[i], limits, depth + 1, limits.maxAttributeValueBytes);
      if (bad) {
        bad.at = `[${i}]${bad.at}`;
        return bad;
      }
    }
    return undefined;
  }
  return checkKeyValues(v.kvlistValue!.values, limits, depth + 1);
}

function checkKeyValues(list: readonly KeyValue[], limits: RecordLimits, depth: number): Violation | undefined {
  for (let i = 0; i < list.length; i++) {
    const kv = list[i]!;
    const n = over(kv.key, limits.maxAttributeKeyBytes);
    if (n) return { reason: 'key_too_long', at: `[${i}].key`, problem: `is ${n} bytes, over ${limits.maxAttributeKeyBytes} (OLP_LIMITS_MAX_ATTRIBUTE_KEY_BYTES)` };
    const bad = checkValue(kv.value, limits, depth, limits.maxAttributeValueBytes);
    if (bad) {
      bad.at = `[${i}].value${bad.at}`;
      return bad;
    }
  }
  return undefined;
}

export function rejectInvalidRecords(data: LogsData, limits: RecordLimits): Rejection {
  let rejected = 0;
  let message = '';
  const reasons: Record<string, number> = {};
  for (let r = 0; r < data.resourceLogs.length; r++) {
    const scopes = data.resourceLogs[r]!.scopeLogs;
    for (let s = 0; s < scopes.length; s++) {
      const records = scopes[s]!.logRecords;
      let kept = 0;
      for (let i = 0; i < records.length; i++) {
        const rec = records[i]!;
        let bad: Violation | undefined;
        let field = 'attributes';
        if (rec.attributes.length > limits.maxAttributes) {
          bad = { reason: 'too_many_attributes', at: '', problem: `has ${rec.attributes.length} entries, over ${limits.maxAttributes} (OLP_LIMITS_MAX_ATTRIBUTES)` };
        } else {
          bad = checkValue(rec.body, limits, 0, limits.maxBodyBytes);
          if (bad) field = 'body';
          else bad = checkKeyValues(rec.attributes, limits, 0);
        }
        if (bad) {
          if (rejected === 0) message = `resource_logs[${r}].scope_logs[${s}].log_records[${i}].${field}${bad.at} ${bad.problem}`;
          rejected++;
          reasons[bad.reason] = (reasons[bad.reason] ?? 0) + 1;
          continue;
        }
        records[kept++] = rec;
      }
      records.length = kept;
    }
  }
  return { rejected, message: rejected === 0 ? '' : `${rejected} log record${rejected > 1 ? 's' : ''} rejected; first: ${message}`, reasons };
}
