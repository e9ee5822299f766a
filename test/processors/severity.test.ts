import Long from 'long';
import pino from 'pino';
import type { OptionValues } from '../../src/config/options';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import type { AnyValue, LogRecord, LogsData } from '../../src/otlp/model';
import { getAttribute, intValue, newLogRecord, stringValue } from '../../src/otlp/values';
import {
  INFERRED_ATTRIBUTE,
  SEVERITY_SHORT_NAMES,
  inferSeverity,
  severityFromText,
  severityProcessor,
} from '../../src/processors/severity';
import { RecordBatch } from '../../src/records/batch';
import { createProcessor, runProcessor } from '../helpers/processors';

type Options = OptionValues<typeof severityProcessor.options>;

const ctx = { logger: pino({ level: 'silent' }), clock: { now: () => 0 }, env: {} };

const defaults = Object.fromEntries(
  Object.entries(severityProcessor.options).map(([key, option]) => [key, option.default]),
) as unknown as Options;

function batchOf(records: LogRecord[]): LogsData {
  return { resourceLogs: [{ resource: null, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: records }] }] };
}

/** The record as the processor wrote it (decoded). */
function run(record: LogRecord, overrides: Partial<Options> = {}): LogRecord {
  const { out } = runProcessor(createProcessor(severityProcessor, overrides), batchOf([record]));
  return out.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
}

function withBody(body: string | AnyValue, fields: Partial<LogRecord> = {}): LogRecord {
  return newLogRecord({ body: typeof body === 'string' ? stringValue(body) : body, ...fields });
}

function kvlist(entries: Record<string, AnyValue>): AnyValue {
  return { kvlistValue: { values: Object.entries(entries).map(([key, value]) => ({ key, value })) } };
}

const inferred = (r: LogRecord) => getAttribute(r.attributes, INFERRED_ATTRIBUTE);

describe('SEVERITY_SHORT_NAMES', () => {
  it('names every OTel severity number with the data model short names', () => {
    expect(SEVERITY_SHORT_NAMES).toHaveLength(25);
    expect(SEVERITY_SHORT_NAMES[0]).toBe('');
    expect(SEVERITY_SHORT_NAMES.slice(1, 5)).toEqual(['TRACE', 'TRACE2', 'TRACE3', 'TRACE4']);
    expect([5, 9, 13, 17, 21].map((n) => SEVERITY_SHORT_NAMES[n])).toEqual(['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']);
    expect(SEVERITY_SHORT_NAMES[24]).toBe('FATAL4');
  });
});

describe('severityFromText', () => {
  it.each([
    // TRACE: Log4j, JUL FINEST; Verbose sits below Debug in Serilog/logcat
    ['trace', 1], ['TRC', 1], ['Trac', 1], ['finest', 1], ['verbose', 1], ['VRB', 1], ['V', 1], ['t', 1],
    // DEBUG: JUL FINER → DEBUG, FINE → DEBUG2, CONFIG → DEBUG3 (OTel appendix B)
    ['debug', 5], ['DBG', 5], ['DEBU', 5], ['d', 5], ['finer', 5], ['fine', 6], ['CONFIG', 7],
    // INFO, with syslog notice → INFO2
    ['info', 9], ['Information', 9], ['informational', 9], ['INF', 9], ['I', 9], ['notice', 10],
    ['warn', 13], ['Warning', 13], ['WRN', 13], ['w', 13],
    ['error', 17], ['ERR', 17], ['eror', 17], ['ERRO', 17], ['SEVERE', 17], ['E', 17],
    // syslog critical and zap dpanic → ERROR2; syslog alert and zap panic → ERROR3
    ['critical', 18], ['CRIT', 18], ['dpanic', 18],
    ['alert', 19], ['panic', 19], ['PANI', 19], ['PNC', 19],
    ['fatal', 21], ['FATA', 21], ['FTL', 21], ['F', 21], ['emerg', 21], ['Emergency', 21],
  ])('maps %j to %i', (text, n) => {
    expect(severityFromText(text)).toBe(n);
  });

  it.each([
    ['0', 21], ['1', 19], ['2', 18], ['3', 17], ['4', 13], ['5', 10], ['6', 9], ['7', 5],
  ])('maps syslog severity %j to %i', (text, n) => {
    expect(severityFromText(text)).toBe(n);
  });

  it('maps every OTel short name to its own number, case-insensitively', () => {
    for (let n = 1; n <= 24; n++) {
      expect(severityFromText(SEVERITY_SHORT_NAMES[n]!)).toBe(n);
      expect(severityFromText(SEVERITY_SHORT_NAMES[n]!.toLowerCase())).toBe(n);
    }
  });

  it.each(['[warn]', 'WARN:', ' warn ', '<warn>', '(WARN)', '[WARN]:', '\twarning\n'])('tolerates brackets, colons and blanks around %j', (text) => {
    expect(severityFromText(text)).toBe(13);
  });

  it('keeps mapping after many distinct unknown texts', () => {
    for (let i = 0; i < 2000; i++) expect(severityFromText(`level-${i}`)).toBeUndefined();
    expect(severityFromText('Warning')).toBe(13);
  });

  it.each(['', 'unknown', 'warnings', 'err0r', '8', '17', 'level=warn', 'x'.repeat(100)])('does not map %j', (text) => {
    expect(severityFromText(text)).toBeUndefined();
  });
});

