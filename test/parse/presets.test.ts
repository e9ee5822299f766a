import type { AnyValue, KeyValue } from '../../src/records/types';
import { AccessLogParser } from '../../src/parse/access-log';
import { HeaderParser } from '../../src/parse/header';
import { KlogParser } from '../../src/parse/klog';
import { SyslogParser } from '../../src/parse/syslog';
import { parseTimeZone } from '../../src/parse/time-zone';
import { TimestampParser } from '../../src/parse/timestamp';
import type { LineParser } from '../../src/parse/types';

function plain(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.kvlistValue) return fields(v.kvlistValue.values);
  return v;
}

function fields(kvs: readonly KeyValue[]): Record<string, unknown> {
  return Object.fromEntries(kvs.map((kv) => [kv.key, plain(kv.value)]));
}

function run(parser: LineParser, text: string): { fields: Record<string, unknown>; keys: string[]; error: string | undefined } {
  const out: KeyValue[] = [];
  const error = parser.parse(text, out);
  return { fields: fields(out), keys: out.map((kv) => kv.key), error };
}

function expectParses(parser: LineParser, text: string, expected: Record<string, unknown>): void {
  const r = run(parser, text);
  expect(r.error).toBeUndefined();
  expect(r.fields).toEqual(expected);
}

describe('clf / apache / nginx', () => {
  const p = new AccessLogParser();

  it.each<[string, Record<string, unknown>]>([
    // common
    ['127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326', {
      host: '127.0.0.1', user: 'frank', timestamp: '10/Oct/2000:13:55:36 -0700', method: 'GET', path: '/apache_pb.gif', protocol: 'HTTP/1.0', status: 200, size: 2326,
    }],
    // combined (Apache / nginx default)
    ['192.168.0.1 - - [28/Feb/2013:12:00:00 +0900] "GET / HTTP/1.1" 200 777 "-" "Opera/12.0"', {
      host: '192.168.0.1', timestamp: '28/Feb/2013:12:00:00 +0900', method: 'GET', path: '/', protocol: 'HTTP/1.1', status: 200, size: 777, agent: 'Opera/12.0',
    }],
    ['::1 ident - [28/Feb/2013:12:00:00 +0900] "POST /a?b=c HTTP/2.0" 201 - "https://ref/" "Mozilla/5.0 (X11; Linux) \\"quoted\\""', {
      host: '::1', ident: 'ident', timestamp: '28/Feb/2013:12:00:00 +0900', method: 'POST', path: '/a?b=c', protocol: 'HTTP/2.0', status: 201, referer: 'https://ref/', agent: 'Mozilla/5.0 (X11; Linux) "quoted"',
    }],
    // nginx with X-Forwarded-For, and extra trailing fields ignored
    ['10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET /x HTTP/1.1" 304 0 "-" "curl/8" "203.0.113.9" 0.003', {
      host: '10.0.0.1', timestamp: '01/Jan/2024:00:00:00 +0000', method: 'GET', path: '/x', protocol: 'HTTP/1.1', status: 304, size: 0, agent: 'curl/8', forwarded_for: '203.0.113.9',
    }],
    // malformed request lines are kept whole
    ['10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "\\x16\\x03\\x01" 400 0', { host: '10.0.0.1', timestamp: '01/Jan/2024:00:00:00 +0000', request: '\\x16\\x03\\x01', status: 400, size: 0 }],
    ['10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "-" 408 -', { host: '10.0.0.1', timestamp: '01/Jan/2024:00:00:00 +0000', status: 408 }],
    // HTTP/0.9: no protocol; a path with a space
    ['10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET /a b" 200 1', { host: '10.0.0.1', timestamp: '01/Jan/2024:00:00:00 +0000', method: 'GET', path: '/a b', status: 200, size: 1 }],
    ['10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET /a b HTTP/1.1" 200 1\r\n', { host: '10.0.0.1', timestamp: '01/Jan/2024:00:00:00 +0000', method: 'GET', path: '/a b', protocol: 'HTTP/1.1', status: 200, size: 1 }],
  ])('%s', (text, expected) => expectParses(p, text, expected));

  it.each([
    '',
    'hello world',
    '127.0.0.1 - frank 10/Oct/2000:13:55:36 -0700 "GET / HTTP/1.0" 200 1',
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700 "GET / HTTP/1.0" 200 1',
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] GET / HTTP/1.0 200 1',
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0 200 1',
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" OK 1',
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1 "ref-only"',
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0"x 200 1',
  ])('rejects %j', (text) => {
    expect(run(p, text).error).toBe('no_match');
  });
});

