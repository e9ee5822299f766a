/** OTLP/HTTP transport against a scripted node:http server, and against the HTTP receiver. */
import * as net from 'node:net';
import Long from 'long';
import pino from 'pino';
import { ExportError } from '../../src/errors';
import { OtlpHttpTransport, parseRetryAfter, type OtlpHttpOptions } from '../../src/exporters/otlp-http';
import { otlpHttpLogsUrl } from '../../src/config/endpoints';
import { QueuedExporter } from '../../src/exporters/queued-exporter';
import type { EncodedBatch } from '../../src/otlp/encoded-batch';
import { decodeLogsData, encodeExportResponse, encodeLogsData } from '../../src/otlp/codec';
import { decodeLogsDataJson, encodeStatus, encodeStatusJson } from '../../src/otlp/json';
import { HttpReceiver } from '../../src/receiver/http-receiver';
import { Metrics } from '../../src/telemetry/metrics';
import { bodies, record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { MemoryTransport, httpReceiverOptions, testPipeline } from '../helpers/http-pipeline';
import { HttpTestServer } from '../helpers/http-test-server';

const batchOf = (...texts: string[]): EncodedBatch => {
  const bytes = encodeLogsData(request(texts.map((t) => record(t))));
  return { bytes, records: texts.length };
};

async function failure(p: Promise<unknown>): Promise<ExportError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ExportError);
    return e as ExportError;
  }
  throw new Error('expected the send to fail');
}

