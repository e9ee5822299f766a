import pino from 'pino';
import Long from 'long';
import { status } from '@grpc/grpc-js';
import { resolveConfig } from '../../src/config/resolve';
import type { OptionValues } from '../../src/config/options';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import type { AnyValue, LogRecord, LogsData } from '../../src/otlp/model';
import { OptionError } from '../../src/processors/contract';
import { PARSE_ERROR_ATTRIBUTE, ParseProcessorInstance, parseProcessor } from '../../src/processors/parse';
import { builtinProcessors } from '../../src/processors/registry';
import { createStages } from '../../src/pipeline/stages';
import { record, request } from '../helpers/builders';
import { exportLogs } from '../helpers/grpc-client';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { createProcessor, runProcessor } from '../helpers/processors';
import { plainAttributes, plainValue } from '../helpers/values';
import { startTestService, type TestService } from '../helpers/service';

type Options = Partial<OptionValues<typeof parseProcessor.options>>;

const ORIGINAL_TIME = '1700000000123456789';

/** Runs the processor over the records (one resource and scope); `records` are the records it wrote. */
function run(options: Options, records: LogRecord[]): { records: LogRecord[]; processor: ParseProcessorInstance; drops: Record<string, number> } {
  const processor = createProcessor(parseProcessor, options) as ParseProcessorInstance;
  const { out, drops } = runProcessor(processor, request(records));
  return { records: out.resourceLogs[0]!.scopeLogs[0]!.logRecords, processor, drops };
}

/** The value of an attribute of a decoded record. */
function attribute(r: LogRecord, key: string): AnyValue | undefined {
  return r.attributes.find((kv) => kv.key === key)?.value ?? undefined;
}

/** What a request comes out as when nothing changes it. */
function unchanged(data: LogsData): LogsData {
  return decodeLogsData(encodeLogsData(data));
}

function one(options: Options, body: string | AnyValue, fields: Partial<LogRecord> = {}): LogRecord {
  const rec = typeof body === 'string' ? record(body, fields) : record('', { body, ...fields });
  return run(options, [rec]).records[0]!;
}

function createError(options: Options): OptionError {
  try {
    createProcessor(parseProcessor, options);
  } catch (e) {
    expect(e).toBeInstanceOf(OptionError);
    return e as OptionError;
  }
  throw new Error('expected an OptionError');
}

