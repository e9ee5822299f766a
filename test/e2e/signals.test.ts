/**
 * Traces and metrics sent to the same endpoint as logs (an SDK configured with one OTLP endpoint
 * for every signal) are forwarded to the same downstream untouched, as the bytes received.
 */
import { status } from '@grpc/grpc-js';
import { otlpHttpSignalUrl } from '../../src/config/endpoints';
import { PASSTHROUGH_SIGNALS } from '../../src/otlp/signals';
import { exportLogs, exportRaw } from '../helpers/grpc-client';
import { postLogs } from '../helpers/http-client';
import { useServiceFixture } from '../helpers/service-fixture';
import { record, request } from '../helpers/builders';
import { decodeStatusJson } from '../../src/otlp/json';
import { lenField, utf8 } from '../helpers/wire';

/**
 * An ExportTraceServiceRequest (or metrics: same nesting) of one resource with `items` spans,
 * and an unknown field (99) that a decoding hop would lose.
 */
function itemsRequest(items: number, name = 'GET /cart'): Buffer {
  const resource = lenField(1, lenField(1, [...lenField(1, utf8('service.name')), ...lenField(2, lenField(1, utf8('shop')))]));
  const item = [...lenField(1, Array(16).fill(7)), ...lenField(2, Array(8).fill(9)), ...lenField(5, utf8(name))];
  const scope = lenField(2, [...lenField(1, lenField(1, utf8('lib'))), ...Array.from({ length: items }, () => lenField(2, item)).flat()]);
  return Buffer.from([...lenField(1, [...resource, ...scope]), ...lenField(99, utf8('kept'))]);
}

describe('traces and metrics pass-through', () => {
  const f = useServiceFixture();

  test.each(['traces', 'metrics'] as const)('%s over gRPC reach the downstream byte for byte, counted', async (signal) => {
    const s = await f.start();
    const bytes = itemsRequest(3);
    const answer = await exportRaw(s.endpoint, bytes, { path: PASSTHROUGH_SIGNALS[signal].grpcPath });
    expect(answer.code).toBe(status.OK);
    expect(answer.raw?.length).toBe(0);
    await f.sink.waitForForwarded(1);
    expect(f.sink.forwarded.map((r) => [r.signal, r.bytes.equals(bytes)])).toEqual([[signal, true]]);
    const forwarded = (await s.metrics.receiverForwardedItems.get()).values;
    expect(forwarded).toEqual([expect.objectContaining({ labels: { signal, transport: 'grpc' }, value: 3 })]);
    // Logs on the same port still go through the chain.
    expect((await exportLogs(s.endpoint, request([record('a log')]))).code).toBe(status.OK);
    await f.sink.waitForRecords(1);
  });

  test('over OTLP/HTTP: protobuf is forwarded, OTLP/JSON is refused 415 naming the protocol to use', async () => {
    const s = await f.start();
    const url = `http://127.0.0.1:${s.httpPort}${PASSTHROUGH_SIGNALS.metrics.httpPath}`;
    const bytes = itemsRequest(2);
    const ok = await postLogs(url, bytes, 'application/x-protobuf');
    expect(ok.status).toBe(200);
    await f.sink.waitForForwarded(1);
    expect(f.sink.forwarded[0]!.bytes.equals(bytes)).toBe(true);
    const json = await postLogs(url, '{"resourceMetrics":[]}', 'application/json');
    expect(json.status).toBe(415);
    expect(decodeStatusJson(json.body).message).toContain('http/protobuf');
  });

  test('a full queue refuses with RESOURCE_EXHAUSTED and RetryInfo, counted; malformed bytes are INVALID_ARGUMENT', async () => {
    await f.sink.stop();
    const s = await f.start({ OLP_QUEUE_MAX_RECORDS: '4', OLP_BATCH_MAX_RECORDS: '2', OLP_RETRY_INITIAL_INTERVAL: '1s', OLP_SHUTDOWN_TIMEOUT: '100ms' });
    const path = PASSTHROUGH_SIGNALS.traces.grpcPath;
    expect((await exportRaw(s.endpoint, itemsRequest(2), { path })).code).toBe(status.OK);
    expect((await exportRaw(s.endpoint, itemsRequest(2), { path })).code).toBe(status.OK);
    const full = await exportRaw(s.endpoint, itemsRequest(2), { path });
    expect(full.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(full.retryAfterMs).toBe(1000);
    const refused = (await s.metrics.receiverRefusedItems.get()).values;
    expect(refused).toEqual([expect.objectContaining({ labels: { signal: 'traces', transport: 'grpc', reason: 'queue_full' }, value: 2 })]);
    const bad = await exportRaw(s.endpoint, Buffer.from([0x0a, 0x05, 0x12]), { path });
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
  });

  test('with OLP_PASSTHROUGH_SIGNALS empty, traces are UNIMPLEMENTED and /v1/traces is 404', async () => {
    const s = await f.start({ OLP_PASSTHROUGH_SIGNALS: '' });
    expect((await exportRaw(s.endpoint, itemsRequest(1), { path: PASSTHROUGH_SIGNALS.traces.grpcPath })).code).toBe(status.UNIMPLEMENTED);
    expect((await postLogs(`http://127.0.0.1:${s.httpPort}/v1/traces`, itemsRequest(1), 'application/x-protobuf')).status).toBe(404);
  });

  test('the debug exporter prints one summary line per forwarded batch', async () => {
    const s = await f.start({ OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    expect((await exportRaw(s.endpoint, itemsRequest(2), { path: PASSTHROUGH_SIGNALS.traces.grpcPath })).code).toBe(status.OK);
    await s.shutdown();
    expect(s.stdout.text).toMatch(/traces: 2 spans, \d+ bytes \(forwarded as received\)/);
  });
});

describe('OTLP/HTTP URL of a forwarded signal', () => {
  test.each<[string, string | undefined]>([
    ['http://collector:4318/v1/logs', 'http://collector:4318/v1/traces'],
    ['https://gw.example/otlp/v1/logs', 'https://gw.example/otlp/v1/traces'],
    ['http://collector:4318/custom/logs-path', undefined],
  ])('next to %s', (logs, traces) => {
    expect(otlpHttpSignalUrl(logs, PASSTHROUGH_SIGNALS.traces.httpPath)).toBe(traces);
  });
});
