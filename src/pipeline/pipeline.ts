/**
 * From received bytes to exporter queues: decode → memory limiter → queue room → the request
 * processor (limits → chain → route → split → encode) → offer to the exporters each batch is
 * routed to. The result resolves once every exporter holds its records: queued in memory, or
 * written to the persistent queue — only then may the receiver acknowledge. Queue room is checked
 * up front, so a request is normally enqueued or refused as a whole; a persistent-queue write
 * failure after part of it was written refuses the request and the sender's retry duplicates
 * that part.
 *
 * With worker threads (OLP_WORKERS), the request processor's part runs in a worker: the
 * event-loop thread admits the request and checks room with the record count from a wire scan,
 * sends the bytes, then checks room again with what the chain produced (other requests may have
 * filled the queues meanwhile; refusing then is safe because pooled chains keep no state) and
 * delivers. Receiver counters are counted here, once the request's fate is known.
 */
import type { Logger } from 'pino';
import { PipelineError, type FailureKind } from '../errors';
import { countRecords, type LogsData } from '../otlp/model';
import type { Metrics } from '../telemetry/metrics';
import type { QueuedExporter } from '../exporters/queued-exporter';
import type { EncodedBatch } from '../exporters/transport';
import type { MemoryLimiter } from './memory-limiter';
import { newTally, type PreparedOutput, type PreparedRequest, type ReceiverTally, type RequestProcessor } from './request-processor';
import { encodeLogsData } from '../otlp/codec';
import { scanRecordCount } from '../otlp/wire-scan';
import type { RequestPool } from './worker-pool';

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
  /** Worker threads for decode → … → encode; absent: on this thread. */
  readonly pool?: RequestPool;
}

export class Pipeline {
  constructor(
    private readonly processor: RequestProcessor,
    private readonly exporters: readonly QueuedExporter[],
    private readonly settings: PipelineSettings,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  /** A binary ExportLogsServiceRequest. Throws PipelineError when the request as a whole is refused. */
  async consume(bytes: Uint8Array, transport: string, metadata?: Readonly<Record<string, string>>): Promise<ConsumeResult> {
    if (this.settings.pool) return this.consumePooled(this.settings.pool, bytes, transport, metadata);
    return this.consumeData(this.processor.decode(bytes, transport), transport, bytes, metadata);
  }

  /**
   * An already decoded request (e.g. from OTLP/JSON). `bytes`, when given, is its binary
   * encoding, forwarded as is when nothing changes the records. `metadata` is the incoming
   * metadata selected for forwarding.
   */
  async consumeData(data: LogsData, transport: string, bytes?: Uint8Array, metadata?: Readonly<Record<string, string>>): Promise<ConsumeResult> {
    // With workers, a decoded request (OTLP/JSON) is encoded here and processed like any other:
    // one encode on this thread instead of the chain, split and encode.
    if (this.settings.pool && countRecords(data) > 0) return this.consumePooled(this.settings.pool, bytes ?? encodeLogsData(data), transport, metadata);
    const receivedAt = Date.now();
    const tally = newTally();
    let received: number;
    try {
      received = this.processor.count(data, tally);
    } catch (e) {
      this.count(transport, tally);
      throw e;
    }
    if (received === 0) return { rejected: 0, message: '' };
    this.admit(transport, received);
    // Before the chain: stateful processors (dedup, windows) must not see a request that is then refused.
    this.checkRoom(received, bytes?.length ?? 0, transport);
    const prepared = this.processor.process(data, received, transport, tally, bytes);
    this.count(transport, tally);
    await this.deliver(prepared, transport, receivedAt, metadata);
    return prepared.rejection;
  }

  private async consumePooled(pool: RequestPool, bytes: Uint8Array, transport: string, metadata?: Readonly<Record<string, string>>): Promise<ConsumeResult> {
    const receivedAt = Date.now();
    const records = scanRecordCount(bytes);
    // An empty request is answered here; one the scan cannot read is left to the worker's decode to explain.
    if (records === 0 && countRecords(this.processor.decode(bytes, transport)) === 0) return { rejected: 0, message: '' };
    if (records !== undefined) {
      this.admit(transport, records);
      this.checkRoom(records, bytes.length, transport);
    }
    const outcome = await pool.process(bytes, transport);
    if (!outcome.ok) {
      this.count(transport, outcome.tally);
      throw outcome.error;
    }
    // The queues may have filled while the request was in the worker: refuse it whole, as before the chain.
    this.checkOutputRoom(outcome.outputs, outcome.received, transport);
    this.count(transport, outcome.tally);
    await this.deliver(outcome, transport, receivedAt, metadata);
    return outcome.rejection;
  }

  /** Adds a request's receiver counts (from this thread's request processor or a worker's). */
  private count(transport: string, tally: ReceiverTally): void {
    if (tally.accepted > 0) this.metrics.receiverAccepted.inc({ transport }, tally.accepted);
    for (const [reason, n] of Object.entries(tally.refused)) this.metrics.receiverRefused.inc({ transport, reason }, n);
  }

  /** Room for what each exporter is about to be offered; refuses all `received` records otherwise. */
  private checkOutputRoom(outputs: readonly PreparedOutput[], received: number, transport: string): void {
    if (outputs.length === 0) return;
    const records = new Array<number>(this.exporters.length).fill(0);
    const bytes = new Array<number>(this.exporters.length).fill(0);
    for (const o of outputs) {
      for (const b of o.batches) {
        for (const i of o.exporters) {
          records[i]! += b.records;
          bytes[i]! += b.bytes.length;
        }
      }
    }
    this.exporters.forEach((exp, i) => {
      if (records[i]! > 0 && !exp.hasRoomFor(records[i]!, bytes[i]!)) this.refuseFull(exp, received, transport);
    });
  }

  /**
   * Records a processor emitted on its own (window summaries at a flush). Nobody waits for
   * them, so an exporter without room drops them, counted.
   */
  async emit(data: LogsData, source: string): Promise<void> {
    const records = countRecords(data);
    if (records === 0) return;
    const receivedAt = Date.now();
    const outputs = this.processor.encode(data, records);
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

  private checkRoom(records: number, bytes: number, transport: string): void {
    for (const exp of this.exporters) {
      if (!exp.hasRoomFor(records, bytes)) this.refuseFull(exp, records, transport);
    }
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
