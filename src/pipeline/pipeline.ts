/**
 * From received bytes to exporter queues, one way for every request, whichever thread processes
 * it:
 *   admit    — count the records from the request's structure (malformed → INVALID_ARGUMENT),
 *              refuse over OLP_LIMITS_MAX_RECORDS (permanent, before anything retryable), then the
 *              memory limiter, then reserve queue room on every exporter for what the request
 *              brings (retryable refusals);
 *   process  — the request processor (read against every limit → chain → route → split →
 *              encode) on this thread or in a worker thread (a bounded number in flight per
 *              thread);
 *   deliver  — into the reservation: it is released and the batches offered in one synchronous
 *              step, so no other request can take the room in between;
 *   answer   — once every exporter holds its records (queued in memory, or written to the
 *              persistent queue). A persistent-queue write failure after part of a request was
 *              written refuses the request and the sender's retry duplicates that part.
 * Receiver counters are counted here, once the request's fate is known.
 */
import type { Logger } from 'pino';
import { PipelineError, type FailureKind } from '../errors';
import { countRecords, type LogsData } from '../otlp/model';
import type { RecordBatch } from '../records/batch';
import { MalformedRequest, countRequestRecords } from '../otlp/wire-reader';
import type { Metrics } from '../telemetry/metrics';
import type { QueuedExporter } from '../exporters/queued-exporter';
import type { EncodedBatch } from '../otlp/encoded-batch';
import type { MemoryLimiter } from './memory-limiter';
import { InlineRunner, tooManyRecords, type PreparedOutput, type PreparedRequest, type ReceiverTally, type RequestProcessor, type RequestRunner } from './request-processor';
import { encodeLogsData } from '../otlp/codec';

export interface ConsumeResult {
  /** Records rejected individually (reported to the sender in partial_success). */
  readonly rejected: number;
  readonly message: string;
}

export interface PipelineSettings {
  /** RetryInfo delay suggested to senders when a queue is full. */
  readonly queueFullRetryAfterMs: number;
  /** Kind answered when a queue is full: 'overloaded' (RESOURCE_EXHAUSTED, default) or 'unavailable'. */
  readonly queueFullKind?: FailureKind;
  /** Refuses requests while memory usage is above its soft limit. */
  readonly memoryLimiter?: MemoryLimiter;
  /** Worker threads for the request processor; absent: on this thread. */
  readonly pool?: RequestRunner;
}

export class Pipeline {
  private readonly runner: RequestRunner;

  constructor(
    private readonly processor: RequestProcessor,
    private readonly exporters: readonly QueuedExporter[],
    private readonly settings: PipelineSettings,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.runner = settings.pool ?? new InlineRunner(processor);
  }

  /** A binary ExportLogsServiceRequest. Throws PipelineError when the request as a whole is refused. */
  async consume(bytes: Uint8Array, transport: string, metadata?: Readonly<Record<string, string>>): Promise<ConsumeResult> {
    const receivedAt = Date.now();
    let records: number;
    try {
      records = countRequestRecords(bytes);
    } catch (e) {
      if (e instanceof MalformedRequest) throw this.processor.malformed(e, transport, bytes.length);
      throw e;
    }
    if (records === 0) {
      // Nothing to forward, but a malformed request is still answered as one (the read stops at every limit).
      this.processor.read(bytes, transport);
      return { rejected: 0, message: '' };
    }
    const max = this.processor.maxRecordsPerRequest;
    if (records > max) {
      this.metrics.receiverRefused.inc({ transport, reason: 'too_many_records' }, records);
      throw tooManyRecords(records, max);
    }
    this.admit(transport, records);
    const reservation = this.reserve(records, bytes.length, transport);
    try {
      const outcome = await this.runner.process(bytes, transport, records);
      if (!outcome.ok) {
        this.count(transport, outcome.tally, false);
        throw outcome.error;
      }
      // The reservation was the admission decision: stateful processors have seen the records, so a refusal now
      // would lose them on the sender's retry. What the chain added beyond it overshoots the bound by one request.
      reservation.release();
      try {
        await this.deliver(outcome, transport, receivedAt, metadata);
      } catch (e) {
        this.count(transport, outcome.tally, false);
        throw e;
      }
      this.count(transport, outcome.tally, true);
      return outcome.rejection;
    } finally {
      reservation.release();
    }
  }