describe('severity text and number', () => {
  it("maps 'warning' text to WARN and rewrites the text", () => {
    const r = run(newLogRecord({ severityText: 'warning' }));
    expect(r.severityNumber).toBe(13);
    expect(r.severityText).toBe('WARN');
    expect(inferred(r)).toBeUndefined();
  });

  it.each([
    ['notice', 10, 'INFO2'],
    ['[error]', 17, 'ERROR'],
    ['Critical', 18, 'ERROR2'],
    ['3', 17, 'ERROR'],
    ['E', 17, 'ERROR'],
    ['info3', 11, 'INFO3'],
  ])("maps text %j to %i and rewrites it to '%s'", (text, n, short) => {
    const r = run(newLogRecord({ severityText: text }));
    expect([r.severityNumber, r.severityText]).toEqual([n, short]);
  });

  it('keeps the sender text when rewrite_text is off', () => {
    const r = run(newLogRecord({ severityText: 'Warning:' }), { rewrite_text: false });
    expect([r.severityNumber, r.severityText]).toEqual([13, 'Warning:']);
  });

  it('leaves an unknown text as is and does not look at the body', () => {
    const r = run(withBody('ERROR something broke', { severityText: 'chatty' }));
    expect([r.severityNumber, r.severityText]).toEqual([0, 'chatty']);
    expect(r.attributes).toEqual([]);
  });

  it('sets the short name as text for every number from 1 to 24', () => {
    for (let n = 1; n <= 24; n++) {
      const r = run(newLogRecord({ severityNumber: n }));
      expect([r.severityNumber, r.severityText]).toEqual([n, SEVERITY_SHORT_NAMES[n]]);
    }
  });

  it('leaves a number outside the OTel range without text', () => {
    const r = run(newLogRecord({ severityNumber: 30 }));
    expect([r.severityNumber, r.severityText]).toEqual([30, '']);
  });

  it('leaves both alone when number and text are set, even if they disagree', () => {
    const r = run(withBody('ERROR boom', { severityNumber: 9, severityText: 'warning' }));
    expect([r.severityNumber, r.severityText]).toEqual([9, 'warning']);
    expect(r.attributes).toEqual([]);
  });
});

