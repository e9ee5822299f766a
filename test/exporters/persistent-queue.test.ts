import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import { QueuedExporter, type ExporterSettings } from '../../src/exporters/queued-exporter';
import { OtlpGrpcTransport } from '../../src/exporters/otlp-grpc';
import { WriteAheadLog } from '../../src/queue/wal';
import { Metrics } from '../../src/telemetry/metrics';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { bodies } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { batchOf, fastExporterSettings } from '../helpers/exporters';

const silent = pino({ level: 'silent' });
const fast: ExporterSettings = { ...fastExporterSettings, retry: { ...fastExporterSettings.retry, maxElapsedMs: 0 } };

describe('exporter with a persistent queue', () => {
  let dir: string;
  let sink: OtlpTestServer;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-pq-'));
    sink = await new OtlpTestServer().start();
  });
  afterEach(async () => {
    await sink.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function make(settings: Partial<ExporterSettings> = {}) {
    const metrics = new Metrics();
    const wal = await WriteAheadLog.open({ dir, fsync: 'batch', fsyncIntervalMs: 1000, retryAfterMs: 100 }, { name: 'otlp', logger: silent, metrics });
    const exporter = new QueuedExporter('otlp', new OtlpGrpcTransport({ endpoint: sink.endpoint, headers: {}, compression: 'none', insecure: true }), { ...fast, ...settings }, { logger: silent, metrics, wal, random: () => 0.5 });
    exporter.start();
    return { exporter, metrics, wal };
  }

  test('offer resolves once written; what was unsent at shutdown is sent by the next start, then the log is empty', async () => {
    sink.failures.push(...Array.from({ length: 1000 }, () => ({ code: status.UNAVAILABLE })));
    const first = await make();
    await first.exporter.offer(batchOf('a', 'b'));
    await first.exporter.offer(batchOf('c'));
    await eventually(() => expect(sink.calls).toBeGreaterThan(0));
    await first.exporter.shutdown(Date.now() + 500);
    expect(await first.metrics.total(first.metrics.dropped)).toBe(0);

    sink.failures.length = 0;
    const second = await make();
    await sink.waitForRecords(3);
    expect(bodies(sink.records()).sort()).toEqual(['a', 'b', 'c']);
    await eventually(() => expect(second.wal.liveEntries).toBe(0));
    await second.exporter.shutdown(Date.now() + 500);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.wal'))).toEqual([]);
  });

  test('a permanently refused batch is counted with its reason and marked done (not re-sent after restart)', async () => {
    sink.failures.push({ code: status.INVALID_ARGUMENT });
    const first = await make();
    await first.exporter.offer(batchOf('bad'));
    await eventually(async () => expect(await first.metrics.total(first.metrics.dropped, { reason: 'export_failed' })).toBe(1));
    await first.exporter.shutdown(Date.now() + 500);
    const second = await make();
    expect(second.wal.report.recovered).toBe(0);
    await second.exporter.shutdown(Date.now() + 500);
  });
});

describe('in-memory queue limits', () => {
  test('the byte limit refuses like the record limit; drop_oldest makes room and counts the drops', async () => {
    const metrics = new Metrics();
    const never = { send: () => new Promise<never>(() => undefined), close: async () => undefined };
    const b = batchOf('0123456789');
    const bytesLimited = new QueuedExporter('x', never, { ...fast, consumers: 1, batchMaxRecords: 1, maxQueuedBytes: b.bytes.length * 2 }, { logger: silent, metrics });
    await bytesLimited.offer(b); // taken by the consumer
    await bytesLimited.offer(b);
    await bytesLimited.offer(b);
    expect(bytesLimited.hasRoomFor(1, b.bytes.length)).toBe(false);

    const dropping = new QueuedExporter('y', never, { ...fast, consumers: 0, batchMaxRecords: 1, maxQueuedRecords: 2, fullPolicy: 'drop_oldest' }, { logger: silent, metrics });
    for (let i = 0; i < 5; i++) {
      expect(dropping.hasRoomFor(1)).toBe(true);
      await dropping.offer(batchOf(`r${i}`));
    }
    expect(dropping.size).toBe(2);
    expect(await metrics.total(metrics.dropped, { reason: 'queue_full_drop_oldest' })).toBe(3);
  });
});
