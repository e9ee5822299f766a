/** OTLP/HTTP both ways through real services: A exports over HTTP (JSON, then protobuf) to B's HTTP receiver; B exports over gRPC. */
import { status } from '@grpc/grpc-js';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { startTestService, type TestService } from '../helpers/service';
import { exportLogs } from '../helpers/grpc-client';
import { bodies, record, request } from '../helpers/builders';

describe.each(['http/json', 'http/protobuf'])('service → OTLP/HTTP (%s) → service → OTLP/gRPC', (protocol) => {
  let sink: OtlpTestServer;
  let a: TestService;
  let b: TestService;

  beforeAll(async () => {
    sink = await new OtlpTestServer().start();
    b = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OLP_PROCESSORS: '' });
    // The generic endpoint variable is a base URL: /v1/logs is appended.
    a = await startTestService({ OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${b.httpPort}`, OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' });
  });
  afterAll(async () => {
    await a.shutdown();
    await b.shutdown();
    await sink.stop();
  });

  test('records arrive processed by the first service, with 64-bit times intact', async () => {
    expect((await exportLogs(a.endpoint, request([record('ERROR over http'), record('plain')]))).code).toBe(status.OK);
    await sink.waitForRecords(2);
    const records = sink.records();
    expect(bodies(records)).toEqual(['ERROR over http', 'plain']);
    expect(records.map((r) => r.severityText)).toEqual(['ERROR', 'INFO']);
    expect(records[0]!.timeUnixNano.toString()).toBe('1700000000123456789');
    expect(await a.metrics.total(a.metrics.exporterSent, { exporter: 'otlp' })).toBe(2);
  });
});
