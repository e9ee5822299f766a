import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import Long from 'long';
import { RE2JS } from 're2js';
import { MATCHES_CACHE_SIZE, compileCondition } from '../../src/conditions';
import { encodeLogsData } from '../../src/otlp/codec';
import type * as otlp from '../../src/otlp/model';
import { intValue, newLogRecord, stringValue } from '../../src/otlp/values';
import { RecordBatch } from '../../src/records/batch';
import type { LogRecord } from '../../src/records/types';
import { attrs } from '../helpers/builders';

const resource: otlp.Resource = { attributes: attrs({ 'service.name': 'checkout', 'k8s.namespace.name': 'prod' }), droppedAttributesCount: 0, entityRefs: [] };
const scope: otlp.InstrumentationScope = { name: 'com.example.db', version: '1', attributes: [], droppedAttributesCount: 0 };

/** The records as a processor sees them: in one group, under `resource` and `scope` (none when null). */
function recordsOf(records: otlp.LogRecord[], res: otlp.Resource | null = resource, sc: otlp.InstrumentationScope | null = scope): LogRecord[] {
  const data: otlp.LogsData = { resourceLogs: [{ resource: res, schemaUrl: '', scopeLogs: [{ scope: sc, schemaUrl: '', logRecords: records }] }] };
  return [...new RecordBatch(encodeLogsData(data))];
}

function recordOf(r: otlp.LogRecord, res: otlp.Resource | null = resource, sc: otlp.InstrumentationScope | null = scope): LogRecord {
  return recordsOf([r], res, sc)[0]!;
}

const structured: otlp.AnyValue = {
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

const rec = recordOf(
  newLogRecord({
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
  }),
);

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
    expect(compileCondition(expr).matches(rec)).toBe(expected);
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
    expect(compileCondition(expr).matches(recordOf(newLogRecord({ body: structured }), null, null))).toBe(expected);
  });

  test('absent resource, scope and body: empty maps and strings, null body', () => {
    const bare = recordOf(newLogRecord(), null, null);
    expect(compileCondition('size(resource) == 0 && scope_name == "" && body == null && trace_id == ""').matches(bare)).toBe(true);
  });

  test('a runtime error (missing key read without has()) counts as no match, also when negated', () => {
    for (const expr of ['attributes.missing == "x"', '!(attributes.missing == "x")', 'body.matches("(")']) {
      const c = compileCondition(expr);
      expect(c.matches(rec)).toBe(false);
      expect(c.errors).toBe(1);
    }
  });

  test('resource attributes changed in place are seen after reset()', () => {
    const r = recordOf(newLogRecord(), { attributes: attrs({ 'service.name': 'a' }), droppedAttributesCount: 0, entityRefs: [] });
    const c = compileCondition('resource["service.name"] == "b"');
    expect(c.matches(r)).toBe(false);
    r.resource.attributes.set('service.name', 'b');
    c.reset();
    expect(c.matches(r)).toBe(true);
  });

  test('the resource is converted once for the records sharing it', () => {
    const records = recordsOf([newLogRecord(), newLogRecord(), newLogRecord()]);
    const c = compileCondition('resource["service.name"] == "checkout"');
    const iterate = jest.spyOn(records[0]!.resource.attributes, Symbol.iterator);
    expect(records.map((r) => c.matches(r))).toEqual([true, true, true]);
    expect(iterate).toHaveBeenCalledTimes(1);
  });

  test('a record attribute repeated on the wire reads as its first value, as Attributes.get does', () => {
    const r = recordOf(newLogRecord({ attributes: [...attrs({ user: 'alice' }), ...attrs({ user: 'bob' })] }));
    expect(compileCondition('attributes.user == "alice"').matches(r)).toBe(true);
  });

  describe('matches', () => {
    afterEach(() => jest.restoreAllMocks());

    test('compiles each pattern once, not once per record, and still answers per record', () => {
      const compile = jest.spyOn(RE2JS, 'compile');
      const c = compileCondition('body.matches("^GET /[a-z]+ (2|5)\\\\d\\\\d$") || body.matches("^cache-once-[0-9]+$")');
      const answers = recordsOf(['GET /health 200', 'GET /x 503', 'POST /x 200', 'cache-once-7', 'cache-once-x'].map((b) => newLogRecord({ body: stringValue(b) }))).map((r) => c.matches(r));
      for (const r of recordsOf(Array.from({ length: 1000 }, (_v, i) => newLogRecord({ body: stringValue(`GET /p ${i}`) })))) c.matches(r);
      expect(answers).toEqual([true, true, false, true, false]);
      expect(compile.mock.calls.map(([p]) => p).sort()).toEqual(['^GET /[a-z]+ (2|5)\\d\\d$', '^cache-once-[0-9]+$']);
    });

    test('the cache is bounded: past its size the least recently used pattern is compiled again', () => {
      const compile = jest.spyOn(RE2JS, 'compile');
      const c = compileCondition('body.matches(attributes.pattern)');
      const run = (pattern: string) => c.matches(recordOf(newLogRecord({ body: stringValue('x'), attributes: attrs({ pattern }) })));
      for (const r of recordsOf(Array.from({ length: MATCHES_CACHE_SIZE + 1 }, (_v, i) => newLogRecord({ body: stringValue('x'), attributes: attrs({ pattern: `^bounded-${i}$` }) })))) c.matches(r);
      expect(compile).toHaveBeenCalledTimes(MATCHES_CACHE_SIZE + 1);
      run(`^bounded-${MATCHES_CACHE_SIZE}$`); // most recent: still cached
      expect(compile).toHaveBeenCalledTimes(MATCHES_CACHE_SIZE + 1);
      run('^bounded-0$'); // evicted
      expect(compile).toHaveBeenCalledTimes(MATCHES_CACHE_SIZE + 2);
    });

    test('an invalid pattern is an error (no match) on every record, compiled once', () => {
      const compile = jest.spyOn(RE2JS, 'compile');
      const c = compileCondition('body.matches("(unclosed")');
      expect([1, 2, 3].map(() => c.matches(rec))).toEqual([false, false, false]);
      expect(c.errors).toBe(3);
      expect(compile).toHaveBeenCalledTimes(1);
    });

    test('runs in linear time: a pattern that backtracks exponentially elsewhere answers at once', () => {
      const c = compileCondition('body.matches("^(a+)+$")');
      const r = recordOf(newLogRecord({ body: stringValue(`${'a'.repeat(50_000)}b`) }));
      const started = process.hrtime.bigint();
      expect(c.matches(r)).toBe(false);
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
    });
  });
});

describe('loading', () => {
  const loadsCel = (script: string): boolean =>
    execFileSync(process.execPath, ['-e', `${script}; process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes('@bufbuild/cel'))))`], {
      cwd: path.resolve(__dirname, '..', '..'),
      encoding: 'utf8',
    }) === 'true';

  test('the CEL runtime is loaded by the first condition compiled, not by the service module', () => {
    expect(loadsCel("require('./dist/src/service')")).toBe(false);
    expect(loadsCel("require('./dist/src/conditions').compileCondition('severity_number >= 17')")).toBe(true);
  });
});
