/** OTLP/JSON codec: round trip against the protobuf codec, the spec's JSON specifics, and error paths. */
import fc from 'fast-check';
import Long from 'long';
import type * as protobuf from 'protobufjs';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import {
  decodeExportResponseJson,
  decodeLogsDataJson,
  decodeStatus,
  decodeStatusJson,
  encodeExportResponseJson,
  encodeLogsDataJson,
  encodeStatus,
  encodeStatusJson,
} from '../../src/otlp/json';
import type { LogsData } from '../../src/otlp/model';
import { logsDataArb } from '../helpers/arbitraries';

// The protobufjs reflection type behind decodeLogsData: an independent reader and normaliser.
const RequestType = (decodeLogsData(new Uint8Array(0)) as unknown as { $type: protobuf.Type }).$type;

/** Canonical form for comparison: what the binary encoding carries, every field present, 64-bit as strings. */
function canonical(data: LogsData): unknown {
  return RequestType.toObject(decodeLogsData(encodeLogsData(data)) as unknown as protobuf.Message, {
    longs: String,
    bytes: String,
    defaults: true,
    arrays: true,
  });
}

/** The decoded request's only record. */
function onlyRecord(data: LogsData) {
  return data.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
}

function withRecord(record: Record<string, unknown>): string {
  return JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [record] }] }] });
}