describe('otlpHttpLogsUrl', () => {
  test.each([
    ['http://collector:4318', false, 'http://collector:4318/v1/logs'],
    ['http://collector:4318/', false, 'http://collector:4318/v1/logs'],
    ['https://gw.example.com/otlp', false, 'https://gw.example.com/otlp/v1/logs'],
    ['https://gw.example.com/otlp/', false, 'https://gw.example.com/otlp/v1/logs'],
    ['  http://collector:4318  ', false, 'http://collector:4318/v1/logs'],
    ['http://collector:4318/custom/logs', true, 'http://collector:4318/custom/logs'],
    ['http://collector:4318', true, 'http://collector:4318/'],
    ['https://collector', true, 'https://collector/'],
  ])('%s (signal-specific: %s) → %s', (endpoint, signalSpecific, url) => {
    expect(otlpHttpLogsUrl(endpoint, signalSpecific)).toBe(url);
  });

  test.each(['collector:4318', 'grpc://collector:4317', '', 'http://'])('refuses %j', (endpoint) => {
    expect(() => otlpHttpLogsUrl(endpoint, false)).toThrow(/invalid OTLP\/HTTP endpoint .*expected http\(s\):\/\/host/);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  test.each([
    ['3', 3000],
    [' 0 ', 0],
    ['Wed, 01 Jan 2025 00:00:10 GMT', 10_000],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
    ['soon', undefined],
    ['-1', undefined],
    [undefined, undefined],
  ])('%j → %j ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
});

describe('OtlpHttpTransport', () => {
  let server: HttpTestServer;
  const transports: OtlpHttpTransport[] = [];

  beforeEach(async () => {
    server = await new HttpTestServer().start();
  });
  afterEach(async () => {
    for (const t of transports.splice(0)) await t.close();
    await server.stop();
  });

  const transport = (options: Partial<OtlpHttpOptions> = {}): OtlpHttpTransport => {
    const t = new OtlpHttpTransport({ url: `${server.url}/v1/logs`, protocol: 'http/protobuf', headers: {}, compression: 'none', ...options });
    transports.push(t);
    return t;
  };

  test('http/protobuf: POSTs the batch bytes as they are; 200 with an empty body is success', async () => {
    const batch = batchOf('a', 'b');
    expect(await transport({ headers: { Authorization: 'Bearer t', 'x-scope': 's' } }).send(batch, 5000)).toEqual({ rejected: 0, message: '' });
    const [req] = server.requests;
    expect([req!.method, req!.url]).toEqual(['POST', '/v1/logs']);
    expect(req!.headers['content-type']).toBe('application/x-protobuf');
    expect(req!.headers['content-encoding']).toBeUndefined();
    expect(req!.headers.authorization).toBe('Bearer t');
    expect(req!.headers['x-scope']).toBe('s');
    expect(req!.body.equals(Buffer.from(batch.bytes))).toBe(true);
  });

  test('gzip compresses the request body', async () => {
    const batch = batchOf('zipped');
    await transport({ compression: 'gzip' }).send(batch, 5000);
    const [req] = server.requests;
    expect(req!.headers['content-encoding']).toBe('gzip');
    expect(req!.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(bodies(decodeLogsData(req!.body).resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['zipped']);
  });

  test('http/json: the same records as OTLP/JSON, 64-bit values exact', async () => {
    const batch: EncodedBatch = {
      bytes: encodeLogsData(request([record('j', { timeUnixNano: Long.fromString('18446744073709551615', true) })])),
      records: 1,
    };
    await transport({ protocol: 'http/json', compression: 'gzip' }).send(batch, 5000);
    const [req] = server.requests;
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.body.toString()).toContain('"timeUnixNano":"18446744073709551615"');
    const got = decodeLogsDataJson(req!.body).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect([got.body?.stringValue, got.timeUnixNano.toString()]).toEqual(['j', '18446744073709551615']);
  });

  test('a batch of several merged requests (concatenated encodings) is sent whole in both protocols', async () => {
    const a = batchOf('1', '2');
    const b = batchOf('3');
    const merged: EncodedBatch = { bytes: Buffer.concat([a.bytes, b.bytes]), records: 3 };
    await transport().send(merged, 5000);
    await transport({ protocol: 'http/json' }).send(merged, 5000);
    expect(decodeLogsData(server.requests[0]!.body).resourceLogs).toHaveLength(2);
    expect(decodeLogsDataJson(server.requests[1]!.body).resourceLogs).toHaveLength(2);
  });

  test('partial_success in a protobuf or JSON response is reported', async () => {
    server.responses.push(
      { status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: encodeExportResponse({ partialSuccess: { rejectedLogRecords: 2, errorMessage: 'two bad' } }) },
      { status: 200, headers: { 'content-type': 'application/json' }, body: '{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"one bad"}}' },
    );
    expect(await transport().send(batchOf('a', 'b', 'c'), 5000)).toEqual({ rejected: 2, message: 'two bad' });
    expect(await transport({ protocol: 'http/json' }).send(batchOf('a'), 5000)).toEqual({ rejected: 1, message: 'one bad' });
  });

  test('a 2xx with an unreadable body is still success, with a warning message', async () => {
    server.responses.push({ status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from([0x0a, 0xff]) }, { status: 202, headers: { 'content-type': 'text/plain' }, body: 'OK' });
    const res = await transport().send(batchOf('a'), 5000);
    expect(res.rejected).toBe(0);
    expect(res.message).toMatch(/HTTP 200 with an undecodable ExportLogsServiceResponse/);
    expect((await transport().send(batchOf('a'), 5000)).rejected).toBe(0);
  });

  test.each([
    [503, { 'retry-after': '3' }, 3000],
    [429, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() }, 60_000],
    [502, {}, undefined],
    [504, {}, undefined],
  ])('%i is retryable, with the Retry-After delay', async (status, headers, delay) => {
    server.responses.push({ status, headers });
    const err = await failure(transport().send(batchOf('a'), 5000));
    expect([err.retryable, err.code]).toEqual([true, `HTTP_${status}`]);
    if (delay === undefined) expect(err.retryAfterMs).toBeUndefined();
    else expect(err.retryAfterMs).toBeGreaterThan(delay - 2000);
    if (delay !== undefined) expect(err.retryAfterMs).toBeLessThanOrEqual(delay);
  });

  test('the exporter waits the Retry-After delay of a 503 before the retry', async () => {
    server.responses.push({ status: 503, headers: { 'retry-after': '1' } });
    const metrics = new Metrics();
    const exporter = new QueuedExporter(
      'otlp',
      transport(),
      {
        maxQueuedRecords: 100,
        consumers: 1,
        batchMaxRecords: 10,
        batchMaxDelayMs: 1,
        timeoutMs: 5000,
        retry: { enabled: true, initialIntervalMs: 10, maxIntervalMs: 20, maxElapsedMs: 10_000 },
      },
      { logger: pino({ level: 'silent' }), metrics },
    );
    exporter.start();
    exporter.offer(batchOf('retried'));
    await eventually(() => expect(server.requests).toHaveLength(2), 5000);
    // Backoff alone would be 10-20 ms; the server asked for a second.
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950);
    await eventually(async () => expect(await metrics.total(metrics.exporterSent)).toBe(1));
    expect(await metrics.total(metrics.exporterSendFailed, { code: 'HTTP_503' })).toBe(1);
    await exporter.shutdown(Date.now() + 1000);
  });

  test.each([
    ['protobuf Status', { 'content-type': 'application/x-protobuf' }, encodeStatus({ code: 3, message: 'field x is bad' }), 'HTTP 400 Bad Request: field x is bad'],
    ['JSON Status', { 'content-type': 'application/json; charset=utf-8' }, encodeStatusJson({ code: 3, message: 'field y is bad' }), 'HTTP 400 Bad Request: field y is bad'],
    ['text', { 'content-type': 'text/plain' }, 'plain\n  reason', 'HTTP 400 Bad Request: plain reason'],
    ['JSON that is not a Status', { 'content-type': 'application/json' }, '{"error":"nope"}', 'HTTP 400 Bad Request: {"error":"nope"}'],
    ['nothing', {}, '', 'HTTP 400 Bad Request'],
  ])('400 is permanent, with the message from a %s body', async (_name, headers, body, message) => {
    server.responses.push({ status: 400, headers, body });
    const err = await failure(transport().send(batchOf('a'), 5000));
    expect([err.retryable, err.code, err.message]).toEqual([false, 'HTTP_400', message]);
  });

  test.each([401, 403, 404, 413, 500, 501])('%i is permanent', async (status) => {
    server.responses.push({ status });
    const err = await failure(transport().send(batchOf('a'), 5000));
    expect([err.retryable, err.code]).toEqual([false, `HTTP_${status}`]);
  });

  test('connection refused is retryable', async () => {
    await server.stop();
    const err = await failure(transport().send(batchOf('a'), 5000));
    expect([err.retryable, err.code]).toEqual([true, 'ECONNREFUSED']);
  });

  test('a connection reset is retryable', async () => {
    const sockets = net.createServer((s) => s.once('data', () => s.resetAndDestroy()));
    await new Promise<void>((r) => sockets.listen(0, '127.0.0.1', r));
    const port = (sockets.address() as net.AddressInfo).port;
    const t = new OtlpHttpTransport({ url: `http://127.0.0.1:${port}/v1/logs`, protocol: 'http/protobuf', headers: {}, compression: 'none' });
    transports.push(t);
    const err = await failure(t.send(batchOf('a'), 5000));
    expect(err.retryable).toBe(true);
    expect(err.code).toBe('ECONNRESET');
    await new Promise((r) => sockets.close(r));
  });

  test('no answer within the timeout is retryable', async () => {
    server.responses.push({ status: 200, delayMs: 1000 });
    const t0 = Date.now();
    const err = await failure(transport().send(batchOf('a'), 100));
    expect([err.retryable, err.code, err.message]).toEqual([true, 'TIMEOUT', 'no response within 100 ms']);
    expect(Date.now() - t0).toBeLessThan(900);
  });

  test('forwarded metadata is sent as headers (overriding configured ones) but cannot replace the body headers', async () => {
    await transport({ headers: { 'x-tenant': 'config', 'x-static': '1' } }).send(
      { ...batchOf('a'), metadata: { 'x-tenant': 'sender', 'content-type': 'text/plain', 'bad\nname': 'v', 'x-bad-value': 'a\nb' } },
      5000,
    );
    const h = server.requests[0]!.headers;
    expect([h['x-tenant'], h['x-static'], h['content-type'], h['x-bad-value']]).toEqual(['sender', '1', 'application/x-protobuf', undefined]);
  });

  test('close abandons a request in flight; sending after close fails permanently', async () => {
    server.responses.push({ status: 200, delayMs: 2000 });
    const t = transport();
    const pending = failure(t.send(batchOf('a'), 5000));
    await eventually(() => expect(server.requests).toHaveLength(1));
    await t.close();
    expect((await pending).code).toBe('CANCELLED');
    const after = await failure(t.send(batchOf('b'), 5000));
    expect([after.retryable, after.code]).toEqual([false, 'CLOSED']);
  });

  test('refuses an invalid URL or header at construction', () => {
    expect(() => transport({ url: 'collector:4318' })).toThrow(/invalid OTLP\/HTTP endpoint/);
    expect(() => transport({ headers: { 'x-bad': 'a\nb' } })).toThrow(/Invalid character in header content/);
  });
});

describe('OtlpHttpTransport → HttpReceiver', () => {
  test.each(['http/protobuf', 'http/json'] as const)('%s: records and partial_success make the round trip', async (protocol) => {
    const sink = new MemoryTransport();
    const tp = testPipeline(sink, { maxBodyBytes: 100 });
    const receiver = new HttpReceiver(httpReceiverOptions(tp.metrics, { endpoint: '127.0.0.1:0', maxRecvBytes: 1024 * 1024 }), tp.pipeline, tp.metrics, tp.logger);
    const port = await receiver.start();
    const t = new OtlpHttpTransport({ url: otlpHttpLogsUrl(`http://127.0.0.1:${port}`, false), protocol, headers: {}, compression: 'gzip' });
    try {
      const result = await t.send(batchOf('ok', 'z'.repeat(101), 'fine'), 5000);
      expect(result.rejected).toBe(1);
      expect(result.message).toMatch(/body is 101 bytes/);
      await eventually(() => expect(bodies(sink.records())).toEqual(['ok', 'fine']));
      expect(await tp.metrics.total(tp.metrics.receiverAccepted, { transport: 'http' })).toBe(2);
    } finally {
      await t.close();
      await receiver.stop(Date.now() + 1000);
      await tp.shutdown();
    }
  });

  test('a stopping receiver answers 503 and the transport makes that retryable', async () => {
    const tp = testPipeline(new MemoryTransport());
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inConsumer = new Promise<void>((r) => (entered = r));
    const consumer = {
      consume: async () => {
        entered();
        await gate;
        return { rejected: 0, message: '' };
      },
      consumeData: async () => ({ rejected: 0, message: '' }),
    };
    const receiver = new HttpReceiver(httpReceiverOptions(tp.metrics, { endpoint: '127.0.0.1:0', maxRecvBytes: 1024 * 1024 }), consumer, tp.metrics, tp.logger);
    const port = await receiver.start();
    const t = new OtlpHttpTransport({ url: `http://127.0.0.1:${port}/v1/logs`, protocol: 'http/protobuf', headers: {}, compression: 'none' });
    try {
      const first = t.send(batchOf('a'), 5000);
      await inConsumer;
      const stopping = receiver.stop(Date.now() + 5000);
      const err = await failure(t.send(batchOf('b'), 5000));
      expect([err.retryable, err.code, err.retryAfterMs]).toEqual([true, 'HTTP_503', 1000]);
      expect(err.message).toBe('HTTP 503 Service Unavailable: server is shutting down');
      release();
      expect((await first).rejected).toBe(0);
      await stopping;
    } finally {
      await t.close();
      await tp.shutdown();
    }
  });
});