describe('parse processor: formats and fields', () => {
  test('json into top-level attributes, with level and time taken from the fields', () => {
    const r = one({}, '{"time":"2024-01-02T03:04:05.123456789Z","level":"warn","msg":"disk low","free":12,"ratio":0.5,"tags":["a"],"ctx":{"id":"x"}}');
    expect(plainAttributes(r.attributes)).toEqual({
      time: '2024-01-02T03:04:05.123456789Z', level: 'warn', msg: 'disk low', free: 12n, ratio: 0.5, tags: ['a'], ctx: { id: 'x' },
    });
    expect(r.severityText).toBe('warn');
    expect(r.severityNumber).toBe(0); // numbers are the severity processor's job
    expect(r.timeUnixNano.toString()).toBe('1704164645123456789');
    expect(r.body?.stringValue).toMatch(/^\{"time"/);
  });

  test('json with body=replace becomes a structured body, not attributes', () => {
    const r = one({ body: 'replace' }, '{"msg":"hi","n":9007199254740993}', { attributes: [{ key: 'keep', value: { stringValue: 'me' } }] });
    expect(plainValue(r.body)).toEqual({ msg: 'hi', n: 9007199254740993n });
    expect(plainAttributes(r.attributes)).toEqual({ keep: 'me' });
  });

  test('a structured body is read for time and level, not re-parsed', () => {
    const body: AnyValue = { kvlistValue: { values: [{ key: 'ts', value: { intValue: Long.fromString('1700000000123') } }, { key: 'level', value: { stringValue: 'error' } }] } };
    const r = one({ body: 'replace' }, body);
    expect(plainValue(r.body)).toEqual({ ts: 1700000000123n, level: 'error' });
    expect(r.timeUnixNano.toString()).toBe('1700000000123000000');
    expect(r.severityText).toBe('error');
    const kept = one({}, body);
    expect(plainAttributes(kept.attributes)).toEqual({ ts: 1700000000123n, level: 'error' });
    expect(plainValue(kept.body)).toEqual({ ts: 1700000000123n, level: 'error' });
  });

  test('logfmt with a prefix and body=replace', () => {
    const r = one({ format: 'logfmt', target: 'parsed.', body: 'replace' }, 'time=2024-01-02T03:04:05Z level=INFO msg="request done" status=200');
    expect(r.body?.stringValue).toBe('request done');
    expect(plainAttributes(r.attributes)).toEqual({ 'parsed.time': '2024-01-02T03:04:05Z', 'parsed.level': 'INFO', 'parsed.status': '200' });
    expect(r.severityText).toBe('INFO');
    expect(r.timeUnixNano.toString()).toBe('1704164645000000000');
  });

  test('nest=true writes one kvlist attribute', () => {
    const r = one({ format: 'logfmt', target: 'log', nest: true }, 'a=1 b=2');
    expect(plainAttributes(r.attributes)).toEqual({ log: { a: '1', b: '2' } });
    const dotted = one({ format: 'logfmt', target: 'log.', nest: true }, 'a=1');
    expect(plainAttributes(dotted.attributes)).toEqual({ log: { a: '1' } });
  });

  test('keyvalue with custom delimiters', () => {
    const r = one({ format: 'keyvalue', pair_delimiter: ';', kv_delimiter: ':' }, 'user: bob; role: "admin; ops"');
    expect(plainAttributes(r.attributes)).toEqual({ user: 'bob', role: 'admin; ops' });
  });

  test('regex with named groups, message and level', () => {
    const r = one({ format: 'regex', pattern: '^(?P<timestamp>\\S+) (?P<level>\\w+) (?P<message>.*)$', body: 'replace' }, '2024-01-02T03:04:05Z ERROR db down\r\n');
    expect(r.body?.stringValue).toBe('db down');
    expect(r.severityText).toBe('ERROR');
    expect(r.timeUnixNano.toString()).toBe('1704164645000000000');
    expect(plainAttributes(r.attributes)).toEqual({ timestamp: '2024-01-02T03:04:05Z', level: 'ERROR' });
  });

  test.each<[string, string, Record<string, unknown>, string, string]>([
    ['clf', '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326', { host: '127.0.0.1', user: 'frank', timestamp: '10/Oct/2000:13:55:36 -0700', method: 'GET', path: '/a', protocol: 'HTTP/1.0', status: 200n, size: 2326n }, '971211336000000000', ''],
    ['nginx', '::1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 404 0 "-" "curl"', { host: '::1', timestamp: '10/Oct/2000:13:55:36 +0000', method: 'GET', path: '/', protocol: 'HTTP/1.1', status: 404n, size: 0n, agent: 'curl' }, '971186136000000000', ''],
    ['syslog', '<165>1 2003-10-11T22:14:15.003Z host app - ID47 - hello', { facility: 'local4', severity: 'notice', version: 1n, timestamp: '2003-10-11T22:14:15.003Z', hostname: 'host', appname: 'app', msgid: 'ID47', message: 'hello' }, '1065910455003000000', 'notice'],
    ['klog', 'E0102 15:04:05.123456 7 a.go:9] boom', { level: 'error', timestamp: '0102 15:04:05.123456', id: 7n, file: 'a.go', line: 9n, message: 'boom' }, '1704207845123456000', 'error'],
    ['header', '2015-10-18 18:01:47,978 INFO [main] org.Foo: hello', { timestamp: '2015-10-18 18:01:47,978', level: 'INFO', thread: 'main', logger: 'org.Foo', message: 'hello' }, '1445191307978000000', 'INFO'],
  ])('preset %s', (format, line, expected, time, level) => {
    // klog has no year: the observed time is the reference.
    const r = one({ format: format as never }, line, { observedTimeUnixNano: Long.fromString('1717200000000000000', true) });
    expect(plainAttributes(r.attributes)).toEqual(expected);
    expect(r.timeUnixNano.toString()).toBe(time);
    expect(r.severityText).toBe(level);
    expect(r.observedTimeUnixNano.toString()).toBe('1717200000000000000');
  });

  test('time_field, time_layout and time_zone', () => {
    const r = one({ format: 'logfmt', time_field: 'when', time_layout: 'dd.MM.yyyy HH:mm:ss.SSSSSSSSS', time_zone: 'Europe/Berlin' }, 'when="02.01.2024 03:04:05.000000001" time=ignored');
    expect(r.timeUnixNano.toString()).toBe('1704161045000000001');
    const off = one({ format: 'logfmt', time_field: 'none' }, 'time=2024-01-02T03:04:05Z');
    expect(off.timeUnixNano.toString()).toBe(ORIGINAL_TIME);
  });

  test('a null time is no time', () => {
    const { records, processor } = run({ on_error: 'tag' }, [record('{"time":null,"a":1}')]);
    expect(records[0]!.timeUnixNano.toString()).toBe(ORIGINAL_TIME);
    expect(processor.counts.size).toBe(0);
  });

  test('epoch times of any unit, exactly', () => {
    expect(one({}, '{"ts":1700000000123456789}').timeUnixNano.toString()).toBe('1700000000123456789');
    expect(one({}, '{"ts":"1700000000.000000001"}').timeUnixNano.toString()).toBe('1700000000000000001');
    expect(one({ time_layout: 'epoch_ms' }, '{"ts":1700000000}').timeUnixNano.toString()).toBe('1700000000000000');
    // The last nanosecond unsigned 64 bits hold, never through a double.
    expect(one({ time_layout: 'epoch_ns' }, '{"ts":"18446744073709551615"}').timeUnixNano.toString()).toBe('18446744073709551615');
  });

  test('level_field and message_field', () => {
    const r = one({ format: 'logfmt', level_field: 'sev', message_field: 'text', body: 'replace' }, 'sev=warning text=hello level=info');
    expect(r.severityText).toBe('warning');
    expect(r.body?.stringValue).toBe('hello');
    expect(one({ format: 'logfmt', level_field: 'none' }, 'level=info').severityText).toBe('');
  });

  test('a level never overrides a severity number the sender set', () => {
    const r = one({}, '{"level":"debug"}', { severityNumber: 17, severityText: 'ERROR' });
    expect([r.severityNumber, r.severityText]).toEqual([17, 'ERROR']);
    expect(one({}, '{"level":30}').severityText).toBe('');
  });

  test('parses an attribute instead of the body', () => {
    const r = one({ format: 'logfmt', source: 'attributes.log', body: 'replace' }, 'original body', { attributes: [{ key: 'log', value: { stringValue: 'msg=inner a=1' } }] });
    expect(r.body?.stringValue).toBe('inner');
    expect(plainAttributes(r.attributes)).toEqual({ log: 'msg=inner a=1', a: '1' });
  });

  test('body=replace without a message field keeps the body', () => {
    const r = one({ format: 'clf', body: 'replace' }, 'h - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1');
    expect(r.body?.stringValue).toMatch(/^h - -/);
  });

  test('parsed fields replace attributes of the same key', () => {
    const r = one({ format: 'logfmt' }, 'a=new', { attributes: [{ key: 'a', value: { stringValue: 'old' } }, { key: 'b', value: { stringValue: 'b' } }] });
    expect(plainAttributes(r.attributes)).toEqual({ a: 'new', b: 'b' });
  });
});

describe('parse processor: errors', () => {
  const cases: [string, Options, string | AnyValue, string][] = [
    ['not json', {}, 'plain text', 'invalid_json'],
    ['json array', {}, '[1,2]', 'json_not_object'],
    ['no logfmt pairs', { format: 'logfmt' }, 'just words', 'no_pairs'],
    ['regex mismatch', { format: 'regex', pattern: '^(?P<n>\\d+)$' }, 'abc', 'no_match'],
    ['preset mismatch', { format: 'syslog' }, 'nope', 'no_match'],
    ['non-string body', { format: 'logfmt' }, { intValue: Long.fromInt(1) }, 'source_not_string'],
    ['kvlist body for a text format', { format: 'logfmt' }, { kvlistValue: { values: [] } }, 'source_not_string'],
    ['empty body', {}, {}, 'source_missing'],
  ];

  test.each(cases)('%s: on_error=keep leaves the record unchanged and counts it', (_name, options, body, reason) => {
    const rec = typeof body === 'string' ? record(body) : record('', { body });
    const before = unchanged(request([rec])).resourceLogs[0]!.scopeLogs[0]!.logRecords[0];
    const { records, processor, drops } = run({ ...options, on_error: 'keep' }, [rec]);
    expect(records[0]).toEqual(before);
    expect(Object.fromEntries(processor.counts)).toEqual({ [reason]: 1 });
    expect(drops).toEqual({});
  });

  test.each(cases)('%s: on_error=tag adds log.parse.error', (_name, options, body, reason) => {
    const r = one({ ...options, on_error: 'tag' }, body);
    expect(attribute(r, PARSE_ERROR_ATTRIBUTE)?.stringValue).toBe(reason);
    expect(r.attributes).toHaveLength(1);
  });

  test('a missing source attribute is an error', () => {
    const r = one({ source: 'attributes.nope', on_error: 'tag' }, '{"a":1}');
    expect(attribute(r, PARSE_ERROR_ATTRIBUTE)?.stringValue).toBe('source_missing');
  });

  test('an unparseable time keeps the parsed fields and the record time, and is tagged', () => {
    const { records, processor } = run({ on_error: 'tag' }, [record('{"time":"yesterday","a":1}')]);
    const r = records[0]!;
    expect(r.timeUnixNano.toString()).toBe(ORIGINAL_TIME);
    expect(plainAttributes(r.attributes)).toEqual({ time: 'yesterday', a: 1n, [PARSE_ERROR_ATTRIBUTE]: 'invalid_time' });
    expect(Object.fromEntries(processor.counts)).toEqual({ invalid_time: 1 });
  });

  test('never drops: every record comes out, in order, and errors are counted per reason', () => {
    const recs = ['{"a":1}', 'bad', '{"b":2}', 'worse', '[]'].map((b) => record(b));
    const { records, processor, drops } = run({}, recs);
    expect(records.map((r) => r.body?.stringValue)).toEqual(['{"a":1}', 'bad', '{"b":2}', 'worse', '[]']);
    expect(Object.fromEntries(processor.counts)).toEqual({ invalid_json: 2, json_not_object: 1 });
    expect(drops).toEqual({});
  });

  test('processes every resource and scope of a batch', () => {
    const p = createProcessor(parseProcessor, { format: 'logfmt' });
    const data = request([record('a=1')]);
    data.resourceLogs.push({ resource: null, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: [] }, { scope: null, schemaUrl: '', logRecords: [record('b=2'), record('c=3')] }] });
    const { out } = runProcessor(p, data);
    const logs = out.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    expect(logs.map((r) => plainAttributes(r.attributes))).toEqual([{ a: '1' }, { b: '2' }, { c: '3' }]);
  });
});

