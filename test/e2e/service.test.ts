/** The whole hop in-process: gRPC client → receiver → chain → exporter → OTLP test server. */
import * as zlib from 'node:zlib';
import { status } from '@grpc/grpc-js';
import Long from 'long';
import { encodeLogsData } from '../../src/otlp/codec';
import { getAttribute } from '../../src/otlp/values';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { startTestService, type TestService } from '../helpers/service';
import { useServiceFixture } from '../helpers/service-fixture';
import { exportLogs, exportRaw } from '../helpers/grpc-client';
import { bodies, record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';

describe('service end to end', () => {
  const f = useServiceFixture();

  const start = (env: Record<string, string> = {}): Promise<TestService> => f.start(env);

  test('forwards records through the default chain with severity and resource applied', async () => {
    const s = await start({ OTEL_SERVICE_NAME: 'from-env', K8S_POD_NAME: 'pod-1' });
    const res = await exportLogs(s.endpoint, request([record('2024-01-01 ERROR db down'), record('all good', { severityText: 'warning' })], {}));
    expect(res.code).toBe(status.OK);
    expect(res.response?.partialSuccess).toBeFalsy();
    await f.sink.waitForRecords(2);
    const [a, b] = f.sink.records();
    expect([a!.severityNumber, a!.severityText]).toEqual([17, 'ERROR']);
    expect(getAttribute(a!.attributes, 'log.severity.inferred')?.boolValue).toBe(true);
    expect([b!.severityNumber, b!.severityText]).toEqual([13, 'WARN']);
    const resource = f.sink.requests[0]!.resourceLogs[0]!.resource!.attributes;
    expect(getAttribute(resource, 'service.name')?.stringValue).toBe('from-env');
    expect(getAttribute(resource, 'k8s.pod.name')?.stringValue).toBe('pod-1');
  });

  test('batches several small requests into one export request', async () => {
    const s = await start({ OLP_BATCH_MAX_DELAY: '300ms', OLP_PROCESSORS: '' });
    await Promise.all([0, 1, 2].map((i) => exportLogs(s.endpoint, request([record(`r${i}a`), record(`r${i}b`)]))));
    await f.sink.waitForRecords(6);
    expect(f.sink.requests).toHaveLength(1);
    expect(f.sink.requests[0]!.resourceLogs).toHaveLength(3);
  });

  test('splits a request larger than the batch size', async () => {
    const s = await start({ OLP_BATCH_MAX_RECORDS: '4', OLP_QUEUE_MAX_RECORDS: '100' });
    await exportLogs(s.endpoint, request(Array.from({ length: 10 }, (_, i) => record(`m${i}`))));
    await f.sink.waitForRecords(10);
    expect(f.sink.requests.map((r) => r.resourceLogs.reduce((n, rl) => n + rl.scopeLogs[0]!.logRecords.length, 0))).toEqual([4, 4, 2]);
    expect(bodies(f.sink.records())).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });

  test('forwards the selected incoming metadata with the records it came with, never mixing senders in a batch', async () => {
    const s = await start({ OLP_OTLP_FORWARD_METADATA: 'X-Tenant', OLP_BATCH_MAX_DELAY: '200ms' });
    await Promise.all([
      exportLogs(s.endpoint, request([record('a1')]), { metadata: { 'x-tenant': 'a', 'x-other': 'secret' } }),
      exportLogs(s.endpoint, request([record('b1')]), { metadata: { 'x-tenant': 'b' } }),
      exportLogs(s.endpoint, request([record('a2')]), { metadata: { 'x-tenant': 'a' } }),
      exportLogs(s.endpoint, request([record('none')])),
    ]);
    await f.sink.waitForRecords(4);
    const byTenant = f.sink.requests.map((r, i) => [f.sink.metadata[i]!.get('x-tenant')[0] ?? '-', bodies(r.resourceLogs.flatMap((rl) => rl.scopeLogs[0]!.logRecords)).sort().join(',')]);
    expect(byTenant.sort()).toEqual([
      ['-', 'none'],
      ['a', 'a1,a2'],
      ['b', 'b1'],
    ]);
    expect(f.sink.metadata.every((m) => m.get('x-other').length === 0)).toBe(true);
  });

  test('sends every record to each of several named exporters', async () => {
    const audit = await new OtlpTestServer().start();
    try {
      const s = await start({ OLP_EXPORTERS: 'otlp,audit', OLP_EXPORTER_AUDIT_ENDPOINT: audit.endpoint });
      await exportLogs(s.endpoint, request([record('to both')]));
      await f.sink.waitForRecords(1);
      await audit.waitForRecords(1);
      expect(bodies(audit.records())).toEqual(['to both']);
      await eventually(async () => expect(await s.metrics.total(s.metrics.exporterSent, { exporter: 'audit' })).toBe(1));
    } finally {
      await audit.stop();
    }
  });

  test('accepts gzip-compressed requests', async () => {
    const s = await start();
    expect((await exportLogs(s.endpoint, request([record('zipped')]), { gzip: true })).code).toBe(status.OK);
    await f.sink.waitForRecords(1);
    expect(bodies(f.sink.records())).toEqual(['zipped']);
  });

  test('answers INVALID_ARGUMENT to an undecodable payload and keeps serving', async () => {
    const s = await start();
    const bad = await exportRaw(s.endpoint, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/cannot decode ExportLogsServiceRequest/);
    expect((await exportLogs(s.endpoint, request([record('after')]))).code).toBe(status.OK);
    await f.sink.waitForRecords(1);
  });

  test('refuses a request with invalid UTF-8 in a string field as INVALID_ARGUMENT, as proto3 requires', async () => {
    const s = await start();
    const bytes = Buffer.from(encodeLogsData(request([record('AAAA')])));
    bytes[bytes.indexOf(Buffer.from('AAAA'))] = 0xff;
    const res = await exportRaw(s.endpoint, bytes);
    expect(res.code).toBe(status.INVALID_ARGUMENT);
    expect(res.details).toMatch(/string_value is not valid UTF-8/);
  });

  test('survives hundreds of corrupted payloads over gRPC, answering each OK or INVALID_ARGUMENT', async () => {
    const s = await start();
    const valid = Buffer.from(encodeLogsData(request([record('a'), record('b', { attributes: [{ key: 'k', value: { intValue: Long.fromNumber(7) } }] })])));
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(valid);
      bytes[(i * 7919) % bytes.length] = (i * 31) & 0xff;
      const cut = i % 3 === 0 ? bytes.subarray(0, (i * 13) % bytes.length) : bytes;
      expect([status.OK, status.INVALID_ARGUMENT]).toContain((await exportRaw(s.endpoint, cut)).code);
    }
    expect((await exportLogs(s.endpoint, request([record('still fine')]))).code).toBe(status.OK);
  });

  test('answers RESOURCE_EXHAUSTED to a request over OLP_GRPC_MAX_RECV_MIB, including one that only inflates past it', async () => {
    const s = await start({ OLP_GRPC_MAX_RECV_MIB: '1' });
    const big = encodeLogsData(request([record('x'.repeat(1100 * 1024))]));
    expect((await exportRaw(s.endpoint, big)).code).toBe(status.RESOURCE_EXHAUSTED);
    expect(zlib.gzipSync(big).length).toBeLessThan(1024 * 1024);
    expect((await exportRaw(s.endpoint, big, { gzip: true })).code).toBe(status.RESOURCE_EXHAUSTED);
    expect((await exportLogs(s.endpoint, request([record('small')]))).code).toBe(status.OK);
  });

  test('rejects only the record whose body exceeds the limit, reports it in partial_success and counts it', async () => {
    const s = await start({ OLP_LIMITS_MAX_BODY_BYTES: '100' });
    const res = await exportLogs(s.endpoint, request([record('ok-1'), record('y'.repeat(101)), record('ok-2')]));
    expect(res.code).toBe(status.OK);
    expect(Long.fromValue(res.response!.partialSuccess!.rejectedLogRecords).toNumber()).toBe(1);
    expect(res.response!.partialSuccess!.errorMessage).toMatch(/log_records\[1\]\.body is 101 bytes.*OLP_LIMITS_MAX_BODY_BYTES/);
    await f.sink.waitForRecords(2);
    expect(bodies(f.sink.records())).toEqual(['ok-1', 'ok-2']);
    expect(await s.metrics.total(s.metrics.receiverRefused, { reason: 'body_too_large' })).toBe(1);
  });

  test('refuses a request with more records than OLP_LIMITS_MAX_RECORDS as a whole, without RetryInfo', async () => {
    const s = await start({ OLP_LIMITS_MAX_RECORDS: '3' });
    const res = await exportLogs(s.endpoint, request(['a', 'b', 'c', 'd'].map((b) => record(b))));
    expect(res.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(res.details).toMatch(/4 log records, over the limit of 3 \(OLP_LIMITS_MAX_RECORDS\)/);
    expect(res.retryAfterMs).toBeUndefined();
    expect(await s.metrics.total(s.metrics.receiverRefused, { reason: 'too_many_records' })).toBe(4);
    expect((await exportLogs(s.endpoint, request([record('ok')]))).code).toBe(status.OK);
  });

  test('answers RESOURCE_EXHAUSTED with RetryInfo when the exporter queue is full, and counts the refusal', async () => {
    await f.sink.stop();
    // Downstream gone: the queue fills and stays full. The records a consumer holds in its retry loop count too.
    const s = await start({ OLP_QUEUE_MAX_RECORDS: '6', OLP_BATCH_MAX_RECORDS: '3', OLP_RETRY_INITIAL_INTERVAL: '1s', OLP_QUEUE_CONSUMERS: '1', OLP_SHUTDOWN_TIMEOUT: '100ms' });
    expect((await exportLogs(s.endpoint, request([record('1'), record('2'), record('3')]))).code).toBe(status.OK);
    expect((await exportLogs(s.endpoint, request([record('4'), record('5'), record('6')]))).code).toBe(status.OK);
    const full = await exportLogs(s.endpoint, request([record('7')]));
    expect(full.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(full.details).toMatch(/queue is full/);
    expect(full.retryAfterMs).toBe(1000);
    expect(await s.metrics.total(s.metrics.receiverRefused, { reason: 'queue_full' })).toBe(1);
    f.sink = await new OtlpTestServer().start(); // for afterEach
  });

  test('prints records with the debug exporter when no endpoint is set', async () => {
    f.service = await startTestService({ OLP_DEBUG_VERBOSITY: 'normal' });
    await exportLogs(f.service.endpoint, request([record('hello debug', { severityText: 'info' })]));
    await eventually(() => expect(f.service!.stdout.text).toMatch(/LogsExporter #records=1/));
    expect(f.service.stdout.text).toMatch(/2023-11-14T22:13:20\.123456789Z INFO hello debug/);
  });

  test('answers UNAVAILABLE once shutting down, then drains what it accepted', async () => {
    const s = await start({ OLP_BATCH_MAX_DELAY: '10s' });
    await exportLogs(s.endpoint, request([record('before stop')]));
    const stopping = s.shutdown();
    const late = await exportLogs(s.endpoint, request([record('too late')]));
    expect([status.UNAVAILABLE, status.CANCELLED]).toContain(late.code);
    await stopping;
    f.service = undefined;
    expect(bodies(f.sink.records())).toEqual(['before stop']);
  });

  test('exposes its counters on the metrics endpoint', async () => {
    const s = await start();
    await exportLogs(s.endpoint, request([record('a'), record('b')]));
    await f.sink.waitForRecords(2);
    await eventually(async () => {
      const text = await (await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`)).text();
      expect(text).toMatch(/olp_receiver_accepted_log_records_total\{transport="grpc"\} 2/);
      expect(text).toMatch(/olp_exporter_sent_log_records_total\{exporter="otlp"\} 2/);
      expect(text).toMatch(/olp_pipeline_latency_seconds_count\{exporter="otlp"\} 1/);
    });
  });
});
