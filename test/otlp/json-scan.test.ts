/** The byte scan that counts OTLP/JSON values, records and depth before JSON.parse. */
import fc from 'fast-check';
import { jsonDepthFor, scanJsonShape, type JsonShapeLimits } from '../../src/otlp/json-scan';
import { encodeLogsDataJson } from '../../src/otlp/json';
import { record, request } from '../helpers/builders';

const LOOSE: JsonShapeLimits = { maxRecords: 1000, maxValues: 100_000, maxDepth: 100 };
const scan = (text: string, limits: Partial<JsonShapeLimits> = {}) => scanJsonShape(Buffer.from(text), { ...LOOSE, ...limits });

describe('scanJsonShape', () => {
  test.each([
    ['records under logRecords', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{},{},{}]}]}]}', { maxRecords: 2 }, 'json_too_many_records'],
    ['records under log_records', '{"resource_logs":[{"scope_logs":[{"log_records":[{},{},{}]}]}]}', { maxRecords: 2 }, 'json_too_many_records'],
    ['records in two scopes, counted together', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{},{}]},{"logRecords":[{}]}]}]}', { maxRecords: 2 }, 'json_too_many_records'],
    ['numbers in an unknown field', '{"junk":[1,2,3,4,5,6,7,8,9,10]}', { maxValues: 10 }, 'json_too_many_values'],
    ['nesting', '{"a":[[[[1]]]]}', { maxDepth: 4 }, 'json_too_deep'],
  ])('refuses %s', (_name, text, limits, reason) => {
    expect(scan(text, limits)?.reason).toBe(reason);
  });

  test.each([
    ['exactly the record limit', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{},{}]}]}]}', { maxRecords: 2 }],
    ['a key named logRecords inside a string value', '{"body":"\\"logRecords\\":[{},{},{}]","logRecords2":[1,2,3]}', { maxRecords: 1 }],
    ['an array under a key that only looks like logRecords', '{"attributes":[{"key":"logRecords","value":{"arrayValue":{"values":[{},{},{}]}}}]}', { maxRecords: 1 }],
    ['escaped quotes and brackets in strings', '{"a":"[[[[\\"]]]]{{{"}', { maxDepth: 2 }],
    ['exactly the depth limit', '{"a":[[[1]]]}', { maxDepth: 4 }],
  ])('accepts %s', (_name, text, limits) => {
    expect(scan(text, limits)).toBeUndefined();
  });

  test('counts exactly the log records of any request the encoder writes', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 20 }), (texts) => {
        const json = encodeLogsDataJson(request(texts.map((t) => record(t))));
        expect(scan(json, { maxRecords: texts.length })).toBeUndefined();
        if (texts.length > 0) expect(scan(json, { maxRecords: texts.length - 1 })?.reason).toBe('json_too_many_records');
      }),
    );
  });

  test('the depth allowed covers attribute values nested to the per-record limit', () => {
    let value = '{"stringValue":"leaf"}';
    for (let i = 0; i < 31; i++) value = `{"kvlistValue":{"values":[{"key":"k","value":${value}}]}}`;
    const json = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${value}}]}]}]}`;
    expect(scanJsonShape(Buffer.from(json), { ...LOOSE, maxDepth: jsonDepthFor(32) })).toBeUndefined();
  });
});
