import { rejectInvalidRecords, type RecordLimits } from '../../src/pipeline/limits';
import type { AnyValue, LogRecord } from '../../src/otlp/model';
import { bodies, record, request } from '../helpers/builders';

const limits: RecordLimits = {
  maxBodyBytes: 100,
  maxAttributes: 3,
  maxAttributeKeyBytes: 10,
  maxAttributeValueBytes: 20,
  maxDepth: 3,
  maxCollectionLength: 4,
};

const nest = (depth: number): AnyValue => (depth === 0 ? { stringValue: 'leaf' } : { arrayValue: { values: [nest(depth - 1)] } });

describe('per-record limits', () => {
  test.each<[string, LogRecord, string, string]>([
    ['a string body over max_body_bytes', record('x'.repeat(101)), 'body_too_large', 'body is 101 bytes, over the 100-byte limit (OLP_LIMITS_MAX_BODY_BYTES)'],
    ['a multi-byte body measured in UTF-8 bytes', record('é'.repeat(51)), 'body_too_large', 'body is 102 bytes'],
    ['a bytes body over max_body_bytes', record('', { body: { bytesValue: new Uint8Array(101) } }), 'value_too_large', 'body is 101 bytes'],
    ['too many attributes', record('ok', { attributes: ['a', 'b', 'c', 'd'].map((k) => ({ key: k, value: { stringValue: 'v' } })) }), 'too_many_attributes', '(OLP_LIMITS_MAX_ATTRIBUTES)'],
    ['an attribute key too long', record('ok', { attributes: [{ key: 'k'.repeat(11), value: { stringValue: 'v' } }] }), 'key_too_long', 'attributes[0].key is 11 bytes'],
    ['an attribute value too long', record('ok', { attributes: [{ key: 'k', value: { stringValue: 'v'.repeat(21) } }] }), 'value_too_large', 'attributes[0].value is 21 bytes'],
    ['a structured body nested too deep', record('', { body: nest(4) }), 'too_deep', 'nests deeper than 3 levels (OLP_LIMITS_MAX_DEPTH)'],
    ['an attribute value nested too deep', record('ok', { attributes: [{ key: 'k', value: nest(4) }] }), 'too_deep', 'attributes[0].value'],
    ['an array too long', record('', { body: { arrayValue: { values: Array.from({ length: 5 }, () => ({ intValue: null })) } } }), 'collection_too_long', 'has 5 entries'],
    ['a map key too long inside the body', record('', { body: { kvlistValue: { values: [{ key: 'k'.repeat(11), value: {} }] } } }), 'key_too_long', 'body[0].key'],
    ['a long string inside a structured body', record('', { body: { kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'm'.repeat(21) } }] } } }), 'value_too_large', 'body[0].value is 21 bytes'],
  ])('rejects a record with %s, naming field and limit', (_name, bad, reason, detail) => {
    const data = request([record('before'), bad, record('after')]);
    const result = rejectInvalidRecords(data, limits);
    expect(result.rejected).toBe(1);
    expect(result.reasons).toEqual({ [reason]: 1 });
    expect(result.message).toContain('1 log record rejected; first: resource_logs[0].scope_logs[0].log_records[1]');
    expect(result.message).toContain(detail);
    expect(bodies(data.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['before', 'after']);
  });

  test('accepts records exactly at every limit', () => {
    const atLimit = record('x'.repeat(100), {
      attributes: [
        { key: 'k'.repeat(10), value: { stringValue: 'v'.repeat(20) } },
        { key: 'deep', value: nest(3) },
        { key: 'list', value: { arrayValue: { values: Array.from({ length: 4 }, () => ({ boolValue: true })) } } },
      ],
    });
    expect(rejectInvalidRecords(request([atLimit]), limits).rejected).toBe(0);
  });

  test('counts several rejections by reason and reports the first', () => {
    const data = request([record('x'.repeat(200)), record('fine'), record('', { body: nest(10) }), record('y'.repeat(300))]);
    const result = rejectInvalidRecords(data, limits);
    expect(result.rejected).toBe(3);
    expect(result.reasons).toEqual({ body_too_large: 2, too_deep: 1 });
    expect(result.message).toMatch(/^3 log records rejected; first: .*log_records\[0\]\.body is 200 bytes/);
  });
});