describe('parse processor: options', () => {
  test.each<[string, Options, string, RegExp]>([
    ['invalid regex', { format: 'regex', pattern: '(?P<a>x' }, 'pattern', /invalid pattern/],
    ['regex without named groups', { format: 'regex', pattern: 'x+' }, 'pattern', /named groups/],
    ['regex without pattern', { format: 'regex' }, 'pattern', /required/],
    ['pattern for another format', { format: 'json', pattern: '(?P<a>x)' }, 'pattern', /only used with format=regex/],
    ['bad source', { source: 'resource.x' }, 'source', /body.*attributes/],
    ['empty attribute source', { source: 'attributes.' }, 'source', /attributes/],
    ['nest without target', { nest: true }, 'target', /nest/],
    ['bad layout', { time_layout: 'yyyy-qq' }, 'time_layout', /unsupported layout letter/],
    ['bad strftime', { time_layout: '%Y %Q' }, 'time_layout', /%Q/],
    ['bad zone', { time_zone: 'Mars/Base' }, 'time_zone', /unknown time zone/],
    ['blank kv delimiter', { format: 'keyvalue', kv_delimiter: ' ' }, 'kv_delimiter', /blank/],
    ['same delimiters', { format: 'keyvalue', kv_delimiter: ';', pair_delimiter: ';' }, 'kv_delimiter', /differ/],
  ])('%s → OptionError(%s)', (_name, options, option, message) => {
    const e = createError(options);
    expect(e.option).toBe(option);
    expect(e.message).toMatch(message);
  });

  test('start-up names the env var of a bad pattern', () => {
    const env = { OLP_PROCESSORS: 'parse', OLP_PARSE_FORMAT: 'regex', OLP_PARSE_PATTERN: '(?P<x>a' };
    const processors = builtinProcessors;
    const ctx = { logger: pino({ level: 'silent' }), clock: { now: () => 0 }, env };
    expect(() => createStages(resolveConfig(env, processors), processors, ctx)).toThrow(/OLP_PARSE_PATTERN: invalid pattern/);
  });

  test('reads its options from OLP_PARSE_* env vars', () => {
    const env = { OLP_PARSE_FORMAT: 'Syslog', OLP_PARSE_BODY: 'replace', OLP_PARSE_ON_ERROR: 'tag', OLP_PARSE_NEST: 'true', OLP_PARSE_TARGET: 'sys', OLP_PARSE_TIME_ZONE: 'Europe/Berlin' };
    const options = resolveConfig(env, builtinProcessors).processorOptions.parse!;
    expect(options).toMatchObject({ format: 'syslog', body: 'replace', on_error: 'tag', nest: true, target: 'sys', time_zone: 'Europe/Berlin', time_layout: 'auto', source: 'body' });
  });

  test('rejects an unknown format at config time', () => {
    expect(() => resolveConfig({ OLP_PARSE_FORMAT: 'xml' }, builtinProcessors)).toThrow(/OLP_PARSE_FORMAT/);
  });
});

