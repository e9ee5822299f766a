/**
 * OLP_WORKERS: the chain in worker threads behind one receiver port. Records cross the threads
 * as protobuf bytes and must arrive exactly as with the event-loop path; refusals, metrics and a
 * worker that dies behave as without threads, and single-instance processors keep one thread.
 */
import { availableCores } from '../../src/pipeline/worker-pool';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { encodeLogsDataJson } from '../../src/otlp/json';
import { registryTotal } from '../../src/telemetry/metrics';
import { attrs, bodies, record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { exportLogs, exportRaw } from '../helpers/grpc-client';
import { httpRequest, postLogs } from '../helpers/http-client';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { startTestService, type TestService } from '../helpers/service';
import { useSharedService } from '../helpers/service-fixture';

const merged = async (s: TestService, name: string, labels: Record<string, string> = {}): Promise<number> => registryTotal(await s.collectMetrics(), name, labels);

async function scrape(s: TestService): Promise<string> {
  const res = await httpRequest(`http://127.0.0.1:${s.metricsPort}/metrics`, undefined, { method: 'GET' });
  expect(res.status).toBe(200);
  return res.body.toString();
}

describe.each([
  ['passthrough', ''],
  ['the default chain', 'severity,resource'],
])('through 2 worker threads with %s', (_name, processors) => {
  const f = useSharedService({ OLP_PROCESSORS: processors, OLP_BATCH_MAX_DELAY: '1ms', OLP_WORKERS: '2' });

  // Records crossing the threads bit for bit: test/e2e/lossless.test.ts.
  test('runs 2 worker threads', () => {
    expect(f.service.workers).toBe(2);
  });

  test('requests sent at once are all delivered, each record once', async () => {
    f.sink.requests.length = 0;
    const sends = Array.from({ length: 40 }, (_, i) => exportLogs(f.service.endpoint, request([record(`r${i}-a`), record(`r${i}-b`, { timeUnixNano: Long.MAX_UNSIGNED_VALUE })])));
    const answers = await Promise.all(sends);
    expect(answers.every((a) => a.code === grpc.status.OK)).toBe(true);
    await f.sink.waitForRecords(80);
    const got = bodies(f.sink.records()).sort();
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => [`r${i}-a`, `r${i}-b`]).flat().sort());
    expect(f.sink.records().filter((r) => r.timeUnixNano.toString() === '18446744073709551615')).toHaveLength(40);
  });

  test('OTLP/JSON requests go through the threads too', async () => {
    f.sink.requests.length = 0;
    const res = await postLogs(`http://127.0.0.1:${f.service.httpPort}/v1/logs`, encodeLogsDataJson(request([record('from json')])), 'application/json');
    expect(res.status).toBe(200);
    await f.sink.waitForRecords(1);
    expect(bodies(f.sink.records())).toEqual(['from json']);
  });
});

