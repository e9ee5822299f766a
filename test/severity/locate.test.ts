import { RULES, locateSeverity, locateSeverityCode, severityFromText } from '../../src/severity';

const at = (s: string) => {
  const r = locateSeverity(s);
  return r === undefined ? undefined : [r.severityText, r.rule, r.token];
};

describe('precedence: the header level wins over words in the message', () => {
  it.each([
    ['Windows CBS: Info in the header, Warning: in the message', '2016-09-28 04:30:31, Info                  CBS    SQM: Warning: Failed to upload all unsent reports.', ['INFO', 'header-level', 'Info']],
    ['log4j: INFO before Error: in the message', '176 [main] INFO  examples.Sort - Error: none', ['INFO', 'header-level', 'INFO']],
    ['syslog PRI before a level word', '<13>Mar 17 16:13:38 web1 alice: ERROR is just a word here', ['INFO2', 'syslog-pri', '<13>']],
    ['logcat letter before level words', '03-17 16:13:40.001  1702  2395 I WindowManager: Warning: window leaked', ['INFO', 'logcat', 'I']],
    ['Redis marker before a level word', '1:M 17 Mar 2024 16:13:38.814 - Error accepting a client connection', ['TRACE', 'redis-marker', '-']],
    ['klog letter before a level word', 'I0317 16:13:38.811123 1 x.go:1] retried after ERROR', ['INFO', 'klog', 'I0317 16:13:38']],
    ['header level before a stack trace', '2024-01-01 12:00:00 WARN retrying\n\tat com.example.Foo.bar(Foo.java:1)', ['WARN', 'header-level', 'WARN']],
  ])('%s', (_name, line, expected) => {
    expect(at(line)).toEqual(expected);
  });

  it.each([
    ['syslog without level: the message word counts', 'Mar 17 16:13:38 web1 app[42]: [WARN] queue depth 900', ['WARN', 'message-word', 'WARN']],
    ['Go log without level: ERROR: in the message', '2009/11/10 23:00:00 ERROR: could not open config.yaml', ['ERROR', 'header-level', 'ERROR']],
    ['sshd error: right after the tag', 'Mar 17 16:13:38 web1 sshd[2]: error: kex_exchange_identification: closed', ['ERROR', 'message-word', 'error']],
    ['stack trace when nothing else', '\tat com.example.Foo.bar(Foo.java:1)', ['ERROR', 'stack-trace', '']],
  ])('a word in the message counts when the header has none: %s', (_name, line, expected) => {
    expect(at(line)).toEqual(expected);
  });

  it('a named level field wins over header words', () => {
    expect(at('INFO level=error msg=x')).toEqual(['ERROR', 'logfmt-field', 'error']);
  });

  it.each([
    ['a Capitalized free-text word at the start of a line', 'Alert sent to the on-call engineer'],
    ['a Capitalized word after a non-header word', 'Mar 17 16:13:38 web1 app[42]: Critical section entered'],
    ['a lone capital letter after the time without a tag', '2024-01-01 12:00:00 A new user signed up'],
    ['a Redis-like marker without the Redis role field', '2024-01-01 12:00:00 * starred item'],
    ['a lower-case error: in mid-text', 'request finished with error: none, all good'],
    ['a bracketed unknown word', '[main] [pool-1-thread-3] started'],
  ])('no level from %s', (_name, line) => {
    expect(locateSeverityCode(line)).toBe(0);
  });
});