describe('parse processor end to end', () => {
  let sink: OtlpTestServer;
  let service: TestService | undefined;

  beforeAll(async () => {
    sink = await new OtlpTestServer().start();
  });
  afterAll(async () => {
    await service?.shutdown();
    await sink.stop();
  });

  test('JSON bodies become attributes, time and severity through OTLP, and a non-JSON body passes unchanged', async () => {
    service = await startTestService(
      { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OLP_PROCESSORS: 'parse,severity', OLP_PARSE_FORMAT: 'json' },
      builtinProcessors,
    );
    const res = await exportLogs(
      service.endpoint,
      request([record('{"time":"2024-01-02T03:04:05.987654321Z","level":"warning","msg":"disk low","bytes":18446744073709551615,"id":9007199254740993}'), record('not json at all')]),
    );
    expect(res.code).toBe(status.OK);
    await sink.waitForRecords(2);
    const [a, b] = sink.records();
    expect(a!.timeUnixNano.toString()).toBe('1704164645987654321');
    expect([a!.severityNumber, a!.severityText]).toEqual([13, 'WARN']);
    expect(attribute(a!, 'msg')?.stringValue).toBe('disk low');
    expect(attribute(a!, 'id')?.intValue?.toString()).toBe('9007199254740993');
    expect(attribute(a!, 'bytes')?.doubleValue).toBe(2 ** 64);
    expect(b!.body?.stringValue).toBe('not json at all');
    expect(Long.fromValue(b!.timeUnixNano).toString()).toBe(ORIGINAL_TIME);
    expect(attribute(b!, PARSE_ERROR_ATTRIBUTE)).toBeUndefined();
  });
});
