/** Exporter settings with short delays, and encoded batches, for exporter tests. */
import type { ExporterSettings } from '../../src/exporters/queued-exporter';
import type { EncodedBatch } from '../../src/otlp/encoded-batch';
import { encodeLogsData } from '../../src/otlp/codec';
import { record, request } from './builders';

export const fastExporterSettings: ExporterSettings = {
  maxQueuedRecords: 1000,
  consumers: 2,
  batchMaxRecords: 100,
  batchMaxDelayMs: 5,
  timeoutMs: 2000,
  retry: { enabled: true, initialIntervalMs: 10, maxIntervalMs: 50, maxElapsedMs: 2000 },
};

export function batchOf(...bodies: string[]): EncodedBatch {
  return { bytes: encodeLogsData(request(bodies.map((b) => record(b)))), records: bodies.length };
}
