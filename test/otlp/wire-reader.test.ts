/**
 * The admission wire reader: limits on records, resources and scopes, malformed input, removal
 * of rejected parts as bytes, and differential agreement with the protobuf decoder.
 */
import fc from 'fast-check';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import { countRecords, type AnyValue, type LogRecord, type LogsData } from '../../src/otlp/model';
import { MalformedRequest, countRequestRecords, readRequest, removeFields, type RecordLimits } from '../../src/otlp/wire-reader';
import { logsDataArb } from '../helpers/arbitraries';
import { attrs, bodies, record, request } from '../helpers/builders';
import { lenField, utf8 } from '../helpers/wire';

const limits: RecordLimits = {
  maxBodyBytes: 100,
  maxAttributes: 3,
  maxAttributeKeyBytes: 12,
  maxAttributeValueBytes: 20,
  maxDepth: 3,
  maxCollectionLength: 4,
};

const nest = (depth: number): AnyValue => (depth === 0 ? { stringValue: 'leaf' } : { arrayValue: { values: [nest(depth - 1)] } });

/** Reads `data` and returns the report with the request as it would be forwarded. */
function admit(data: LogsData, l: RecordLimits = limits): { report: ReturnType<typeof readRequest>; kept: LogsData } {
  const bytes = encodeLogsData(data);
  const report = readRequest(bytes, l);
  return { report, kept: decodeLogsData(removeFields(bytes, report.cuts)) };
}

/** A request of one resource, one scope and the given record contents (raw bytes). */
const rawRequest = (...records: number[][]): Uint8Array => Uint8Array.from(lenField(1, lenField(2, records.flatMap((r) => lenField(2, r)))));

describe('per-record limits', () => {
  test.each<[string, LogRecord, string, string]>([
    ['a string body over max_body_bytes', record('x'.repeat(101)), 'body_too_large', 'body is 101 bytes, over the 100-byte limit (OLP_LIMITS_MAX_BODY_BYTES)'],
    ['a multi-byte body measured in UTF-8 bytes', record('é'.repeat(51)), 'body_too_large', 'body is 102 bytes'],
    ['a bytes body over max_body_bytes', record('', { body: { bytesValue: new Uint8Array(101) } }), 'body_too_large', 'body is 101 bytes'],
    ['too many attributes', record('ok', { attributes: ['a', 'b', 'c', 'd'].map((k) => ({ key: k, value: { stringValue: 'v' } })) }), 'too_many_attributes', '(OLP_LIMITS_MAX_ATTRIBUTES)'],
    ['an attribute key too long', record('ok', { attributes: [{ key: 'k'.repeat(13), value: { stringValue: 'v' } }] }), 'key_too_long', 'attributes[0].key is 13 bytes'],
    ['an attribute value too long', record('ok', { attributes: [{ key: 'k', value: { stringValue: 'v'.repeat(21) } }] }), 'value_too_large', 'attributes[0].value is 21 bytes'],
    ['a structured body nested too deep', record('', { body: nest(4) }), 'too_deep', 'nests deeper than 3 levels (OLP_LIMITS_MAX_DEPTH)'],
    ['an attribute value nested too deep', record('ok', { attributes: [{ key: 'k', value: nest(4) }] }), 'too_deep', 'attributes[0].value'],
    ['an array too long', record('', { body: { arrayValue: { values: Array.from({ length: 5 }, () => ({ boolValue: true })) } } }), 'collection_too_long', 'more than 4 entries'],
    ['a map key too long inside the body', record('', { body: { kvlistValue: { values: [{ key: 'k'.repeat(13), value: {} }] } } }), 'key_too_long', 'body[0].key'],
    ['a long string inside a structured body', record('', { body: { kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'm'.repeat(21) } }] } } }), 'value_too_large', 'body[0].value is 21 bytes'],
    ['a severity text over the value limit', record('ok', { severityText: 'S'.repeat(21) }), 'value_too_large', 'severity_text is 21 bytes'],
  ])('rejects a record with %s, naming field and limit, and forwards the others', (_name, bad, reason, detail) => {
    const { report, kept } = admit(request([record('before'), bad, record('after')]));
    expect(report.records).toBe(3);
    expect(report.rejected).toBe(1);
    expect(report.reasons).toEqual({ [reason]: 1 });
    expect(report.message).toContain('1 log record rejected; first: resource_logs[0].scope_logs[0].log_records[1]');
    expect(report.message).toContain(detail);
    expect(bodies(kept.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['before', 'after']);
  });

  test('an attribute over the value limit counts as value_too_large when the body limit is the same', () => {
    const same = { ...limits, maxBodyBytes: 20 };
    const { report } = admit(request([record('ok', { attributes: [{ key: 'k', value: { stringValue: 'v'.repeat(21) } }] })]), same);
    expect(report.reasons).toEqual({ value_too_large: 1 });
  });

  test('accepts records exactly at every limit', () => {
    const atLimit = record('x'.repeat(100), {
      attributes: [
        { key: 'k'.repeat(12), value: { stringValue: 'v'.repeat(20) } },
        { key: 'deep', value: nest(3) },
        { key: 'list', value: { arrayValue: { values: Array.from({ length: 4 }, () => ({ boolValue: true })) } } },
      ],
    });
    expect(admit(request([atLimit])).report.rejected).toBe(0);
  });

  test('counts several rejections by reason and reports the first', () => {
    const { report } = admit(request([record('x'.repeat(200)), record('fine'), record('', { body: nest(10) }), record('y'.repeat(300))]));
    expect(report.rejected).toBe(3);
    expect(report.reasons).toEqual({ body_too_large: 2, too_deep: 1 });
    expect(report.message).toMatch(/^3 log records rejected; first: .*log_records\[0\]\.body is 200 bytes/);
  });

  test('a value nested far past the limit is rejected without descending into it', () => {
    let body: number[] = lenField(1, utf8('leaf'));
    for (let i = 0; i < 1_000; i++) body = lenField(5, lenField(1, body));
    // Past the limit, the inner bytes are not read: garbage there (wire type 7) changes nothing.
    body[body.length - 6] = 0x0f;
    const bytes = rawRequest(lenField(5, body));
    const report = readRequest(bytes, limits);
    expect(report).toMatchObject({ records: 1, rejected: 1, reasons: { too_deep: 1 } });
  });
});