describe('OTLP/JSON codec', () => {
  test('protobuf LogsData → JSON → LogsData is lossless (every field, AnyValue variant, 64-bit value)', () => {
    fc.assert(
      fc.property(logsDataArb(), (generated) => {
        const decoded = decodeLogsData(encodeLogsData(generated));
        const back = decodeLogsDataJson(encodeLogsDataJson(decoded));
        expect(canonical(back)).toEqual(canonical(decoded));
      }),
      { numRuns: 200 },
    );
  });

  test('the JSON it writes reads back with protobufjs (an independent reader), once ids are turned into base64', () => {
    fc.assert(
      fc.property(logsDataArb(), (generated) => {
        const decoded = decodeLogsData(encodeLogsData(generated));
        const json = JSON.parse(encodeLogsDataJson(decoded), (key, value) =>
          (key === 'traceId' || key === 'spanId') && typeof value === 'string' ? Buffer.from(value, 'hex').toString('base64') : value,
        );
        const viaProtobufjs = RequestType.fromObject(json) as unknown as LogsData;
        expect(canonical(viaProtobufjs)).toEqual(canonical(decoded));
      }),
      { numRuns: 100 },
    );
  });

  test('writes lowerCamelCase names, 64-bit integers as decimal strings, ids as hex, bytes as base64, enums as integers', () => {
    const json = withRecord({
      timeUnixNano: '18446744073709551615',
      observedTimeUnixNano: '1700000000123456789',
      severityNumber: 17,
      severityText: 'ERROR',
      body: { bytesValue: 'AQID' },
      attributes: [{ key: 'n', value: { intValue: '-9223372036854775808' } }],
      droppedAttributesCount: 2,
      flags: 1,
      traceId: '0102030405060708090a0b0c0d0e0f10',
      spanId: 'a1a2a3a4a5a6a7a8',
      eventName: 'e',
    });
    const out = JSON.parse(encodeLogsDataJson(decodeLogsDataJson(json)));
    expect(out).toEqual(JSON.parse(json));
  });

  test('omits proto3 defaults but keeps a oneof member set to its default', () => {
    const data = decodeLogsDataJson(withRecord({ body: { intValue: '0' }, attributes: [{ key: 'empty', value: {} }, { key: 's', value: { stringValue: '' } }] }));
    expect(JSON.parse(encodeLogsDataJson(data))).toEqual({
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { intValue: '0' }, attributes: [{ key: 'empty', value: {} }, { key: 's', value: { stringValue: '' } }] }] }] }],
    });
  });

  test('reads 64-bit integers given as strings or as numbers, exactly beyond 2^53', () => {
    const text =
      '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{' +
      '"timeUnixNano":18446744073709551615,"observedTimeUnixNano":"1700000000123456789",' +
      '"body":{"intValue":-9223372036854775808},' +
      '"attributes":[{"key":"a","value":{"intValue":9007199254740993}},{"key":"b","value":{"intValue":"9223372036854775807"}},{"key":"c","value":{"intValue":42}},{"key":"d","value":{"intValue":"-7"}}]' +
      '}]}]}]}';
    const r = onlyRecord(decodeLogsDataJson(text));
    expect(r.timeUnixNano.toString()).toBe('18446744073709551615');
    expect(r.timeUnixNano.unsigned).toBe(true);
    expect(r.observedTimeUnixNano.toString()).toBe('1700000000123456789');
    expect(r.body!.intValue!.toString()).toBe('-9223372036854775808');
    expect(r.attributes.map((a) => a.value!.intValue!.toString())).toEqual(['9007199254740993', '9223372036854775807', '42', '-7']);
    // …and writes them back as decimal strings.
    const out = JSON.parse(encodeLogsDataJson(decodeLogsDataJson(text)));
    const rec = out.resourceLogs[0].scopeLogs[0].logRecords[0];
    expect(rec.timeUnixNano).toBe('18446744073709551615');
    expect(rec.attributes[0].value.intValue).toBe('9007199254740993');
  });

  test('reads numbers beyond 2^53 exactly from bytes too (UTF-8 input), and doubles beyond 2^53 as the nearest double', () => {
    const bytes = Buffer.from(withRecord({}).replace('{}', '{"timeUnixNano":1700000000123456789,"body":{"doubleValue":12345678901234567890}}'));
    const r = onlyRecord(decodeLogsDataJson(bytes));
    expect(r.timeUnixNano.toString()).toBe('1700000000123456789');
    expect(r.body!.doubleValue).toBe(Number('12345678901234567890'));
  });

  test('trace and span ids are hex, upper or lower case; empty means unset', () => {
    const r = onlyRecord(decodeLogsDataJson(withRecord({ traceId: '0102030405060708090A0B0C0D0E0F10', spanId: '' })));
    expect(Buffer.from(r.traceId).toString('hex')).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(r.spanId).toHaveLength(0);
    const out = JSON.parse(encodeLogsDataJson({ resourceLogs: [{ resource: null, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: [r] }] }] }));
    expect(out.resourceLogs[0].scopeLogs[0].logRecords[0]).toEqual({ traceId: '0102030405060708090a0b0c0d0e0f10' });
  });

  test('severityNumber as an integer, a decimal string or an enum name; written as an integer', () => {
    for (const [given, want] of [
      [13, 13],
      ['9', 9],
      ['SEVERITY_NUMBER_WARN', 13],
      ['SEVERITY_NUMBER_FATAL4', 24],
      ['SEVERITY_NUMBER_UNSPECIFIED', 0],
      [30, 30], // open enum: unknown values are kept
    ] as const) {
      const data = decodeLogsDataJson(withRecord({ severityNumber: given }));
      expect(onlyRecord(data).severityNumber).toBe(want);
      const rec = JSON.parse(encodeLogsDataJson(data)).resourceLogs[0].scopeLogs[0].logRecords[0];
      expect(rec.severityNumber).toBe(want === 0 ? undefined : want);
    }
  });

  test('accepts the original snake_case field names', () => {
    const snake = {
      resource_logs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }], dropped_attributes_count: 1, entity_refs: [{ type: 'k8s', id_keys: ['a'], description_keys: ['b'], schema_url: 'u' }] },
          schema_url: 'https://r',
          scope_logs: [
            {
              scope: { name: 'sc', version: '1', dropped_attributes_count: 3 },
              schema_url: 'https://s',
              log_records: [
                {
                  time_unix_nano: '1',
                  observed_time_unix_nano: 2,
                  severity_number: 'SEVERITY_NUMBER_INFO',
                  severity_text: 'INFO',
                  body: { kvlist_value: { values: [{ key: 'k', value: { array_value: { values: [{ bool_value: true }, { double_value: 1.5 }, { int_value: '3' }, { bytes_value: 'AA==' }] } } }] } },
                  dropped_attributes_count: 4,
                  trace_id: '0102030405060708090a0b0c0d0e0f10',
                  span_id: '0102030405060708',
                  event_name: 'ev',
                },
              ],
            },
          ],
        },
      ],
    };
    const camel = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }], droppedAttributesCount: 1, entityRefs: [{ type: 'k8s', idKeys: ['a'], descriptionKeys: ['b'], schemaUrl: 'u' }] },
          schemaUrl: 'https://r',
          scopeLogs: [
            {
              scope: { name: 'sc', version: '1', droppedAttributesCount: 3 },
              schemaUrl: 'https://s',
              logRecords: [
                {
                  timeUnixNano: '1',
                  observedTimeUnixNano: '2',
                  severityNumber: 9,
                  severityText: 'INFO',
                  body: { kvlistValue: { values: [{ key: 'k', value: { arrayValue: { values: [{ boolValue: true }, { doubleValue: 1.5 }, { intValue: '3' }, { bytesValue: 'AA==' }] } } }] } },
                  droppedAttributesCount: 4,
                  traceId: '0102030405060708090a0b0c0d0e0f10',
                  spanId: '0102030405060708',
                  eventName: 'ev',
                },
              ],
            },
          ],
        },
      ],
    };
    expect(canonical(decodeLogsDataJson(JSON.stringify(snake)))).toEqual(canonical(decodeLogsDataJson(JSON.stringify(camel))));
    expect(JSON.parse(encodeLogsDataJson(decodeLogsDataJson(JSON.stringify(snake))))).toEqual(camel);
  });

  test('ignores unknown fields and treats null as unset', () => {
    const data = decodeLogsDataJson(
      JSON.stringify({ future: 1, resourceLogs: [{ droppedThings: [1], resource: null, scopeLogs: [{ logRecords: [{ body: { stringValue: 'x' }, novel: { a: 1 }, traceId: null }] }] }] }),
    );
    expect(onlyRecord(data).body).toEqual({ stringValue: 'x' });
    expect(data.resourceLogs[0]!.resource).toBeNull();
    expect(onlyRecord(data).traceId).toHaveLength(0);
  });

  test('special doubles and -0 survive; URL-safe and unpadded base64 is read', () => {
    const values = [NaN, Infinity, -Infinity, -0, 0, 5e-324, 1.7976931348623157e308];
    const data = decodeLogsDataJson(withRecord({ attributes: values.map((_, i) => ({ key: `d${i}`, value: { doubleValue: 0 } })) }));
    onlyRecord(data).attributes.forEach((a, i) => (a.value = { doubleValue: values[i]! }));
    const back = onlyRecord(decodeLogsDataJson(encodeLogsDataJson(data))).attributes.map((a) => a.value!.doubleValue);
    back.forEach((d, i) => expect(Object.is(d, values[i])).toBe(true));
    expect(encodeLogsDataJson(data)).toContain('"doubleValue":"NaN"');
    expect(encodeLogsDataJson(data)).toContain('"doubleValue":-0');

    const b = onlyRecord(decodeLogsDataJson(withRecord({ attributes: [{ key: 'u', value: { bytesValue: '-_8' } }, { key: 'p', value: { bytesValue: '+/8=' } }] })));
    expect([...b.attributes[0]!.value!.bytesValue!]).toEqual([0xfb, 0xff]);
    expect([...b.attributes[1]!.value!.bytesValue!]).toEqual([0xfb, 0xff]);
  });

  test.each([
    [
      { resourceLogs: [{ scopeLogs: [{}, { logRecords: [{}, {}, {}, { traceId: 'abc' }] }] }] },
      'resourceLogs[0].scopeLogs[1].logRecords[3].traceId: expected 32 hex characters, got string "abc"',
    ],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ spanId: 'zz02030405060708' }] }] }] }, 'resourceLogs[0].scopeLogs[0].logRecords[0].spanId: expected 16 hex characters'],
    [{ resource_logs: [{ scope_logs: [{ log_records: [{ trace_id: 5 }] }] }] }, 'resource_logs[0].scope_logs[0].log_records[0].trace_id: expected 32 hex characters, got number 5'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '12a' }] }] }] }, 'resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano: expected uint64 as an integer number or decimal string, got string "12a"'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '1.5' }] }] }] }, 'logRecords[0].timeUnixNano: expected uint64'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: -1 }] }] }] }, 'logRecords[0].timeUnixNano: -1 is out of range for uint64'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '18446744073709551616' }] }] }] }, 'timeUnixNano: 18446744073709551616 is out of range for uint64'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { intValue: 1.5 } }] }] }] }, 'logRecords[0].body.intValue: expected int64 as an integer number or decimal string, got number 1.5'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { intValue: '9223372036854775808' } }] }] }] }, 'body.intValue: 9223372036854775808 is out of range for int64'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 'LOUD' }] }] }] }, 'logRecords[0].severityNumber: unknown SeverityNumber "LOUD"'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: 'text' }] }] }] }, 'logRecords[0].body: expected an object, got string "text"'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: {} }] }] }] }, 'logRecords[0].attributes: expected an array, got an object'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: [{ key: 'k', value: { stringValue: 3 } }] }] }] }] }, 'logRecords[0].attributes[0].value.stringValue: expected a string, got number 3'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { bytesValue: 'not base64!' } }] }] }] }, 'body.bytesValue: expected base64 bytes'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'a', intValue: '1' } }] }] }] }, 'logRecords[0].body: more than one value set (stringValue and intValue)'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { boolValue: 'true' } }] }] }] }, 'body.boolValue: expected true or false'],
    [{ resourceLogs: [{ scopeLogs: [{ logRecords: [{ droppedAttributesCount: 4294967296 }] }] }] }, 'droppedAttributesCount: 4294967296 is out of range for uint32'],
    [{ resourceLogs: [{ scopeLogs: [{ scope: { attributes: [{ key: 1 }] } }] }] }, 'resourceLogs[0].scopeLogs[0].scope.attributes[0].key: expected a string, got number 1'],
    [{ resourceLogs: [{ resource: { entityRefs: [{ idKeys: [1] }] } }] }, 'resourceLogs[0].resource.entityRefs[0].idKeys[0]: expected a string'],
    [{ resourceLogs: [7] }, 'resourceLogs[0]: expected an object, got number 7'],
    [[1], 'expected a JSON object (ExportLogsServiceRequest), got an array'],
  ])('names the path of invalid input: %j', (input, message) => {
    expect(() => decodeLogsDataJson(JSON.stringify(input))).toThrow(message);
  });

  test('rejects text that is not JSON or not UTF-8', () => {
    expect(() => decodeLogsDataJson('{"resourceLogs":')).toThrow(/^invalid JSON: /);
    expect(() => decodeLogsDataJson(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow('invalid JSON: not valid UTF-8');
  });

  test('an int64 number in exponent form beyond 2^53 is refused rather than rounded', () => {
    expect(() => decodeLogsDataJson(withRecord({}).replace('{}', '{"timeUnixNano":1.7e18}'))).toThrow(/timeUnixNano: expected uint64/);
  });

  test('ExportLogsServiceResponse both ways, with and without partial success', () => {
    expect(encodeExportResponseJson({})).toBe('{}');
    const json = encodeExportResponseJson({ partialSuccess: { rejectedLogRecords: 2, errorMessage: 'too big' } });
    expect(JSON.parse(json)).toEqual({ partialSuccess: { rejectedLogRecords: '2', errorMessage: 'too big' } });
    const back = decodeExportResponseJson(json);
    expect(Long.fromValue(back.partialSuccess!.rejectedLogRecords).toNumber()).toBe(2);
    expect(back.partialSuccess!.errorMessage).toBe('too big');
    expect(decodeExportResponseJson('')).toEqual({});
    expect(decodeExportResponseJson('{}')).toEqual({});
    const snake = decodeExportResponseJson('{"partial_success":{"rejected_log_records":3,"error_message":"m"}}');
    expect([Long.fromValue(snake.partialSuccess!.rejectedLogRecords).toNumber(), snake.partialSuccess!.errorMessage]).toEqual([3, 'm']);
    expect(() => decodeExportResponseJson('{"partialSuccess":{"rejectedLogRecords":"x"}}')).toThrow('partialSuccess.rejectedLogRecords: expected int64');
  });

  test('google.rpc.Status in JSON and protobuf', () => {
    const status = { code: 3, message: 'bad request: résumé' };
    expect(decodeStatusJson(encodeStatusJson(status))).toEqual(status);
    expect(decodeStatus(encodeStatus(status))).toEqual(status);
    expect(decodeStatus(new Uint8Array(0))).toEqual({ code: 0, message: '' });
    // A Status with details (field 3) from another server still decodes.
    const withDetails = Buffer.concat([Buffer.from(encodeStatus(status)), Buffer.from([0x1a, 0x02, 0x0a, 0x00])]);
    expect(decodeStatus(withDetails)).toEqual(status);
  });
});

test('a lone surrogate escape in a JSON string becomes U+FFFD, so the request encodes to valid UTF-8', () => {
  const data = decodeLogsDataJson('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"ab\\ud800c"}}]}]}]}');
  expect(data.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body!.stringValue).toBe('ab\ufffdc');
  expect(Buffer.from(encodeLogsData(data)).includes(Buffer.from([0xed, 0xa0, 0x80]))).toBe(false);
});