describe('syslog', () => {
  const p = new SyslogParser();

  it.each<[string, Record<string, unknown>]>([
    // RFC 5424 examples
    ['<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF\'su root\' failed for lonvick on /dev/pts/8', {
      facility: 'auth', severity: 'crit', version: 1, timestamp: '2003-10-11T22:14:15.003Z', hostname: 'mymachine.example.com', appname: 'su', msgid: 'ID47', message: "'su root' failed for lonvick on /dev/pts/8",
    }],
    ['<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It\'s time to make the do-nuts.', {
      facility: 'local4', severity: 'notice', version: 1, timestamp: '2003-08-24T05:14:15.000003-07:00', hostname: '192.0.2.1', appname: 'myproc', procid: '8710', message: "%% It's time to make the do-nuts.",
    }],
    ['<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] An application event', {
      facility: 'local4', severity: 'notice', version: 1, timestamp: '2003-10-11T22:14:15.003Z', hostname: 'mymachine.example.com', appname: 'evntslog', msgid: 'ID47',
      structured_data: { 'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' }, 'examplePriority@32473': { class: 'high' } },
      message: 'An application event',
    }],
    // SD only, escaped param values, no MSG
    ['<13>1 - - - - - [a@1 q="x \\"y\\" \\] z\\\\"]', { facility: 'user', severity: 'notice', version: 1, structured_data: { 'a@1': { q: 'x "y" ] z\\' } } }],
    ['<0>1 - - - - - -', { facility: 'kern', severity: 'emerg', version: 1 }],
    // RFC 3164
    ['<34>Oct 11 22:14:15 mymachine su: \'su root\' failed for lonvick on /dev/pts/8', {
      facility: 'auth', severity: 'crit', timestamp: 'Oct 11 22:14:15', hostname: 'mymachine', appname: 'su', message: "'su root' failed for lonvick on /dev/pts/8",
    }],
    ['<13>Feb  5 17:32:18 10.0.0.99 sshd[123]: Accepted publickey', { facility: 'user', severity: 'notice', timestamp: 'Feb  5 17:32:18', hostname: '10.0.0.99', appname: 'sshd', procid: '123', message: 'Accepted publickey' }],
    // a syslog file: no PRI (Loghub Linux)
    ['Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 \r\n', {
      timestamp: 'Jun 14 15:16:01', hostname: 'combo', appname: 'sshd(pam_unix)', procid: '19939', message: 'authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4',
    }],
    ['Jul  1 00:21:28 combo kernel: Linux version 2.6.5', { timestamp: 'Jul  1 00:21:28', hostname: 'combo', appname: 'kernel', message: 'Linux version 2.6.5' }],
    // no hostname: the first token is the tag
    ['<34>Oct 11 22:14:15 su: \'su root\' failed', { facility: 'auth', severity: 'crit', timestamp: 'Oct 11 22:14:15', appname: 'su', message: "'su root' failed" }],
    ['Oct 11 22:14:15 cron[42]: job', { timestamp: 'Oct 11 22:14:15', appname: 'cron', procid: '42', message: 'job' }],
    // rsyslog high-precision timestamps
    ['2024-01-02T03:04:05.123456+01:00 web-1 app[7]: started', { timestamp: '2024-01-02T03:04:05.123456+01:00', hostname: 'web-1', appname: 'app', procid: '7', message: 'started' }],
    // a tag without colon
    ['Jun 19 04:09:11 combo syslogd 1.4.1: restart.', { timestamp: 'Jun 19 04:09:11', hostname: 'combo', appname: 'syslogd', message: '1.4.1: restart.' }],
  ])('%s', (text, expected) => expectParses(p, text, expected));

  it.each([
    ['', 'no_match'],
    ['hello world', 'no_match'],
    ['<192>Oct 11 22:14:15 host app: x', 'no_match'],
    ['<abc>Oct 11 22:14:15 host app: x', 'no_match'],
    ['<34>1 2003-10-11T22:14:15.003Z host', 'no_match'],
    ['<34>1 2003-10-11T22:14:15.003Z host app - ID47 [bad', 'invalid_structured_data'],
    ['<34>1 2003-10-11T22:14:15.003Z host app - ID47 [a@1 k=v]', 'invalid_structured_data'],
    ['<34>1 2003-10-11T22:14:15.003Z host app - ID47 -x', 'no_match'],
    ['Foo 11 22:14:15 host app: x', 'no_match'],
    ['Oct 111 22:14:15 host app: x', 'no_match'],
    ['Oct 11 22-14-15 host app: x', 'no_match'],
  ])('rejects %j as %s', (text, reason) => {
    expect(run(p, text).error).toBe(reason);
  });
});

