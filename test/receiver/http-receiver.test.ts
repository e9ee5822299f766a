/** OTLP/HTTP receiver: both encodings, gzip, every error status with its body and headers, shutdown. */
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import Long from 'long';
import pino from 'pino';
import { PipelineError } from '../../src/errors';
import { decodeExportResponse, encodeLogsData } from '../../src/otlp/codec';
import { decodeExportResponseJson, decodeStatus, decodeStatusJson, encodeLogsDataJson } from '../../src/otlp/json';
import { getAttribute } from '../../src/otlp/values';
import { HttpReceiver, type HttpReceiverOptions, type LogsConsumer } from '../../src/receiver/http-receiver';
import type { ConsumeResult } from '../../src/pipeline/pipeline';
import { Metrics } from '../../src/telemetry/metrics';
import { bodies, record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { httpRequest, postLogs, type HttpAnswer } from '../helpers/http-client';
import { MemoryTransport, httpReceiverOptions, testPipeline, type TestPipeline, type TestPipelineSettings } from '../helpers/http-pipeline';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const MAX = 64 * 1024;

describe('OTLP/HTTP receiver', () => {
  let transport: MemoryTransport;
  let tp: TestPipeline | undefined;
  let receiver: HttpReceiver | undefined;
  let url: string;

  const start = async (settings: TestPipelineSettings = {}, options: Partial<HttpReceiverOptions> = {}): Promise<TestPipeline> => {
    transport = new MemoryTransport();
    tp = testPipeline(transport, settings);
    receiver = new HttpReceiver(httpReceiverOptions(tp.metrics, { endpoint: '127.0.0.1:0', maxRecvBytes: MAX, ...options }), tp.pipeline, tp.metrics, tp.logger);
    url = `http://127.0.0.1:${await receiver.start()}/v1/logs`;
    return tp;
  };

  /** The receiver around a stand-in consumer (for outcomes a real pipeline does not produce on demand). */
  const startWith = async (consumer: LogsConsumer, options: Partial<HttpReceiverOptions> = {}): Promise<Metrics> => {
    const metrics = new Metrics();
    receiver = new HttpReceiver(httpReceiverOptions(metrics, { endpoint: '127.0.0.1:0', maxRecvBytes: MAX, ...options }), consumer, metrics, pino({ level: 'silent' }));
    url = `http://127.0.0.1:${await receiver.start()}/v1/logs`;
    return metrics;
  };

  afterEach(async () => {
    await receiver?.stop(Date.now() + 1000);
    await tp?.shutdown();
    receiver = undefined;
    tp = undefined;
  });

  const protobufBody = (...texts: string[]): Uint8Array => encodeLogsData(request(texts.map((t) => record(t))));
  const jsonBody = (...texts: string[]): string => encodeLogsDataJson(request(texts.map((t) => record(t))));

  function expectStatus(res: HttpAnswer, httpStatus: number, encoding: 'protobuf' | 'json', code: number, message: RegExp): void {
    expect(res.status).toBe(httpStatus);
    expect(res.headers['content-type']).toBe(encoding === 'json' ? JSON_TYPE : PROTOBUF);
    const status = encoding === 'json' ? decodeStatusJson(res.body) : decodeStatus(res.body);
    expect(status.code).toBe(code);
    expect(status.message).toMatch(message);
  }

  describe('accepted requests', () => {
    test('binary protobuf: 200 with an empty ExportLogsServiceResponse, records forwarded', async () => {
      const p = await start();
      const res = await postLogs(url, protobufBody('a', 'b'), PROTOBUF);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(PROTOBUF);
      expect(decodeExportResponse(res.body).partialSuccess).toBeFalsy();
      await eventually(() => expect(bodies(transport.records())).toEqual(['a', 'b']));
      expect(await p.metrics.total(p.metrics.receiverAccepted, { transport: 'http' })).toBe(2);
    });

    test('OTLP/JSON: 200 with {} and the records intact (64-bit time, ids, resource)', async () => {
      await start();
      const json = JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'json-svc' } }] },
            scopeLogs: [
              {
                logRecords: [
                  {
                    timeUnixNano: 'TIME',
                    severityNumber: 'SEVERITY_NUMBER_WARN',
                    body: { stringValue: 'from json' },
                    traceId: '0102030405060708090a0b0c0d0e0f10',
                    attributes: [{ key: 'n', value: { intValue: '-9007199254740993' } }],
                  },
                ],
              },
            ],
          },
        ],
      }).replace('"TIME"', '1700000000123456789'); // a bare JSON number beyond 2^53
      const res = await postLogs(url, json, 'application/json; charset=utf-8');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(JSON_TYPE);
      expect(JSON.parse(res.body.toString())).toEqual({});
      await eventually(() => expect(transport.records()).toHaveLength(1));
      const [r] = transport.records();
      expect(r!.timeUnixNano.toString()).toBe('1700000000123456789');
      expect(r!.severityNumber).toBe(13);
      expect(Buffer.from(r!.traceId).toString('hex')).toBe('0102030405060708090a0b0c0d0e0f10');
      expect(getAttribute(r!.attributes, 'n')?.intValue?.toString()).toBe('-9007199254740993');
      expect(getAttribute(transport.batches[0]!.resourceLogs[0]!.resource!.attributes, 'service.name')?.stringValue).toBe('json-svc');
    });

    test.each([
      ['protobuf', PROTOBUF],
      ['json', JSON_TYPE],
    ])('gzip-compressed %s bodies', async (_name, type) => {
      await start();
      const body = type === PROTOBUF ? protobufBody('zipped') : jsonBody('zipped');
      const res = await postLogs(url, zlib.gzipSync(body), type, { 'content-encoding': 'gzip' });
      expect(res.status).toBe(200);
      await eventually(() => expect(bodies(transport.records())).toEqual(['zipped']));
    });

    test('an empty request is fine (no records)', async () => {
      await start();
      expect((await postLogs(url, new Uint8Array(0), PROTOBUF)).status).toBe(200);
      const res = await postLogs(url, '{}', JSON_TYPE);
      expect([res.status, res.body.toString()]).toEqual([200, '{}']);
    });

    test.each([
      ['protobuf', PROTOBUF],
      ['json', JSON_TYPE],
    ])('partial_success in %s when a record is over a limit', async (_name, type) => {
      const p = await start({ maxBodyBytes: 100 });
      const texts = ['ok-1', 'y'.repeat(101), 'ok-2'];
      const res = await postLogs(url, type === PROTOBUF ? protobufBody(...texts) : jsonBody(...texts), type);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      const ps = (type === PROTOBUF ? decodeExportResponse(res.body) : decodeExportResponseJson(res.body)).partialSuccess!;
      expect(Long.fromValue(ps.rejectedLogRecords).toNumber()).toBe(1);
      expect(ps.errorMessage).toMatch(/log_records\[1\]\.body is 101 bytes.*OLP_LIMITS_MAX_BODY_BYTES/);
      if (type === JSON_TYPE) expect(JSON.parse(res.body.toString()).partialSuccess.rejectedLogRecords).toBe('1');
      await eventually(() => expect(bodies(transport.records())).toEqual(['ok-1', 'ok-2']));
      expect(await p.metrics.total(p.metrics.receiverRefused, { transport: 'http' })).toBe(1);
    });

    test('awaits an asynchronous consumer and forwards selected headers as metadata', async () => {
      const seen: (Readonly<Record<string, string>> | undefined)[] = [];
      const consumer: LogsConsumer = {
        consume: async (_bytes, _t, metadata) => {
          seen.push(metadata);
          await new Promise((r) => setImmediate(r));
          return { rejected: 1, message: 'later' };
        },
        consumeData: async (_data, _t, metadata) => {
          seen.push(metadata);
          return { rejected: 0, message: '' };
        },
      };
      await startWith(consumer, { forwardMetadata: ['x-tenant'] });
      const res = await postLogs(url, protobufBody('a'), PROTOBUF, { 'x-tenant': 'acme', 'x-other': 'no' });
      expect(Long.fromValue(decodeExportResponse(res.body).partialSuccess!.rejectedLogRecords).toNumber()).toBe(1);
      expect((await postLogs(url, jsonBody('a'), JSON_TYPE)).status).toBe(200);
      expect(seen).toEqual([{ 'x-tenant': 'acme' }, undefined]);
    });
  });

  describe('refused requests', () => {
    test('415 for an unsupported content type (JSON Status, Accept listing ours) and for an unsupported encoding', async () => {
      const p = await start();
      const res = await postLogs(url, 'hello', 'text/plain');
      expectStatus(res, 415, 'json', 3, /unsupported content type "text\/plain"; use application\/x-protobuf or application\/json/);
      expect(res.headers.accept).toBe('application/x-protobuf, application/json');
      const noType = await httpRequest(url, 'x');
      expectStatus(noType, 415, 'json', 3, /unsupported content type ""/);

      const br = await postLogs(url, protobufBody('a'), PROTOBUF, { 'content-encoding': 'br' });
      expectStatus(br, 415, 'protobuf', 12, /unsupported content encoding "br"/);
      expect(br.headers['accept-encoding']).toBe('gzip, identity');
      expect(await p.metrics.total(p.metrics.receiverRequestsFailed, { transport: 'http', code: '415' })).toBe(3);
    });

    test('405 with Allow for other methods on /v1/logs; 404 elsewhere', async () => {
      const p = await start();
      const get = await httpRequest(url, undefined, { method: 'GET' });
      expectStatus(get, 405, 'json', 12, /method GET not allowed; use POST/);
      expect(get.headers.allow).toBe('POST');
      const put = await httpRequest(url, protobufBody('a'), { method: 'PUT', headers: { 'content-type': PROTOBUF } });
      expectStatus(put, 405, 'protobuf', 12, /method PUT/);
      expect(put.headers.allow).toBe('POST');

      const traces = await postLogs(url.replace('/v1/logs', '/v1/traces'), protobufBody('a'), PROTOBUF);
      expectStatus(traces, 404, 'protobuf', 5, /OTLP\/HTTP is received on POST \/v1\/logs/);
      expect((await postLogs(url.replace('/v1/logs', '/'), '{}', JSON_TYPE)).status).toBe(404);
      expect((await postLogs(`${url}?x=1`, '{}', JSON_TYPE)).status).toBe(200);
      expect(await p.metrics.total(p.metrics.receiverRequestsFailed, { transport: 'http', code: '405' })).toBe(2);
    });

    test('400 with a Status in the request encoding for undecodable bodies, and the receiver keeps serving', async () => {
      const p = await start();
      const bad = await postLogs(url, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), PROTOBUF);
      expectStatus(bad, 400, 'protobuf', 3, /cannot decode ExportLogsServiceRequest/);

      const badJson = await postLogs(url, JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ traceId: 'xyz' }] }] }] }), JSON_TYPE);
      expectStatus(badJson, 400, 'json', 3, /cannot decode ExportLogsServiceRequest \(JSON\): resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.traceId: expected 32 hex characters/);
      expectStatus(await postLogs(url, '{"resourceLogs":', JSON_TYPE), 400, 'json', 3, /invalid JSON/);

      const notGzip = await postLogs(url, protobufBody('a'), PROTOBUF, { 'content-encoding': 'gzip' });
      expectStatus(notGzip, 400, 'protobuf', 3, /cannot decompress gzip request body/);

      expect((await postLogs(url, protobufBody('after'), PROTOBUF)).status).toBe(200);
      expect(await p.metrics.total(p.metrics.receiverRequestsFailed, { transport: 'http', code: '400' })).toBe(4);
    });

    test('413 for a body over the limit: declared, streamed without a length, or only after gzip inflation', async () => {
      const p = await start();
      const big = protobufBody('x'.repeat(MAX + 100));
      expectStatus(await postLogs(url, big, PROTOBUF), 413, 'protobuf', 8, /request body larger than 65536 bytes/);

      const chunks = Array.from({ length: 10 }, () => Buffer.alloc(10 * 1024, 0x20));
      const streamed = await httpRequest(url, undefined, { chunks, headers: { 'content-type': JSON_TYPE } });
      expectStatus(streamed, 413, 'json', 8, /larger than 65536 bytes/);

      const zipped = zlib.gzipSync(big);
      expect(zipped.length).toBeLessThan(MAX / 10);
      const bomb = await postLogs(url, zipped, PROTOBUF, { 'content-encoding': 'gzip' });
      expectStatus(bomb, 413, 'protobuf', 8, /larger than 65536 bytes/);

      expect((await postLogs(url, protobufBody('small'), PROTOBUF)).status).toBe(200);
      expect(await p.metrics.total(p.metrics.receiverRequestsFailed, { transport: 'http', code: '413' })).toBe(3);
    });

    test.each([
      ['protobuf', PROTOBUF],
      ['json', JSON_TYPE],
    ])('429 with Retry-After when the exporter queue is full (%s)', async (_name, type) => {
      const p = await start({ maxQueuedRecords: 4, batchMaxRecords: 2 });
      transport.hold(); // downstream stuck: the first batch stays in flight, the second waits in the queue; both count
      const body = (...t: string[]): Uint8Array | string => (type === PROTOBUF ? protobufBody(...t) : jsonBody(...t));
      expect((await postLogs(url, body('1', '2'), type)).status).toBe(200);
      expect((await postLogs(url, body('3', '4'), type)).status).toBe(200);
      const full = await postLogs(url, body('5'), type);
      expectStatus(full, 429, type === PROTOBUF ? 'protobuf' : 'json', 8, /queue is full/);
      expect(full.headers['retry-after']).toBe('1');
      expect(await p.metrics.total(p.metrics.receiverRefused, { transport: 'http', reason: 'queue_full' })).toBe(1);
      expect(await p.metrics.total(p.metrics.receiverRequestsFailed, { transport: 'http', code: '429' })).toBe(1);
      transport.release();
      await eventually(() => expect(transport.records()).toHaveLength(4));
    });

    test('Retry-After is whole seconds, rounded up; an unexpected error is a 500', async () => {
      let failure: Error = new PipelineError('overloaded', 'memory limit', 1500);
      const consumer: LogsConsumer = {
        consume: (): ConsumeResult => {
          throw failure;
        },
        consumeData: (): ConsumeResult => {
          throw failure;
        },
      };
      const metrics = await startWith(consumer);
      const throttled = await postLogs(url, protobufBody('a'), PROTOBUF);
      expectStatus(throttled, 429, 'protobuf', 8, /memory limit/);
      expect(throttled.headers['retry-after']).toBe('2');
      failure = new Error('bug');
      expectStatus(await postLogs(url, jsonBody('a'), JSON_TYPE), 500, 'json', 13, /bug/);
      expect(await metrics.total(metrics.receiverRequestsFailed, { transport: 'http', code: '500' })).toBe(1);
    });

    test('401 with WWW-Authenticate without an accepted bearer token', async () => {
      await start({}, { auth: { verify: (h) => h === 'Bearer s3cret' } });
      const res = await postLogs(url, protobufBody('a'), PROTOBUF);
      expectStatus(res, 401, 'protobuf', 16, /missing or invalid bearer token/);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect((await postLogs(url, protobufBody('a'), PROTOBUF, { authorization: 'Bearer s3cret' })).status).toBe(200);
    });
  });

  describe('start and stop', () => {
    test('answers 503 with Retry-After while draining, finishes in-flight requests, then stops listening', async () => {
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      let calls = 0;
      const consumer: LogsConsumer = {
        consume: async () => {
          calls++;
          await gate;
          return { rejected: 0, message: '' };
        },
        consumeData: async () => ({ rejected: 0, message: '' }),
      };
      const metrics = await startWith(consumer);
      const inFlight = postLogs(url, protobufBody('early'), PROTOBUF);
      await eventually(() => expect(calls).toBe(1));
      const stopping = receiver!.stop(Date.now() + 5000);

      const late = await postLogs(url, protobufBody('late'), PROTOBUF);
      expectStatus(late, 503, 'protobuf', 14, /shutting down/);
      expect(late.headers['retry-after']).toBe('1');
      expect(late.headers.connection).toBe('close');
      expect(calls).toBe(1);

      open();
      expect((await inFlight).status).toBe(200);
      await stopping;
      await expect(postLogs(url, protobufBody('after'), PROTOBUF)).rejects.toThrow(/ECONNREFUSED/);
      expect(await metrics.total(metrics.receiverRequestsFailed, { transport: 'http', code: '503' })).toBe(1);
      receiver = undefined;
    });

    test('stop gives up on in-flight requests at the deadline and closes their connections', async () => {
      let entered!: () => void;
      const inConsumer = new Promise<void>((r) => (entered = r));
      const consumer: LogsConsumer = {
        consume: () => (entered(), new Promise<ConsumeResult>(() => undefined)),
        consumeData: () => (entered(), new Promise<ConsumeResult>(() => undefined)),
      };
      await startWith(consumer);
      const stuck = postLogs(url, protobufBody('stuck'), PROTOBUF);
      await inConsumer;
      const t0 = Date.now();
      await receiver!.stop(Date.now() + 200);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
      expect(Date.now() - t0).toBeLessThan(2000);
      await expect(stuck).rejects.toThrow(/socket hang up|ECONNRESET/);
      receiver = undefined;
    });

    test('idle keep-alive connections do not hold up stop', async () => {
      await start();
      const agent = new http.Agent({ keepAlive: true });
      expect((await httpRequest(url, protobufBody('a'), { agent, headers: { 'content-type': PROTOBUF } })).status).toBe(200);
      const t0 = Date.now();
      await receiver!.stop(Date.now() + 5000);
      expect(Date.now() - t0).toBeLessThan(1000);
      agent.destroy();
      receiver = undefined;
    });

    test('start reports the port it bound, and fails clearly on a bad or busy endpoint', async () => {
      await start();
      const port = receiver!.boundPort;
      expect(port).toBeGreaterThan(0);
      const logger = pino({ level: 'silent' });
      const busy = new HttpReceiver(httpReceiverOptions(new Metrics(), { endpoint: `127.0.0.1:${port}`, maxRecvBytes: MAX }), tp!.pipeline, new Metrics(), logger);
      await expect(busy.start()).rejects.toThrow(`cannot listen on 127.0.0.1:${port} (OLP_HTTP_ENDPOINT)`);
      const bad = new HttpReceiver(httpReceiverOptions(new Metrics(), { endpoint: 'nonsense', maxRecvBytes: MAX }), tp!.pipeline, new Metrics(), logger);
      await expect(bad.start()).rejects.toThrow('OLP_HTTP_ENDPOINT: expected host:port, got "nonsense"');
    });
  });
});