describe('inference from a string body', () => {
  it.each([
    // key-value levels
    ['logfmt level', 'time=2024-01-01T00:00:00Z level=error msg="db down"', 17],
    ['logfmt lvl, quoted', 'ts=1 lvl="warn" caller=main.go:12', 13],
    ['logfmt severity', 'severity=DEBUG component=cache', 5],
    ['slog level with offset (slog level + 9, as the OTel slog bridge)', 'time=x level=DEBUG-4 msg=y', 1],
    ['JSON level', '{"ts":1,"level":"error","msg":"failed"}', 17],
    ['JSON severity with blanks', '{ "severity" : "Warning", "message": "slow" }', 13],
    ['JSON log.level (ECS)', '{"@timestamp":"x","log.level":"info","message":"ok"}', 9],
    ['pino numeric level', '{"level":50,"time":1,"msg":"boom"}', 17],
    ['JSON level after an unknown nested level', '{"user":{"level":"admin"},"level":"warn"}', 13],
    // decorated level words
    ['bracketed', '2024-01-01 12:00:00 [ERROR] payment failed', 17],
    ['bracketed lower-case (nginx)', '2024/01/01 12:00:00 [crit] 123#0: *1 connect() failed', 18],
    ['angle brackets', '<warn> disk almost full', 13],
    ['Apache module:level', '[Sun Dec 04 04:47:44 2005] [mod_jk:error] workerEnv.init() failed', 17],
    ['Serilog', '[15:46:38 WRN] Retrying request', 13],
    ['logrus TTY', 'WARN[0000] config file not found', 13],
    ['colon-terminated upper-case', 'main.go:12 WARN: cache miss storm', 13],
    ['colon-terminated at line start', 'warning: unused variable `x`', 13],
    ['JUL second line', 'Nov 23, 2024 1:23:45 PM com.example.Foo run\nSEVERE: lost connection', 17],
    // bare upper-case level words in the header
    ['HDFS header', '081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating', 9],
    ['HDFS WARN header', '081109 213152 19 WARN dfs.PendingReplicationBlocks$PendingReplicationMonitor: PendingReplicationMonitor timed out block blk_-4', 13],
    ['Hadoop header', '2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster', 9],
    ['Hadoop FATAL header', '2015-10-18 18:10:12,567 FATAL [IPC Server handler 2 on 62270] org.apache.hadoop.mapred.TaskAttemptListenerImpl: Task: attempt_1 - exited', 21],
    ['Spark header', '17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi', 9],
    ['BGL header', '- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected', 9],
    ['zerolog console', '3:04PM ERR request failed status=500', 17],
    ['CRITICAL word', '2024-01-01 00:00:00,001 CRITICAL root: out of memory', 18],
    ['NOTICE word', 'Jan 1 00:00:00 host app NOTICE reloading', 10],
    // klog / glog headers
    ['klog info', 'I1123 12:34:56.789012   12345 controller.go:123] synced', 9],
    ['klog warning', 'W1123 12:34:56.789012   12345 controller.go:123] slow', 13],
    ['klog error', 'E1123 12:34:56.789012   12345 reflector.go:138] failed to list *v1.Pod', 17],
    ['klog fatal', 'F0102 15:04:05.000000 1 main.go:9] cannot start', 21],
    // stack traces and exceptions
    ['Java stack frame', 'Request failed\n\tat com.example.Service.handle(Service.java:42)\n\tat java.base/java.lang.Thread.run(Thread.java:833)', 17],
    ['Exception in thread', 'Exception in thread "main" java.lang.IllegalStateException: boom', 17],
    ['exception class token', 'Caught java.lang.NullPointerException: Cannot invoke "String.length()"', 17],
    ['Python traceback', 'Traceback (most recent call last):\n  File "app.py", line 3, in <module>\nValueError: bad value', 17],
    ['Node.js stack', 'TypeError: Cannot read properties of undefined\n    at handler (/app/index.js:10:5)', 17],
    ['Go panic after a prefix line', 'starting worker\npanic: runtime error: index out of range [3] with length 3', 17],
    ['goroutine dump', 'fatal signal\ngoroutine 1 [running]:\nmain.main()', 17],
  ])('infers from %s', (_name, body, n) => {
    expect(inferSeverity(body)).toBe(n);
  });

  it.each([
    ['lower-case error in free text', 'user reported an error in the payment form'],
    ['lower-case error: mid-text', 'request finished with error: none, all good'],
    ['a level word after the header region', 'a b c d e f g h i j k ERROR'],
    ['a level word inside a longer token', 'ERRORS=0 INFORMATIVE WARNINGLIGHT'],
    ['an unknown bracketed word', '[main] [pool-1-thread-3] started'],
    ['a query-string level', 'GET /api/logs?level=error 200'],
    ['an unknown logfmt level', 'level=chatty msg=x'],
    ['an empty body', ''],
  ])('does not infer from %s', (_name, body) => {
    expect(inferSeverity(body)).toBeUndefined();
  });

  it('prefers a key-value level over a level word in the header', () => {
    expect(inferSeverity('INFO level=error msg=x')).toBe(17);
  });

  it('takes the first level token of the header, bare or decorated', () => {
    expect(inferSeverity('ERROR-COUNT INFO [warn] x')).toBe(9);
    expect(inferSeverity('12:00:00.123 [main] INFO  c.e.App -- Error: retry budget exhausted')).toBe(9);
  });

  it('prefers a Capitalized level right after the timestamp over a decorated word in the message (Windows CBS)', () => {
    expect(inferSeverity('2016-09-28 04:30:31, Info                  CBS    SQM: Warning: Failed to upload all unsent reports.')).toBe(9);
  });

  it('prefers a klog header over level words in the message', () => {
    expect(inferSeverity('I1123 12:34:56.789012 1 x.go:1] retried after ERROR')).toBe(9);
  });

  it('prefers a header level over a stack trace further down', () => {
    expect(inferSeverity('2024-01-01 12:00:00 WARN retrying\n\tat com.example.Foo.bar(Foo.java:1)')).toBe(13);
  });

  it('only looks for stack-trace markers in the first 4 KiB', () => {
    const pad = 'x'.repeat(5000);
    expect(inferSeverity(`${pad}\n\tat com.example.Foo.bar(Foo.java:1)`)).toBeUndefined();
    expect(inferSeverity(`start\n\tat com.example.Foo.bar(Foo.java:1)\n${pad}`)).toBe(17);
  });

  it('scans pathological bodies in bounded time', () => {
    const bodies = [
      '['.repeat(1_000_000),
      'a'.repeat(1_000_000) + 'Error:',
      ' '.repeat(1_000_000) + 'ERROR',
      'level='.repeat(200_000),
      '"level":'.repeat(200_000),
      '\t at '.repeat(200_000),
      'x.'.repeat(500_000) + 'Exception',
    ];
    const start = process.hrtime.bigint();
    for (const b of bodies) inferSeverity(b);
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeLessThan(500);
  });
});