describe('klog', () => {
  const p = new KlogParser();

  it.each<[string, Record<string, unknown>]>([
    ['I0102 15:04:05.123456    1234 server.go:123] Serving on :8080', { level: 'info', timestamp: '0102 15:04:05.123456', id: 1234, file: 'server.go', line: 123, message: 'Serving on :8080' }],
    ['E1231 23:59:59.000001 7 pkg/a/b.go:9] failed: x] y', { level: 'error', timestamp: '1231 23:59:59.000001', id: 7, file: 'pkg/a/b.go', line: 9, message: 'failed: x] y' }],
    ['W0102 15:04:05.123456 1 c.go:1] ', { level: 'warning', timestamp: '0102 15:04:05.123456', id: 1, file: 'c.go', line: 1, message: '' }],
    ['F0102 15:04:05 1 c.go:1] fatal', { level: 'fatal', timestamp: '0102 15:04:05', id: 1, file: 'c.go', line: 1, message: 'fatal' }],
  ])('%s', (text, expected) => expectParses(p, text, expected));

  it.each([
    '', 'X0102 15:04:05.123456 1 a.go:1] x', 'I012 15:04:05.123456 1 a.go:1] x', 'I0102 15:04:05.123456 a.go:1] x', 'I0102 15:04:05.123456 1 a.go] x',
    'I0102 15:04:05.123456 1 a.go:x] x', 'I0102 15-04-05.123456 1 a.go:1] x', 'I0102 15:04:05.123456 1 a.go:1 no bracket', 'Ixxxx',
  ])('rejects %j', (text) => {
    expect(run(p, text).error).toBe('no_match');
  });
});