describe('resource and scope limits', () => {
  const wide = Object.fromEntries(['a', 'b', 'c', 'd'].map((k) => [k, 'v']));

  test.each<[string, LogsData, string, string]>([
    ['a resource with too many attributes', request([record('1'), record('2')], wide), 'too_many_attributes', 'resource_logs[0].resource.attributes has more than 3 entries'],
    ['a resource attribute value too long', request([record('1'), record('2')], { 'service.name': 'x'.repeat(21) }), 'value_too_large', 'resource_logs[0].resource.attributes[0].value is 21 bytes'],
    ['a resource attribute key too long', request([record('1'), record('2')], { ['k'.repeat(13)]: 'v' }), 'key_too_long', 'resource_logs[0].resource.attributes[0].key'],
  ])('%s rejects every record of that resource and removes it', (_name, data, reason, detail) => {
    const good = request([record('kept')]);
    data.resourceLogs.push(...good.resourceLogs);
    const { report, kept } = admit(data);
    expect(report).toMatchObject({ records: 3, rejected: 2, reasons: { [reason]: 2 } });
    expect(report.message).toContain(detail);
    expect(kept.resourceLogs).toHaveLength(1);
    expect(bodies(kept.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['kept']);
  });

  test('a scope over a limit rejects the records of that scope only', () => {
    const data = request([record('1'), record('2')]);
    const rl = data.resourceLogs[0]!;
    rl.scopeLogs[0]!.scope!.attributes = attrs({ a: '1', b: '2', c: '3', d: '4' });
    rl.scopeLogs.push({ scope: { name: 'ok', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [record('3')] });
    const { report, kept } = admit(data);
    expect(report).toMatchObject({ records: 3, rejected: 2, reasons: { too_many_attributes: 2 } });
    expect(report.message).toContain('resource_logs[0].scope_logs[0].scope.attributes');
    expect(kept.resourceLogs[0]!.scopeLogs.map((sl) => bodies(sl.logRecords))).toEqual([['3']]);
  });

  test('a resource over max_attributes is refused without reading the rest of it', () => {
    const attribute = lenField(1, lenField(1, utf8('k')));
    // Garbage after the fourth attribute: reading on would find it malformed.
    const resource = lenField(1, [...Array.from({ length: 4 }, () => attribute).flat(), 0x07, 0xff, 0xff]);
    const bytes = Uint8Array.from(lenField(1, [...resource, ...lenField(2, lenField(2, lenField(5, lenField(1, utf8('x')))))]));
    const report = readRequest(bytes, limits);
    expect(report).toMatchObject({ records: 1, rejected: 1, reasons: { too_many_attributes: 1 } });
    expect(countRecords(decodeLogsData(removeFields(bytes, report.cuts)))).toBe(0);
  });
});

describe('malformed requests', () => {
  test.each<[string, Uint8Array, string]>([
    ['a truncated record', rawRequest(lenField(5, lenField(1, utf8('abc')))).subarray(0, 8), 'truncated'],
    ['a length past the end', Uint8Array.from([0x0a, 0xff, 0xff, 0x01]), 'truncated'],
    ['a varint of 11 bytes', Uint8Array.from([0x10, ...Array(10).fill(0xff), 0x01]), 'varint'],
    ['field number 0', Uint8Array.from([0x02, 0x00]), 'field_number'],
    ['a message field (body) sent as a varint', rawRequest([0x28, 0x01]), 'wire_type'],
    ['a string field (severity_text) sent as a varint', rawRequest([0x18, 0x05]), 'wire_type'],
    ['wire type 7', Uint8Array.from([0x0f]), 'wire_type'],
    ['an end-group without a start', Uint8Array.from([0x7c]), 'group'],
    ['a group closed by another field number', Uint8Array.from([0x7b, 0x84, 0x01]), 'group'],
    ['a group with no end', Uint8Array.from([0x7b, 0x08, 0x01]), 'group'],
    ['invalid UTF-8 in a body', rawRequest(lenField(5, lenField(1, [0x61, 0xff, 0x62]))), 'utf8'],
    ['a lone surrogate encoded in a key', rawRequest(lenField(6, lenField(1, [0xed, 0xa0, 0x80]))), 'utf8'],
  ])('refuses %s', (_name, bytes, kind) => {
    let error: unknown;
    try {
      readRequest(bytes, limits);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MalformedRequest);
    expect((error as MalformedRequest).kind).toBe(kind);
  });

  test('accepts unknown fields and well-formed unknown groups anywhere, and keeps them when cutting', () => {
    const group = [0x7b, 0x08, 0x01, 0x7c]; // field 15: start, a varint, end
    const good = [...lenField(5, lenField(1, utf8('good'))), ...group];
    const bad = [...lenField(5, lenField(1, utf8('b'.repeat(101)))), ...group];
    const bytes = Uint8Array.from([...lenField(1, [...lenField(2, [...lenField(2, good), ...lenField(2, bad), ...group]), ...group]), ...group]);
    expect(countRequestRecords(bytes)).toBe(2);
    const report = readRequest(bytes, limits);
    expect(report).toMatchObject({ records: 2, rejected: 1 });
    const kept = removeFields(bytes, report.cuts);
    expect(Buffer.from(kept)).toEqual(Buffer.from([...lenField(1, [...lenField(2, [...lenField(2, good), ...group]), ...group]), ...group]));
  });
});

describe('countRequestRecords', () => {
  test('counts the records of any well-formed request', () => {
    fc.assert(
      fc.property(logsDataArb(), (data) => {
        expect(countRequestRecords(encodeLogsData(data))).toBe(countRecords(data));
      }),
      { numRuns: 300 },
    );
  });

  test('counts a request with an empty unknown group appended (the decoder skips it)', () => {
    const bytes = Buffer.concat([encodeLogsData(request([record('a'), record('b')])), Buffer.from([0x7b, 0x7c])]);
    expect(countRecords(decodeLogsData(bytes))).toBe(2);
    expect(countRequestRecords(bytes)).toBe(2);
  });
});

/**
 * Where the reader may refuse what protobufjs decodes: classes in which protobufjs misreads or
 * does not check (documented in README's Limits). Anything else must agree.
 */
const STRICTER = new Set(['wire_type', 'field_number', 'group', 'utf8', 'varint']);

function differential(bytes: Uint8Array): void {
  let report: ReturnType<typeof readRequest> | undefined;
  let refused: MalformedRequest | undefined;
  try {
    report = readRequest(bytes, limits);
  } catch (e) {
    if (!(e instanceof MalformedRequest)) throw e;
    refused = e;
  }
  let decoded: LogsData | undefined;
  try {
    decoded = decodeLogsData(bytes);
  } catch {
    decoded = undefined;
  }
  if (refused) {
    if (decoded) expect(STRICTER).toContain(refused.kind);
    return;
  }
  // Never more permissive: what the reader forwards (the request without its rejected parts,
  // whose rest is not read), the decoder reads, with the records the reader counted.
  const r = report!;
  expect(countRequestRecords(bytes)).toBe(r.records);
  const kept = decodeLogsData(removeFields(bytes, r.cuts));
  expect(countRecords(kept)).toBe(r.records - r.rejected);
  // Nothing cut (a part rejected with no record in it is cut unread too): the request as received must decode the same.
  if (r.cuts.length === 0) expect(countRecords(decoded!)).toBe(r.records);
}

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

describe(`differential reading against the protobuf decoder (${RUNS} inputs per property)`, () => {
  test('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), differential), { numRuns: RUNS });
  });

  test('mutated valid requests', () => {
    const mutated = fc.tuple(logsDataArb(), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 }), fc.constantFrom('flip', 'cut', 'insert')), { minLength: 1, maxLength: 3 })).map(([data, edits]) => {
      let b = Buffer.from(encodeLogsData(data));
      for (const [pos, byte, op] of edits) {
        if (b.length === 0) break;
        const i = pos % b.length;
        if (op === 'flip') b[i] = byte;
        else if (op === 'cut') b = b.subarray(0, i);
        else b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
      }
      return b;
    });
    fc.assert(fc.property(mutated, differential), { numRuns: RUNS });
  });

  test('valid requests with unknown fields and groups inserted between fields are read as the decoder reads them, and cutting keeps every other byte', () => {
    fc.assert(
      fc.property(logsDataArb(), (data) => {
        const bytes = Buffer.concat([encodeLogsData(data), Buffer.from([0x7b, 0x7c, 0xf8, 0x07, 0x05])]);
        differential(bytes);
        const report = readRequest(bytes, limits);
        if (report.rejected === 0) expect(Buffer.from(removeFields(bytes, report.cuts))).toEqual(bytes);
      }),
      { numRuns: Math.max(1, Math.floor(RUNS / 3)) },
    );
  });
});