describe('layouts', () => {
  it.each([
    ['logcat threadtime', '03-17 16:13:38.811  1702  2395 D WindowManager: x', 'DEBUG'],
    ['logcat threadtime, padded tag', '03-17 16:13:39.121   611   611 F libc    : Fatal signal 11', 'FATAL'],
    ['logcat threadtime with uid', '03-17 16:13:41.000 10123  4123  4140 E SQLiteLog: (1) no such table', 'ERROR'],
    ['logcat assert', '03-17 16:13:39.122  4123  4123 A DEBUG   : Abort message', 'FATAL'],
    ['logcat brief', 'W/System.err( 4123): java.io.IOException', 'WARN'],
    ['logcat process', 'E( 4123) Failed to load native library  (NativeLoader)', 'ERROR'],
    ['logcat time', '03-17 16:13:38.811 V/AudioFlinger(  220): start output', 'TRACE'],
    ['logcat long', '[ 03-17 16:13:38.811  1702: 2395 D/WindowManager ]\nprintFreezingDisplayLogs', 'DEBUG'],
    ['RFC 5424 PRI', '<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% x', 'INFO2'],
    ['.NET systemd formatter PRI', '<3>Example.Api.OrdersController[0] Order 42 failed', 'ERROR'],
    ['journald export PRIORITY', '__REALTIME_TIMESTAMP=1\nPRIORITY=4\nMESSAGE=x', 'WARN'],
    ['journald JSON PRIORITY', '{"PRIORITY":"2","MESSAGE":"EXT4-fs error"}', 'ERROR2'],
    ['Windows Event Log Level: line', 'Event[0]:\n  Log Name: System\n  Level: Warning\n  Description: x', 'WARN'],
    ['Windows Event Log CSV', 'Error,3/17/2024 4:13:39 PM,Service Control Manager,7000,None,x', 'ERROR'],
    ['Python logging default', 'CRITICAL:app.db:connection pool exhausted', 'ERROR2'],
    ['.NET fail:', 'fail: Microsoft.AspNetCore.Diagnostics[1]\n      An unhandled exception', 'ERROR'],
    ['.NET dbug:', 'dbug: Microsoft.Extensions.Hosting.Internal.Host[1]', 'DEBUG'],
    ['PostgreSQL LOG:', '2024-03-17 16:13:38.811 UTC [1] LOG:  database system is ready', 'INFO'],
    ['PostgreSQL DEBUG2:', '2024-03-17 16:13:38.811 UTC [1] DEBUG2:  x', 'DEBUG2'],
    ['MySQL [Note]', '2024-03-17T16:13:38.811123Z 0 [Note] InnoDB: x', 'INFO'],
    ['Apache trace level', '[Sun Mar 17 16:13:38.811234 2024] [core:trace3] [pid 1:tid 2] x', 'TRACE3'],
    ['Redis warning', '1:C 17 Mar 2024 16:13:38.811 # WARNING Memory overcommit', 'WARN'],
    ['Redis notice', '[4018] 14 Nov 07:01:22.120 * The server is now ready', 'INFO2'],
    ['Serilog CLEF without @l', '{"@t":"2024-03-17T16:13:38Z","@mt":"Error count is {Count}","Count":0}', 'INFO'],
    ['Kubernetes JSON ErrorS', '{"ts":1580306777.0473,"msg":"Failed to update lease","err":"timeout"}', 'ERROR'],
    ['slog JSON offset', '{"time":"x","level":"ERROR+2","msg":"y"}', 'ERROR3'],
    ['tracing with ANSI colours', '\x1b[2m2024-03-17T16:13:38.811Z\x1b[0m \x1b[31mERROR\x1b[0m \x1b[2mfmt\x1b[0m: failed', 'ERROR'],
    ['adjacent brackets (Elasticsearch)', '[2024-03-17T16:13:38,812][WARN ][o.e.c.r.a.DiskThresholdMonitor] [node-1] high disk watermark', 'WARN'],
    ['Monolog channel.LEVEL:', '[2024-03-17 16:13:38] local.ERROR: SQLSTATE[HY000]', 'ERROR'],
    ['Celery LEVEL/process', '[2024-03-17 16:13:38,813: WARNING/MainProcess] Restoring 3 messages', 'WARN'],
    ['MongoDB "s"', '{"t":{"$date":"2024-03-17T16:13:38.812+00:00"},"s":"W","c":"CONTROL","msg":"x"}', 'WARN'],
    ['Python File frame', '  File "/app/main.py", line 12, in <module>', 'ERROR'],
    ['Java ... N more', '\t... 3 more', 'ERROR'],
    ['Java Caused by', 'Caused by: java.sql.SQLException: Violation', 'ERROR'],
  ])('%s', (_name, line, short) => {
    expect(locateSeverity(line)?.severityText).toBe(short);
  });
});

describe('severityFromText additions', () => {
  it.each([
    ['fail', 17], ['dbug', 5], ['trce', 1], ['note', 9], ['LOG', 9], ['assert', 21], ['debug1', 5], ['trace8', 4],
    ['DEBUG-4', 1], ['INFO+2', 11], ['ERROR+8', 24],
  ])('maps %j to %i', (text, n) => {
    expect(severityFromText(text)).toBe(n);
  });
});

describe('rules', () => {
  it('names a rule and a text for every id', () => {
    for (const r of RULES) expect(r.text.length).toBeGreaterThan(0);
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
  });
});