describe('refusals through a worker thread', () => {
  const f = useSharedService({
    OLP_BATCH_MAX_DELAY: '1ms',
    OLP_WORKERS: '2',
    OLP_LIMITS_MAX_BODY_BYTES: '16',
    OLP_LIMITS_MAX_RECORDS: '5',
  });

  test('a record over a limit is rejected alone, in partial_success, counted once', async () => {
    const res = await exportLogs(f.service.endpoint, request([record('short'), record('x'.repeat(100)), record('fine')]));
    expect(res.code).toBe(grpc.status.OK);
    expect(res.response?.partialSuccess?.rejectedLogRecords?.toString()).toBe('1');
    expect(res.response?.partialSuccess?.errorMessage).toMatch(/OLP_LIMITS_MAX_BODY_BYTES/);
    await f.sink.waitForRecords(2);
    expect(bodies(f.sink.records())).toEqual(['short', 'fine']);
    expect(await merged(f.service, 'olp_receiver_accepted_log_records_total', { transport: 'grpc' })).toBe(2);
    expect(await merged(f.service, 'olp_receiver_refused_log_records_total', { transport: 'grpc' })).toBe(1);
    // Counted on the event-loop thread only: the main registry holds the same totals.
    expect(await f.service.metrics.total(f.service.metrics.receiverAccepted)).toBe(2);
  });

  test('a request over OLP_LIMITS_MAX_RECORDS is refused whole with RESOURCE_EXHAUSTED', async () => {
    const res = await exportLogs(f.service.endpoint, request(Array.from({ length: 6 }, (_, i) => record(`n${i}`))));
    expect(res.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(res.details).toMatch(/OLP_LIMITS_MAX_RECORDS/);
    expect(await merged(f.service, 'olp_receiver_refused_log_records_total', { reason: 'too_many_records' })).toBe(6);
  });

  test('undecodable bytes are answered INVALID_ARGUMENT', async () => {
    const res = await exportRaw(f.service.endpoint, Uint8Array.from([0x0a, 0xff, 0xff, 0x01, 0x02]));
    expect(res.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(res.details).toMatch(/cannot decode/);
  });

  test('an empty request is answered OK without records', async () => {
    const res = await exportLogs(f.service.endpoint, { resourceLogs: [] });
    expect(res.code).toBe(grpc.status.OK);
  });
});

describe('route to 2 exporters through worker threads', () => {
  let sink: OtlpTestServer;
  let errors: OtlpTestServer;
  let service: TestService;

  beforeAll(async () => {
    sink = await new OtlpTestServer().start();
    errors = await new OtlpTestServer().start();
    service = await startTestService({
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
      OLP_EXPORTERS: 'otlp,errors',
      OLP_EXPORTER_ERRORS_ENDPOINT: errors.endpoint,
      OLP_PROCESSORS: 'severity,route',
      OLP_ROUTE_RULES: 'errors=severity_number >= 17',
      OLP_ROUTE_DEFAULT: 'otlp',
      OLP_BATCH_MAX_DELAY: '1ms',
      OLP_WORKERS: '2',
    });
  });
  afterAll(async () => {
    await service?.shutdown();
    await sink.stop();
    await errors.stop();
  });

  test('each exporter gets its records exactly', async () => {
    const sev = (body: string, n: number) => record(body, { severityNumber: n, attributes: attrs({ k: body }), observedTimeUnixNano: Long.fromString('1700000000000000001', true) });
    const res = await exportLogs(service.endpoint, request([sev('ok 1', 9), sev('bad 1', 17), sev('ok 2', 9), sev('bad 2', 21)]));
    expect(res.code).toBe(grpc.status.OK);
    await sink.waitForRecords(2);
    await errors.waitForRecords(2);
    expect(bodies(sink.records())).toEqual(['ok 1', 'ok 2']);
    expect(bodies(errors.records())).toEqual(['bad 1', 'bad 2']);
    for (const r of [...sink.records(), ...errors.records()]) {
      expect(r.attributes).toEqual(attrs({ k: r.body!.stringValue! }));
      expect(r.timeUnixNano.toString()).toBe('1700000000123456789');
      expect(r.observedTimeUnixNano.toString()).toBe('1700000000000000001');
    }
  });

  test('/metrics shows the processor series counted in the worker threads, merged', async () => {
    await eventually(async () => expect(await merged(service, 'olp_processor_events_total', { processor: 'route', event: 'matched:errors' })).toBe(2));
    const text = await scrape(service);
    expect(text).toMatch(/^olp_processor_incoming_log_records_total\{processor="route"\} 4$/m);
    expect(text).toMatch(/^olp_workers 2$/m);
    expect(text).toMatch(/^olp_worker_restarts_total 0$/m);
    expect(text).toMatch(/^olp_receiver_accepted_log_records_total\{transport="grpc"\} 4$/m);
    // The event-loop thread ran none of the chain itself.
    expect(await service.metrics.total(service.metrics.processorIncoming)).toBe(0);
  });
});

describe('a worker thread that dies', () => {
  const f = useSharedService({
    OLP_PROCESSORS: './test/fixtures/processors/exit-on-marker.js',
    OLP_BATCH_MAX_DELAY: '1ms',
    OLP_WORKERS: '2',
  });

  test('answers its request UNAVAILABLE, is replaced, and later requests succeed', async () => {
    const dying = await exportLogs(f.service.endpoint, request([record('exit-now')]));
    expect(dying.code).toBe(grpc.status.UNAVAILABLE);
    expect(dying.details).toMatch(/worker thread \d exited/);
    expect(await f.service.metrics.total(f.service.metrics.receiverRefused, { reason: 'worker_unavailable' })).toBe(1);
    await eventually(async () => expect(await merged(f.service, 'olp_worker_restarts_total')).toBe(1));
    for (let i = 0; i < 6; i++) expect((await exportLogs(f.service.endpoint, request([record(`after ${i}`)]))).code).toBe(grpc.status.OK);
    await f.sink.waitForRecords(6);
    expect(bodies(f.sink.records())).toEqual(Array.from({ length: 6 }, (_, i) => `after ${i}`));
    // Both threads serve again once the replacement is up.
    await eventually(async () => {
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => exportLogs(f.service.endpoint, request([record(`again ${i}`)]))));
      expect(answers.map((a) => a.code)).toEqual(Array(8).fill(grpc.status.OK));
    }, 10_000);
    expect(await merged(f.service, 'olp_worker_restarts_total')).toBe(1);
  });
});

describe('OLP_WORKERS and single-instance processors', () => {
  const sinkEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' };

  test('an explicit thread count with dedup is a start-up error naming OLP_WORKERS and dedup', async () => {
    await expect(startTestService({ ...sinkEnv, OLP_PROCESSORS: 'severity,dedup', OLP_WORKERS: '2' })).rejects.toThrow(/OLP_WORKERS: 2 worker threads .*processor dedup/);
  });

  test('an explicit thread count with rate_limit is refused too', async () => {
    await expect(startTestService({ ...sinkEnv, OLP_PROCESSORS: 'rate_limit', OLP_RATE_LIMIT_RATE: '10', OLP_WORKERS: '1' })).rejects.toThrow(/OLP_WORKERS.*rate_limit/);
  });

  test('auto with dedup runs on the event-loop thread', async () => {
    const s = await startTestService({ ...sinkEnv, OLP_PROCESSORS: 'severity,dedup', OLP_WORKERS: 'auto' });
    try {
      expect(s.workers).toBe(0);
    } finally {
      await s.shutdown();
    }
  });

  test('auto with a stateless chain runs one thread per core (none on one core)', async () => {
    const s = await startTestService({ ...sinkEnv, OLP_PROCESSORS: 'severity', OLP_WORKERS: 'auto' });
    try {
      const cores = availableCores();
      expect(s.workers).toBe(cores > 1 ? cores : 0);
    } finally {
      await s.shutdown();
    }
  });

  test.each([['-1'], ['two'], ['1.5'], ['999']])('OLP_WORKERS=%s is refused', async (value) => {
    await expect(startTestService({ ...sinkEnv, OLP_WORKERS: value })).rejects.toThrow(/OLP_WORKERS/);
  });
});
