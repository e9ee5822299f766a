/**
 * From received bytes to exporter queues: decode → per-record limits → processing chain →
 * split to batch size → encode once → offer to every exporter. Synchronous, so a request's
 * records are either all enqueued or refused as a whole (apart from per-record rejections).
 */
import type { Logger } from 'pino';
import { PipelineError } from '../errors';
import { decodeLogsData, encodeLogsData } from '../otlp/codec';
import { countRecords, type LogsData } from '../otlp/model';
import type { Metrics } from '../telemetry/metrics';
import type { QueuedExporter } from '../exporters/queued-exporter';
import type { ProcessingChain } from './chain';
import { rejectInvalidRecords, type RecordLimits } from './limits';
import { splitBatch } from './split';

export interface ConsumeResult {
  /** Records rejected individually (reported to the sender in partial_success). */
  readonly rejected: number;
  readonly message: string;
}

export interface PipelineSettings {
  readonly limits: RecordLimits;
  /** Records per request; more is refused whole. */
  readonly maxRecordsPerRequest: number;
  readonly batchMaxRecords: number;
  /** RetryInfo delay suggested to senders when a queue is full. */
  readonly queueFullRetryAfterMs: number;
}

export class Pipeline {
  constructor(
    private readonly chain: ProcessingChain,
    private readonly exporters: readonly QueuedExporter[],
    private readonly settings: PipelineSettings,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  /** A binary ExportLogsServiceRequest. Throws PipelineError when the request as a whole is refused. */
  consume(bytes: Uint8Array, transport: string, metadata?: Readonly<Record<string, string>>): ConsumeResult {
    let data: LogsData;
    try {
      data = decodeLogsData(bytes);
    } catch (e) {
      this.logger.warn({ transport, err: (e as Error).message, bytes: bytes.length }, 'undecodable export request refused');
      throw new PipelineError('invalid_input', `cannot decode ExportLogsServiceRequest: ${(e as Error).message}`);
    }
    return this.consumeData(data, transport, bytes, metadata);
  }

  /**
   * An already decoded request (e.g. from OTLP/JSON). `bytes`, when given, is its binary
   * encoding, forwarded as is when nothing changes the records. `metadata` is the incoming
   * metadata selected for forwarding.
   */
  consumeData(data: LogsData, transport: string, bytes?: Uint8Array, metadata?: Readonly<Record<string, string>>): ConsumeResult {
    const receivedAt = Date.now();
    const received = countRecords(data);
    if (received === 0) return { rejected: 0, message: '' };
    if (received > this.settings.maxRecordsPerRequest) {
      this.metrics.receiverRefused.inc({ transport, reason: 'too_many_records' }, received);
      throw new PipelineError('too_large', `request has ${received} log records, over the limit of ${this.settings.maxRecordsPerRequest} (OLP_LIMITS_MAX_RECORDS); split it`);
    }

    for (const exp of this.exporters) {
      if (!exp.hasRoomFor(received)) {
        this.metrics.receiverRefused.inc({ transport, reason: 'queue_full' }, received);
        throw new PipelineError(
          'overloaded',
          `exporter "${exp.name}" queue is full (${exp.size} records); retry later`,
          this.settings.queueFullRetryAfterMs,
        );
      }
    }

    const rejection = rejectInvalidRecords(data, this.settings.limits);
    if (rejection.rejected > 0) {
      for (const [reason, n] of Object.entries(rejection.reasons)) this.metrics.receiverRefused.inc({ transport, reason }, n);
      this.logger.warn({ transport, rejected: rejection.rejected }, rejection.message);
    }
    const accepted = received - rejection.rejected;
    this.metrics.receiverAccepted.inc({ transport }, accepted);

    if (bytes && this.chain.length === 0 && rejection.rejected === 0 && received <= this.settings.batchMaxRecords) {
      // Nothing changed the request: forward the bytes as received (no re-encode; unknown fields kept).
      const encoded = { bytes, records: received, receivedAt: [receivedAt], metadata };
      for (const exp of this.exporters) exp.offer(encoded);
      return rejection;
    }
    const processed = this.chain.length > 0 ? this.chain.run(data, accepted) : data;
    const out = this.chain.length > 0 ? countRecords(processed) : accepted;
    if (out > 0) {
      for (const piece of splitBatch(processed, out, this.settings.batchMaxRecords)) {
        const n = piece === processed ? out : countRecords(piece);
        const encoded = { bytes: encodeLogsData(piece), records: n, receivedAt: [receivedAt], metadata };
        for (const exp of this.exporters) exp.offer(encoded);
      }
    }
    return rejection;
  }
}