describe('header', () => {
  const UTC = parseTimeZone('UTC');
  const p = new HeaderParser(new TimestampParser('auto', UTC));

  it.each<[string, Record<string, unknown>]>([
    // log4j (Hadoop)
    ['2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001', {
      timestamp: '2015-10-18 18:01:47,978', level: 'INFO', thread: 'main', logger: 'org.apache.hadoop.mapreduce.v2.app.MRAppMaster', message: 'Created MRAppMaster for application appattempt_1445144423722_0020_000001',
    }],
    ['2015-10-18 18:01:48,963 INFO [main] org.apache.hadoop.Foo: Executing with tokens:', { timestamp: '2015-10-18 18:01:48,963', level: 'INFO', thread: 'main', logger: 'org.apache.hadoop.Foo', message: 'Executing with tokens:' }],
    // logback with ISO time and padded level
    ['2024-01-01T10:00:00.123Z WARN  [pool-1-thread-2] c.e.Svc - message text', { timestamp: '2024-01-01T10:00:00.123Z', level: 'WARN', thread: 'pool-1-thread-2', logger: 'c.e.Svc', message: 'message text' }],
    // logback's default pattern: time of day, thread before level
    ['10:00:00.123 [main] INFO  c.e.Svc - started', { timestamp: '10:00:00.123', thread: 'main', level: 'INFO', logger: 'c.e.Svc', message: 'started' }],
    // log4j default %d [%t] %-5p %c - %m
    ['2024-01-01 10:00:00,123 [Thread-1 (pool)] ERROR com.Foo - boom', { timestamp: '2024-01-01 10:00:00,123', thread: 'Thread-1 (pool)', level: 'ERROR', logger: 'com.Foo', message: 'boom' }],
    // Spring Boot
    ['2024-01-01T10:00:00.123+01:00  INFO 4242 --- [myapp] [           main] c.e.Svc                 : Started in 1.2 s', {
      timestamp: '2024-01-01T10:00:00.123+01:00', level: 'INFO', pid: 4242, thread: 'main', logger: 'c.e.Svc', message: 'Started in 1.2 s',
    }],
    // HDFS: pid before the level
    ['081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating', {
      timestamp: '081109 203615', pid: 148, level: 'INFO', logger: 'dfs.DataNode$PacketResponder', message: 'PacketResponder 1 for block blk_38865049064139660 terminating',
    }],
    // Python logging
    ['2024-01-01 10:00:00,123 - my.module - ERROR - something failed', { timestamp: '2024-01-01 10:00:00,123', logger: 'my.module', level: 'ERROR', message: 'something failed' }],
    ['2024-01-01 10:00:00,123 - WARNING - just level', { timestamp: '2024-01-01 10:00:00,123', level: 'WARNING', message: 'just level' }],
    ['2024-01-01 10:00:00,123 INFO my.module: hello', { timestamp: '2024-01-01 10:00:00,123', level: 'INFO', logger: 'my.module', message: 'hello' }],
    ['2024-01-01 10:00:00,123 [INFO] my.module: hello', { timestamp: '2024-01-01 10:00:00,123', level: 'INFO', logger: 'my.module', message: 'hello' }],
    ['WARNING:root:disk low', { level: 'WARNING', logger: 'root', message: 'disk low' }],
    ['INFO:just a message', { level: 'INFO', message: 'just a message' }],
    // Flask: bracketed timestamp
    ['[2024-01-01 10:00:00,123] ERROR in app: Exception on /', { timestamp: '2024-01-01 10:00:00,123', level: 'ERROR', message: 'in app: Exception on /' }],
    // no logger
    ['2024-01-01 10:00:00 INFO Server started on port 8080', { timestamp: '2024-01-01 10:00:00', level: 'INFO', message: 'Server started on port 8080' }],
    ['2024-01-01 10:00:00 error: lower-case level', { timestamp: '2024-01-01 10:00:00', level: 'error', message: 'lower-case level' }],
    // Go's log package: no level
    ['2009/11/10 23:00:00 Hello, playground', { timestamp: '2009/11/10 23:00:00', message: 'Hello, playground' }],
    // no timestamp, level first
    ['ERROR [main] com.Foo: bar', { level: 'ERROR', thread: 'main', logger: 'com.Foo', message: 'bar' }],
    // trailing CR/LF trimmed, empty message
    ['2024-01-01 10:00:00,123 INFO [main] a.B: \r\n', { timestamp: '2024-01-01 10:00:00,123', level: 'INFO', thread: 'main', logger: 'a.B', message: '' }],
  ])('%s', (text, expected) => expectParses(p, text, expected));

  it('finds the timestamp with an explicit layout (Spark)', () => {
    const spark = new HeaderParser(new TimestampParser('yy/MM/dd HH:mm:ss', UTC));
    expectParses(spark, '17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi', {
      timestamp: '17/06/09 20:10:40', level: 'INFO', logger: 'spark.SecurityManager', message: 'Changing view acls to: yarn,curi',
    });
  });

  it.each(['', 'hello world', 'hello: world', '[not a time] INFO x', '2024-01-01 10:00:00,123 - name - NOTALEVEL - x', '2024-01-01 10:00:00,123x INFO y', '[2024-01-01 10:00:00 INFO x'])(
    'rejects %j',
    (text) => {
      expect(run(p, text).error).toBe('no_match');
    },
  );
});

describe('preset edge inputs', () => {
  const parsers: [string, LineParser][] = [
    ['clf', new AccessLogParser()],
    ['syslog', new SyslogParser()],
    ['klog', new KlogParser()],
    ['header', new HeaderParser(new TimestampParser('auto', parseTimeZone('UTC')))],
  ];
  const inputs = ['', ' ', '\r\n', '[', '<', '"', 'I', '2024-01-01', '<1>', '<1>1 ', '[[[[', ']', 'x'.repeat(100_000), '\u0000\uFFFF\uD800'];

  it.each(parsers)('%s never throws and finishes fast on odd input', (_name, parser) => {
    const start = Date.now();
    for (const text of inputs) {
      const out: KeyValue[] = [];
      const r = parser.parse(text, out);
      expect(r === undefined || typeof r === 'string').toBe(true);
    }
    expect(Date.now() - start).toBeLessThan(1000);
  });

  it('types ids and sizes as ints, exactly', () => {
    const out: KeyValue[] = [];
    new AccessLogParser().parse('h - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 123456789012345678', out);
    expect(out.find((kv) => kv.key === 'size')!.value.intValue).toBe(123456789012345678n);
  });
});
