/**
 * From received bytes to exporter queues: decode → memory limiter → per-record limits →
 * processing chain → split to batch size → encode once → offer to every exporter. The result
 * resolves once every exporter holds the records: queued in memory, or written to the
 * persistent queue — only then may the receiver acknowledge. Queue room is checked up front,
 * so a request is normally enqueued or refused as a whole; a persistent-queue write failure
 * after part of it was written refuses the request and the sender's retry duplicates that part.
 */
import type { Logger } from 'pino';
import { PipelineError, type FailureKind } from '../errors';
import { decodeLogsData, encodeLogsData } from '../otlp/codec';
import { countRecords, type LogsData } from '../otlp/model';
import type { Metrics } from '../telemetry/metrics';
import type { QueuedExporter } from '../exporters/queued-exporter';
import type { EncodedBatch } from '../exporters/transport';
import type { ProcessingChain } from './chain';
import { rejectInvalidRecords, type RecordLimits } from './limits';
import { splitBatch } from './split';
import type { MemoryLimiter } from './memory-limiter';

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
  /** Kind answered when a queue is full: 'overloaded' (RESOURCE_EXHAUSTED, default) or 'unavailable'. */
  readonly queueFullKind?: FailureKind;
  /** Refuses requests while memory usage is above its soft limit. */
  readonly memoryLimiter?: MemoryLimiter;
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
  async consume(bytes: Uint8Array, transport: string, metadata?: Readonly<Record<string, string>>): Promise<ConsumeResult> {
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
  async consumeData(data: LogsData, transport: string, bytes?: Uint8Array, metadata?: Readonly<Record<string, string>>): Promise<ConsumeResult> {
    const receivedAt = Date.now();
    const received = countRecords(data);
    if (received === 0) return { rejected: 0, message: '' };
    this.admit(transport, received);
    if (received > this.settings.maxRecordsPerRequest) {
      this.metrics.receiverRefused.inc({ transport, reason: 'too_many_records' }, received);
      throw new PipelineError('too_large', `request has ${received} log records, over the limit of ${this.settings.maxRecordsPerRequest} (OLP_LIMITS_MAX_RECORDS); split it`);
    }

    for (const exp of this.exporters) {
      if (!exp.hasRoomFor(received, bytes?.length ?? 0)) {
        this.metrics.receiverRefused.inc({ transport, reason: 'queue_full' }, received);
        throw new PipelineError(
          this.settings.queueFullKind ?? 'overloaded',
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
      await this.offerAll(encoded, transport);
      return rejection;
    }
    const processed = this.chain.length > 0 ? this.chain.run(data, accepted) : data;
    const out = this.chain.length > 0 ? countRecords(processed) : accepted;
    if (out > 0) {
      const offers: Promise<void>[] = [];
      for (const piece of splitBatch(processed, out, this.settings.batchMaxRecords)) {
        const n = piece === processed ? out : countRecords(piece);
        const encoded = { bytes: encodeLogsData(piece), records: n, receivedAt: [receivedAt], metadata };
        offers.push(this.offerAll(encoded, transport));
      }
      await Promise.all(offers);
    }
    return rejection;
  }

  /** Memory limiter gate: refuses the whole request with a retryable status above the soft limit. */
  private admit(transport: string, records: number): void {
    const refusal = this.settings.memoryLimiter?.refusal();
    if (!refusal) return;
    this.metrics.receiverRefused.inc({ transport, reason: 'memory_limit' }, records);
    throw refusal;
  }

  /** Offers to every exporter; resolves when all hold it (in memory or in their persistent queue). */
  private async offerAll(encoded: EncodedBatch, transport: string): Promise<void> {
    const results = await Promise.allSettled(this.exporters.map((exp) => exp.offer(encoded)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) return;
    this.metrics.receiverRefused.inc({ transport, reason: 'queue_write_failed' }, encoded.records);
    throw failed.reason instanceof PipelineError ? failed.reason : new PipelineError('internal', (failed.reason as Error).message);
  }
}
