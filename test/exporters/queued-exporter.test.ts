import * as http2 from 'node:http2';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import { encodeLogsData } from '../../src/otlp/codec';
import { QueuedExporter, type ExporterSettings } from '../../src/exporters/queued-exporter';
import { OtlpGrpcTransport } from '../../src/exporters/otlp-grpc';
import { parseGrpcEndpoint } from '../../src/config/endpoints';
import { backoffDelay } from '../../src/exporters/retry';
import { Metrics } from '../../src/telemetry/metrics';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { bodies, record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { batchOf, fastExporterSettings } from '../helpers/exporters';

const fast = fastExporterSettings;

describe('queued OTLP exporter', () => {
  let sink: OtlpTestServer;
  let metrics: Metrics;
  let exporter: QueuedExporter;

  async function make(settings: Partial<ExporterSettings> = {}, headers: Record<string, string> = {}, compression: 'gzip' | 'none' = 'none'): Promise<void> {
    sink = await new OtlpTestServer().start();
    metrics = new Metrics();
    exporter = new QueuedExporter(
      'otlp',
      new OtlpGrpcTransport({ endpoint: sink.endpoint, headers, compression, insecure: true }),
      { ...fast, ...settings },
      { logger: pino({ level: 'silent' }), metrics, random: () => 0.5 },
    );
    exporter.start();
  }

  afterEach(async () => {
    await exporter.shutdown(Date.now() + 1000);
    await sink.stop();
  });

  const dropped = (reason: string) => metrics.total(metrics.dropped, { component: 'exporter/otlp', reason });

  test('retries UNAVAILABLE and DEADLINE_EXCEEDED with backoff until delivered', async () => {
    await make();
    sink.failures.push({ code: status.UNAVAILABLE }, { code: status.DEADLINE_EXCEEDED });
    exporter.offer(batchOf('a'));
    await sink.waitForRecords(1);
    expect(sink.calls).toBe(3);
    expect(await metrics.total(metrics.exporterSendFailed)).toBe(2);
    await eventually(async () => expect(await metrics.total(metrics.exporterSent)).toBe(1));
  });

  test('drops a batch answered INVALID_ARGUMENT without retrying, and counts it', async () => {
    await make();
    sink.failures.push({ code: status.INVALID_ARGUMENT });
    exporter.offer(batchOf('a', 'b'));
    // Dropping is final: once counted, no retry can follow.
    await eventually(async () => expect(await dropped('export_failed')).toBe(2));
    expect(sink.calls).toBe(1);
    expect(exporter.size).toBe(0);
  });

  test('retries RESOURCE_EXHAUSTED only when the server sent RetryInfo, waiting at least that long', async () => {
    await make();
    sink.failures.push({ code: status.RESOURCE_EXHAUSTED, retryAfterMs: 150 });
    const t0 = Date.now();
    exporter.offer(batchOf('throttled'));
    await sink.waitForRecords(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);

    sink.failures.push({ code: status.RESOURCE_EXHAUSTED });
    exporter.offer(batchOf('refused'));
    await eventually(async () => expect(await dropped('export_failed')).toBe(1));
    expect(sink.calls).toBe(3);
  });

  test('gives up after max elapsed time and counts the records as retries_exhausted', async () => {
    await make({ retry: { enabled: true, initialIntervalMs: 20, maxIntervalMs: 20, maxElapsedMs: 100 } });
    for (let i = 0; i < 20; i++) sink.failures.push({ code: status.UNAVAILABLE });
    exporter.offer(batchOf('a', 'b', 'c'));
    await eventually(async () => expect(await dropped('retries_exhausted')).toBe(3));
    expect(sink.records()).toEqual([]);
  });

  test('counts records the downstream rejected in partial_success, without retrying', async () => {
    await make();
    sink.partialSuccess = { rejectedLogRecords: 1, errorMessage: 'one bad' };
    exporter.offer(batchOf('a', 'b'));
    await sink.waitForRecords(2);
    await eventually(async () => expect(await dropped('downstream_rejected')).toBe(1));
    expect(sink.calls).toBe(1);
    expect(await metrics.total(metrics.exporterSent)).toBe(1);
  });

  test('merges offered batches into one request up to the batch size', async () => {
    await make({ batchMaxRecords: 4, batchMaxDelayMs: 1000 });
    exporter.offer(batchOf('a', 'b'));
    exporter.offer(batchOf('c', 'd'));
    exporter.offer(batchOf('e'));
    await sink.waitForRecords(4);
    expect(sink.requests).toHaveLength(1);
    expect(bodies(sink.records())).toEqual(['a', 'b', 'c', 'd']);
    // Held until the downstream's answer arrives, then only the partial batch remains.
    await eventually(() => expect(exporter.size).toBe(1));
  });

  test('sends configured headers as gRPC metadata', async () => {
    await make({}, { 'X-Tenant': 't1' });
    exporter.offer(batchOf('a'));
    await sink.waitForRecords(1);
    expect(sink.metadata[0]!.get('x-tenant')).toEqual(['t1']);
  });

  test('on shutdown drains the queue within the deadline', async () => {
    await make({ batchMaxDelayMs: 10_000 });
    exporter.offer(batchOf('a', 'b'));
    await exporter.shutdown(Date.now() + 2000);
    expect(bodies(sink.records())).toEqual(['a', 'b']);
  });

  test('counts records still unsent at the shutdown deadline as dropped (reason shutdown)', async () => {
    await make({ retry: { enabled: true, initialIntervalMs: 5000, maxIntervalMs: 5000, maxElapsedMs: 0 } });
    sink.failures.push({ code: status.UNAVAILABLE });
    exporter.offer(batchOf('a', 'b', 'c'));
    await eventually(async () => expect(await metrics.total(metrics.exporterSendFailed)).toBe(1));
    const t0 = Date.now();
    await exporter.shutdown(Date.now() + 200);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await dropped('shutdown')).toBe(3);
  });
});

