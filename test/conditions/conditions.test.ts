import Long from 'long';
import { compileCondition } from '../../src/conditions';
import type { AnyValue, InstrumentationScope, Resource } from '../../src/otlp/model';
import { intValue, newLogRecord, stringValue } from '../../src/otlp/values';
import { attrs } from '../helpers/builders';

const resource: Resource = { attributes: attrs({ 'service.name': 'checkout', 'k8s.namespace.name': 'prod' }), droppedAttributesCount: 0, entityRefs: [] };
const scope: InstrumentationScope = { name: 'com.example.db', version: '1', attributes: [], droppedAttributesCount: 0 };

const structured: AnyValue = {
  kvlistValue: {
    values: [
      { key: 'msg', value: stringValue('payment failed') },
      { key: 'code', value: intValue(502) },
      { key: 'ratio', value: { doubleValue: 0.25 } },
      { key: 'ok', value: { boolValue: false } },
      { key: 'tags', value: { arrayValue: { values: [stringValue('a'), stringValue('b')] } } },
      { key: 'raw', value: { bytesValue: new Uint8Array([1, 2]) } },
      { key: 'big', value: intValue(-9007199254740993n) },
    ],
  },
};

const rec = newLogRecord({
  body: stringValue('GET /health 200'),
  severityNumber: 9,
  severityText: 'INFO',
  attributes: [
    { key: 'http.status_code', value: intValue(503) },
    { key: 'user', value: stringValue('alice') },
    { key: 'sampled', value: { boolValue: true } },
  ],
  eventName: 'request.done',
  traceId: new Uint8Array([0x0a, 0xff, ...new Array(14).fill(0)]),
  spanId: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
  // 2^53 + 1 and 2^53 + 3: distinct only with exact 64-bit values.
  timeUnixNano: Long.fromString('9007199254740993', true),
  observedTimeUnixNano: Long.fromString('9007199254740995', true),
});

describe('condition compile errors name the problem', () => {
  test.each([
    ['severity_number <', /syntax error.*column/],
    ['sevrity_number < 13', /unknown variable "sevrity_number".*column 1/],
    ['attributes.x == 1 && nosuch(body)', /unknown function "nosuch"/],
    ['body.startsWithh("a")', /unknown function "startsWithh"/],
    ['severity_number == "ERROR"', /severity_number is int, compared with a string literal/],
    ['severity_text > 3', /severity_text is string, compared with a int literal/],
    ['severity_number + 1', /must be a bool/],
    ['"x"', /must be a bool/],
    ['', /empty/],
  ])('%j', (expr, message) => {
    expect(() => compileCondition(expr)).toThrow(message);
  });

  test('comprehension variables and type names are not unknown variables', () => {
    expect(() => compileCondition('attributes.exists(k, k.startsWith("us")) && type(body) == string')).not.toThrow();
  });
});

describe('condition variables', () => {
  test.each([
    ['body == "GET /health 200"', true],
    ['body.contains("/health")', true],
    ['body.matches("^GET /[a-z]+ 2\\\\d\\\\d$")', true],
    ['severity_number < 13', true],
    ['severity_number >= 13', false],
    ['severity_text == "INFO"', true],
    ['attributes["http.status_code"] >= 500', true],
    ['attributes.user == "alice" && attributes.sampled', true],
    ['"user" in attributes', true],
    ['has(attributes.missing)', false],
    ['resource["service.name"] == "checkout"', true],
    ['resource["k8s.namespace.name"].startsWith("pro")', true],
    ['scope_name == "com.example.db"', true],
    ['event_name == "request.done"', true],
    ['trace_id == "0aff0000000000000000000000000000"', true],
    ['span_id == "0102030405060708"', true],
    ['time_unix_nano == 9007199254740993', true],
    ['time_unix_nano == 9007199254740992', false],
    ['time_unix_nano > 9007199254740992', true],
    ['observed_time_unix_nano - time_unix_nano == 2', true],
  ])('%s → %s', (expr, expected) => {
    expect(compileCondition(expr).matches(rec, resource, scope)).toBe(expected);
  });

  test.each([
    ['body.msg == "payment failed"', true],
    ['body.code == 502', true],
    ['body.ratio < 0.5', true],
    ['!body.ok', true],
    ['"b" in body.tags && size(body.tags) == 2', true],
    ['body.raw == b"\\x01\\x02"', true],
    ['body.big == -9007199254740993', true],
  ])('structured body: %s → %s', (expr, expected) => {
    expect(compileCondition(expr).matches(newLogRecord({ body: structured }), null, null)).toBe(expected);
  });

  test('absent resource, scope and body: empty maps and strings, null body', () => {
    const bare = newLogRecord();
    expect(compileCondition('size(resource) == 0 && scope_name == "" && body == null && trace_id == ""').matches(bare, null, undefined)).toBe(true);
  });

  test('a runtime error (missing key read without has()) counts as no match, also when negated', () => {
    for (const expr of ['attributes.missing == "x"', '!(attributes.missing == "x")', 'body.matches("(")']) {
      const c = compileCondition(expr);
      expect(c.matches(rec, resource, scope)).toBe(false);
      expect(c.errors).toBe(1);
    }
  });

  test('resource attributes changed in place are seen after reset()', () => {
    const r: Resource = { attributes: attrs({ 'service.name': 'a' }), droppedAttributesCount: 0, entityRefs: [] };
    const c = compileCondition('resource["service.name"] == "b"');
    expect(c.matches(rec, r, scope)).toBe(false);
    r.attributes[0] = { key: 'service.name', value: stringValue('b') };
    c.reset();
    expect(c.matches(rec, r, scope)).toBe(true);
  });
});
