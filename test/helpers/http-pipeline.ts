/** A real Pipeline feeding one QueuedExporter, for driving the OTLP/HTTP receiver in tests. */
import pino from 'pino';
import { decodeLogsData } from '../../src/otlp/codec';
import type { LogRecord, LogsData } from '../../src/otlp/model';
import { ProcessingChain, type ChainStage } from '../../src/pipeline/chain';
import { Pipeline } from '../../src/pipeline/pipeline';
import { RequestProcessor } from '../../src/pipeline/request-processor';
import { QueuedExporter } from '../../src/exporters/queued-exporter';
import type { SendResult, Transport } from '../../src/exporters/transport';
import type { EncodedBatch } from '../../src/otlp/encoded-batch';
import { Metrics } from '../../src/telemetry/metrics';
import type { HttpReceiverOptions } from '../../src/receiver/http-receiver';
import { ReceiveBudget } from '../../src/receiver/receive-budget';

/** Records what it is sent; `hold()` makes sends wait until `release()`. */
export class MemoryTransport implements Transport {
  readonly batches: LogsData[] = [];
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  async send(batch: EncodedBatch): Promise<SendResult> {
    if (this.gate) await this.gate;
    this.batches.push(decodeLogsData(batch.bytes));
    return { rejected: 0, message: '' };
  }

  records(): LogRecord[] {
    return this.batches.flatMap((b) => b.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
  }

  async close(): Promise<void> {
    this.release();
  }
}

export interface TestPipelineSettings {
  stages?: ChainStage[];
  maxQueuedRecords?: number;
  batchMaxRecords?: number;
  batchMaxDelayMs?: number;
  maxBodyBytes?: number;
}

export interface TestPipeline {
  readonly pipeline: Pipeline;
  readonly exporter: QueuedExporter;
  readonly metrics: Metrics;
  readonly logger: pino.Logger;
  shutdown(): Promise<void>;
}

export function testPipeline(transport: Transport, settings: TestPipelineSettings = {}): TestPipeline {
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const metrics = new Metrics();
  const batchMaxRecords = settings.batchMaxRecords ?? 100;
  const exporter = new QueuedExporter(
    'otlp',
    transport,
    {
      maxQueuedRecords: settings.maxQueuedRecords ?? 1000,
      consumers: 1,
      batchMaxRecords,
      batchMaxDelayMs: settings.batchMaxDelayMs ?? 10,
      timeoutMs: 5000,
      retry: { enabled: true, initialIntervalMs: 50, maxIntervalMs: 100, maxElapsedMs: 5000 },
    },
    { logger, metrics },
  );
  exporter.start();
  const requests = new RequestProcessor(
    new ProcessingChain(settings.stages ?? [], metrics, logger),
    {
      limits: {
        maxBodyBytes: settings.maxBodyBytes ?? 1024 * 1024,
        maxAttributes: 128,
        maxAttributeKeyBytes: 1024,
        maxAttributeValueBytes: 1024 * 1024,
        maxDepth: 16,
        maxCollectionLength: 1000,
      },
      maxRecordsPerRequest: 100_000,
      batchMaxRecords,
      exporterCount: 1,
    },
    logger,
  );
  const pipeline = new Pipeline(requests, [exporter], { queueFullRetryAfterMs: 1000 }, metrics, logger);
  return { pipeline, exporter, metrics, logger, shutdown: () => exporter.shutdown(Date.now() + 2000) };
}

/** HttpReceiver options with the service's defaults for the limits a test does not set. */
export function httpReceiverOptions(metrics: Metrics, options: Pick<HttpReceiverOptions, 'endpoint' | 'maxRecvBytes'> & Partial<HttpReceiverOptions>): HttpReceiverOptions {
  return {
    maxConnections: 1000,
    headersTimeoutMs: 10_000,
    readTimeoutMs: 30_000,
    idleTimeoutMs: 60_000,
    budget: new ReceiveBudget(256 * 1024 * 1024, metrics),
    json: { maxRecords: 100_000, maxValues: 2_000_000, maxValueDepth: 32 },
    ...options,
  };
}