describe('inference on records', () => {
  it('infers ERROR from a klog header and marks the record as inferred', () => {
    const r = run(withBody('E1123 12:34:56.789012   12345 reflector.go:138] failed to list'));
    expect([r.severityNumber, r.severityText]).toEqual([17, 'ERROR']);
    expect(inferred(r)).toEqual({ boolValue: true });
  });

  it("does not treat 'error' inside free text as a level", () => {
    const r = run(withBody('could not find an error in the config'), { default_level: 'none' });
    expect([r.severityNumber, r.severityText]).toEqual([0, '']);
  });

  it('replaces an existing inferred attribute instead of adding a second one', () => {
    const r = run(withBody('[WARN] x', { attributes: [{ key: INFERRED_ATTRIBUTE, value: { boolValue: false } }] }));
    expect(r.attributes).toEqual([{ key: INFERRED_ATTRIBUTE, value: { boolValue: true } }]);
  });

  it.each([
    ['a string level key', kvlist({ level: stringValue('warning'), msg: stringValue('ERROR in text') }), 13],
    ['a pino numeric level key', kvlist({ level: intValue(60), msg: stringValue('x') }), 21],
    ['an upper-case Severity key', kvlist({ Severity: stringValue('debug') }), 5],
    ['the msg string', kvlist({ ts: intValue(1), msg: stringValue('[ERROR] db down') }), 17],
    ['the message string', kvlist({ message: stringValue('W1123 12:34:56.789012 1 x.go:1] slow') }), 13],
    ['the message string when the level is unknown', kvlist({ level: stringValue('chatty'), message: stringValue('FATAL: no disk') }), 21],
  ])('infers from a kvlist body with %s', (_name, body, n) => {
    const r = run(withBody(body));
    expect(r.severityNumber).toBe(n);
    expect(inferred(r)).toEqual({ boolValue: true });
  });

  it('falls back to default_level for a kvlist body without level or message', () => {
    const r = run(withBody(kvlist({ status: stringValue('ERROR') })), { default_level: 'debug' });
    expect([r.severityNumber, r.severityText]).toEqual([5, 'DEBUG']);
  });

  it('sets default_level info and marks the record when nothing is found', () => {
    const r = run(withBody('user logged in'));
    expect([r.severityNumber, r.severityText]).toEqual([9, 'INFO']);
    expect(inferred(r)).toEqual({ boolValue: true });
  });

  it('leaves the record untouched with default_level none', () => {
    const r = run(withBody('user logged in'), { default_level: 'none' });
    expect([r.severityNumber, r.severityText]).toEqual([0, '']);
    expect(r.attributes).toEqual([]);
  });

  it('applies default_level to non-text bodies', () => {
    const r = run(withBody(intValue(42)), { default_level: 'warn' });
    expect([r.severityNumber, r.severityText]).toEqual([13, 'WARN']);
  });

  it('does not read the body when infer is off, but still applies default_level', () => {
    expect(run(withBody('ERROR boom'), { infer: false }).severityNumber).toBe(9);
    const r = run(withBody('ERROR boom'), { infer: false, default_level: 'none' });
    expect([r.severityNumber, r.severityText, r.attributes]).toEqual([0, '', []]);
  });
});