  /** An already decoded request (OTLP/JSON): encoded, it takes the one path of binary requests. */
  consumeData(data: LogsData, transport: string, metadata?: Readonly<Record<string, string>>): Promise<ConsumeResult> {
    if (countRecords(data) === 0) return Promise.resolve({ rejected: 0, message: '' });
    return this.consume(encodeLogsData(data), transport, metadata);
  }

  /**
   * Adds a request's receiver counts (from this thread's request processor or a worker's): its
   * per-record rejections always, its accepted records only once they are delivered.
   */
  private count(transport: string, tally: ReceiverTally, delivered: boolean): void {
    if (delivered && tally.accepted > 0) this.metrics.receiverAccepted.inc({ transport }, tally.accepted);
    for (const [reason, n] of Object.entries(tally.refused)) this.metrics.receiverRefused.inc({ transport, reason }, n);
  }

  /**
   * Records a processor emitted on its own (window summaries at a flush). Nobody waits for
   * them, so an exporter without room drops them, counted.
   */
  async emit(batch: RecordBatch, source: string): Promise<void> {
    if (batch.size === 0) return;
    const receivedAt = Date.now();
    const outputs = this.processor.encode(batch);
    await Promise.all(
      outputs.flatMap((o) =>
        o.batches.flatMap((b) =>
          o.exporters.map(async (i) => {
            const exp = this.exporters[i]!;
            const lost = (reason: string): void => {
              this.metrics.dropped.inc({ component: `exporter/${exp.name}`, reason }, b.records);
            };
            if (!exp.hasRoomFor(b.records, b.bytes.length)) return lost('queue_full');
            try {
              await exp.offer({ bytes: b.bytes, records: b.records, receivedAt: [receivedAt] });
            } catch (e) {
              this.logger.warn({ err: (e as Error).message, exporter: exp.name, source }, 'emitted records could not be queued');
              lost('queue_write_failed');
            }
          }),
        ),
      ),
    );
  }

  /** Memory limiter gate: refuses the whole request with a retryable status above the soft limit. */
  private admit(transport: string, records: number): void {
    const refusal = this.settings.memoryLimiter?.refusal();
    if (!refusal) return;
    this.metrics.receiverRefused.inc({ transport, reason: 'memory_limit' }, records);
    throw refusal;
  }

  /** Holds queue room on every exporter for the request (refusing it when one has none) until it is delivered or refused. */
  private reserve(records: number, bytes: number, transport: string): { release(): void } {
    const held: { release(): void }[] = [];
    for (const exp of this.exporters) {
      const r = exp.reserve(records, bytes);
      if (!r) {
        for (const h of held) h.release();
        this.refuseFull(exp, records, transport);
      }
      held.push(r);
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        for (const h of held) h.release();
      },
    };
  }

  private refuseFull(exp: QueuedExporter, records: number, transport: string): never {
    this.metrics.receiverRefused.inc({ transport, reason: 'queue_full' }, records);
    throw new PipelineError(
      this.settings.queueFullKind ?? 'overloaded',
      `exporter "${exp.name}" queue is full (${exp.size} records); retry later`,
      this.settings.queueFullRetryAfterMs,
    );
  }

  /** Offers each output to its exporters; resolves when all hold them (in memory or in their persistent queue). */
  private async deliver(prepared: PreparedRequest, transport: string, receivedAt: number, metadata?: Readonly<Record<string, string>>): Promise<void> {
    const offers: Promise<void>[] = [];
    for (const output of prepared.outputs) {
      for (const b of output.batches) offers.push(this.offer(output, { bytes: b.bytes, records: b.records, receivedAt: [receivedAt], metadata }, transport));
    }
    await Promise.all(offers);
  }

  private async offer(output: PreparedOutput, encoded: EncodedBatch, transport: string): Promise<void> {
    const results = await Promise.allSettled(output.exporters.map((i) => this.exporters[i]!.offer(encoded)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) return;
    this.metrics.receiverRefused.inc({ transport, reason: 'queue_write_failed' }, encoded.records);
    throw failed.reason instanceof PipelineError ? failed.reason : new PipelineError('internal', (failed.reason as Error).message);
  }
}