describe('review cases', () => {
  test('a resource with no records that breaks a limit rejects nothing and does not name the first rejection', () => {
    const data = request([], { ['k'.repeat(13)]: 'v' });
    data.resourceLogs.push(...request([record('b'.repeat(101))]).resourceLogs);
    const { report } = admit(data);
    expect(report).toMatchObject({ records: 1, rejected: 1, reasons: { body_too_large: 1 } });
    expect(report.message).toContain('resource_logs[1].scope_logs[0].log_records[0].body');
  });

  test('cutting 100,000 rejected scopes takes one pass (the cuts are shared, not copied per level)', () => {
    const badScope = lenField(2, lenField(1, lenField(3, lenField(1, utf8('k'.repeat(13))))));
    const good = lenField(1, lenField(2, lenField(2, lenField(5, lenField(1, utf8('kept'))))));
    const bytes = Uint8Array.from([...Array.from({ length: 100_000 }, () => lenField(1, badScope)).flat(), ...good]);
    const report = readRequest(bytes, limits);
    expect(report.cuts).toHaveLength(100_000);
    const kept = removeFields(bytes, report.cuts);
    expect(countRecords(decodeLogsData(kept))).toBe(1);
    // A small remainder has a buffer of its own rather than pinning the whole request.
    expect(kept.buffer.byteLength).toBeLessThan(bytes.length / 2);
  });
});