describe('OTLP/gRPC transport compression', () => {
  test('sends gzip-flagged, compressed frames when compression is gzip', async () => {
    // A bare HTTP/2 server sees the wire: grpc-js servers hide the encoding once decompressed.
    const seen: { encoding: unknown; flag: number | undefined; length: number }[] = [];
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const frame = Buffer.concat(chunks);
        seen.push({ encoding: headers['grpc-encoding'], flag: frame[0], length: frame.length });
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    const transport = new OtlpGrpcTransport({ endpoint: `http://127.0.0.1:${port}`, headers: {}, compression: 'gzip', insecure: true });
    const bytes = encodeLogsData(request(Array.from({ length: 50 }, () => record('the same line, many times'))));
    await transport.send({ bytes, records: 50 }, 2000);
    await transport.close();
    server.close();
    expect(seen).toEqual([{ encoding: 'gzip', flag: 1, length: expect.any(Number) }]);
    expect(seen[0]!.length).toBeLessThan(bytes.length / 4);
  });
});

describe('backoff', () => {
  const policy = { enabled: true, initialIntervalMs: 5000, maxIntervalMs: 30000, maxElapsedMs: 300000 };
  test.each([
    [0, 0.5, 5000],
    [1, 0.5, 7500],
    [2, 0.5, 11250],
    [10, 0.5, 30000],
    [0, 0, 2500],
    [0, 1, 7500],
  ])('attempt %d with random %d waits %d ms', (attempt, random, ms) => {
    expect(backoffDelay(policy, attempt, random)).toBe(ms);
  });
  test('never waits less than the server asked for', () => {
    expect(backoffDelay(policy, 0, 0.5, 9000)).toBe(9000);
  });
});

describe('OTLP/gRPC endpoint', () => {
  test.each([
    ['http://collector:4317', false, { address: 'collector:4317', tls: false }],
    ['https://collector:4317', false, { address: 'collector:4317', tls: true }],
    ['https://collector', true, { address: 'collector:4317', tls: true }],
    ['collector:4317', false, { address: 'collector:4317', tls: true }],
    ['collector:4317', true, { address: 'collector:4317', tls: false }],
    ['http://[::1]:5317/', false, { address: '[::1]:5317', tls: false }],
  ])('%s (insecure=%s)', (endpoint, insecure, expected) => {
    expect(parseGrpcEndpoint(endpoint, insecure)).toEqual(expected);
  });
  test('rejects a URL path (OTLP/HTTP style)', () => {
    expect(() => parseGrpcEndpoint('http://c:4318/v1/logs', false)).toThrow(/invalid OTLP\/gRPC endpoint/);
  });
});