describe('class_attribute', () => {
  it.each([
    ['error', 'number ERROR', newLogRecord({ severityNumber: 17 })],
    ['error', 'number FATAL4 with text', newLogRecord({ severityNumber: 24, severityText: 'FATAL4' })],
    ['warn', 'number WARN', newLogRecord({ severityNumber: 13 })],
    ['warn', "text 'warning'", newLogRecord({ severityText: 'warning' })],
    ['info', 'number INFO4', newLogRecord({ severityNumber: 12 })],
    ['info', 'number TRACE', newLogRecord({ severityNumber: 1 })],
    ['info', 'an unknown text', newLogRecord({ severityText: 'chatty' })],
  ])("writes '%s' for %s", (cls, _name, record) => {
    const r = run(record, { class_attribute: 'log.class' });
    expect(getAttribute(r.attributes, 'log.class')).toEqual({ stringValue: cls });
  });

  it('classifies an inferred severity', () => {
    const r = run(withBody('panic: boom'), { class_attribute: 'log.class' });
    expect(getAttribute(r.attributes, 'log.class')).toEqual({ stringValue: 'error' });
  });

  it("writes 'info' for a record left unset", () => {
    const r = run(withBody('hello'), { class_attribute: 'log.class', default_level: 'none' });
    expect(r.severityNumber).toBe(0);
    expect(r.attributes).toEqual([{ key: 'log.class', value: { stringValue: 'info' } }]);
  });

  it('replaces an existing class attribute', () => {
    const r = run(newLogRecord({ severityNumber: 17, attributes: [{ key: 'log.class', value: stringValue('info') }] }), {
      class_attribute: 'log.class',
    });
    expect(r.attributes).toEqual([{ key: 'log.class', value: { stringValue: 'error' } }]);
  });

  it('writes nothing when empty', () => {
    expect(run(newLogRecord({ severityNumber: 17 })).attributes).toEqual([]);
  });

  it('refuses the inferred attribute as class attribute', () => {
    expect(() => severityProcessor.create({ ...defaults, class_attribute: INFERRED_ATTRIBUTE }, ctx)).toThrow(
      expect.objectContaining({ name: 'OptionError', option: 'class_attribute' }),
    );
  });
});

describe('untouched fields', () => {
  it('keeps 64-bit fields and unrelated attributes exactly', () => {
    const big = Long.fromString('18446744073709551615', true);
    const attrs = [
      { key: 'count', value: { intValue: Long.fromString('-9223372036854775808') } },
      { key: 'service', value: stringValue('api') },
    ];
    const r = run(
      withBody('[ERROR] x', {
        timeUnixNano: big,
        observedTimeUnixNano: Long.fromString('1700000000123456789', true),
        attributes: attrs.slice(),
        flags: 1,
        traceId: new Uint8Array(16).fill(7),
        eventName: 'e',
      }),
      { class_attribute: 'log.class' },
    );
    expect(r.timeUnixNano.toString()).toBe('18446744073709551615');
    expect(r.observedTimeUnixNano.toString()).toBe('1700000000123456789');
    expect(r.attributes.slice(0, 2)).toEqual(attrs);
    expect((r.attributes[0]!.value!.intValue as Long).toString()).toBe('-9223372036854775808');
    expect(r.attributes.map((a) => a.key)).toEqual(['count', 'service', INFERRED_ATTRIBUTE, 'log.class']);
    expect([r.flags, r.traceId, r.eventName, r.body]).toEqual([1, new Uint8Array(16).fill(7), 'e', stringValue('[ERROR] x')]);
  });

  it('handles records decoded from protobuf (proto3 defaults) across several resources and scopes', () => {
    const batch: LogsData = {
      resourceLogs: [0, 1].map(() => ({
        resource: null,
        schemaUrl: '',
        scopeLogs: [0, 1].map(() => ({
          scope: null,
          schemaUrl: '',
          logRecords: [withBody('[WARN] x'), newLogRecord({ severityNumber: 17 }), newLogRecord({ severityText: 'dbg' })],
        })),
      })),
    };
    const { out } = runProcessor(createProcessor(severityProcessor), decodeLogsData(encodeLogsData(batch)));
    const seen = out.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => `${r.severityNumber}:${r.severityText}`)));
    expect(seen).toEqual(Array(4).fill(['13:WARN', '17:ERROR', '5:DEBUG']).flat());
    const first = out.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(getAttribute(first.attributes, INFERRED_ATTRIBUTE)?.boolValue).toBe(true);
  });

  it('leaves records that already agree as received, class attribute included', () => {
    const bytes = encodeLogsData(
      batchOf([
        newLogRecord({ severityNumber: 17, severityText: 'ERROR', attributes: [{ key: 'log.class', value: stringValue('error') }] }),
        newLogRecord({ severityNumber: 9, severityText: 'info', body: stringValue('ERROR boom'), attributes: [{ key: 'log.class', value: stringValue('info') }] }),
      ]),
    );
    const batch = new RecordBatch(bytes);
    createProcessor(severityProcessor, { class_attribute: 'log.class' }).process(batch);
    expect(batch.encode(1000)[0]!.bytes).toBe(bytes);
  });
});
