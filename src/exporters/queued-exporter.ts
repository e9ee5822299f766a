/**
 * The exporter stack, as in the Collector's exporterhelper: batching → bounded queue →
 * N consumers → retry (exponential backoff with jitter) → per-attempt timeout → transport.
 * Records are held encoded: merging batches is a byte concatenation, never a re-encode.
 *
 * With a write-ahead log (persistent queue) each offered request is first appended to the
 * log, and `offer` resolves only then (the receiver acknowledges after that). Its entry is
 * marked done once the batch it was merged into is delivered or dropped for good (counted);
 * on shutdown what is unsent stays in the log and is re-sent by the next start.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../telemetry/metrics';
import { ExportError } from '../errors';
import { backoffDelay, type RetryPolicy } from './retry';
import type { Transport } from './transport';
import type { EncodedBatch } from '../otlp/encoded-batch';
import { Batcher, type TrackedBatch } from './batcher';
import type { WriteAheadLog } from '../queue/wal';

export type QueueFullPolicy = 'reject' | 'drop_oldest';

export interface ExporterSettings {
  readonly maxQueuedRecords: number;
  readonly consumers: number;
  readonly batchMaxRecords: number;
  readonly batchMaxDelayMs: number;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  /** Encoded bytes held (batching plus queue); 0 or absent = no byte limit. */
  readonly maxQueuedBytes?: number;
  /** `reject` (default): hasRoomFor says no when full. `drop_oldest`: always room; the oldest queued batches are dropped, counted. */
  readonly fullPolicy?: QueueFullPolicy;
}

export interface ExporterContext {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly random?: () => number;
  /** The persistent queue; absent = in-memory queue only. */
  readonly wal?: WriteAheadLog;
}

export class QueuedExporter {
  private readonly batcher: Batcher;
  private readonly queue: TrackedBatch[] = [];
  private queuedRecords = 0;
  private queuedBytes = 0;
  /** Offered, waiting for the write-ahead log: counted so concurrent requests cannot overfill. */
  private reservedRecords = 0;
  private reservedBytes = 0;
  /** Room held by admitted requests still being processed (see reserve). */
  private heldRecords = 0;
  private heldBytes = 0;
  /** Taken by a consumer and not yet delivered or dropped (sending, or waiting to retry). */
  private sendingRecords = 0;
  private sendingBytes = 0;
  private idle: (() => void)[] = [];
  private consumers: Promise<void>[] = [];
  private draining = false;
  private readonly hardStop = new AbortController();
  private readonly log: Logger;
  private readonly component: string;
  private readonly random: () => number;

  constructor(
    readonly name: string,
    private readonly transport: Transport,
    private readonly settings: ExporterSettings,
    private readonly ctx: ExporterContext,
  ) {
    this.log = ctx.logger.child({ exporter: name });
    this.component = `exporter/${name}`;
    this.random = ctx.random ?? Math.random;
    this.batcher = new Batcher(settings.batchMaxRecords, settings.batchMaxDelayMs, (batch) => this.enqueue(batch));
    ctx.metrics.exporterQueueCapacity.set({ exporter: name }, settings.maxQueuedRecords);
    this.updateGauge();
  }

  /** Starts the consumers; with a persistent queue, first queues what the previous run left unsent. */
  start(): void {
    for (const entry of this.ctx.wal?.takeRecovered() ?? []) this.add({ ...entry.batch, walIds: [entry.id] });
    for (let i = 0; i < this.settings.consumers; i++) this.consumers.push(this.consumeLoop());
  }

  /**
   * Records held: batching, queued, and taken by a consumer until delivered or dropped. During
   * an outage most of them sit in the consumers' retry loops; leaving those out made the queue
   * read empty (and the limit not bound memory) while up to consumers × batch size waited.
   */
  get size(): number {
    return this.batcher.size + this.queuedRecords + this.reservedRecords + this.sendingRecords;
  }

  /** Encoded bytes held, as `size` counts records. */
  get bytes(): number {
    return this.batcher.bytes + this.queuedBytes + this.reservedBytes + this.sendingBytes;
  }

  /**
   * Whether a request of this size may be offered, counting the room other requests hold. An
   * empty queue takes any request, so an oversized one is not refused forever.
   */
  hasRoomFor(records: number, bytes = 0): boolean {
    const size = this.size + this.heldRecords;
    if (this.settings.fullPolicy === 'drop_oldest' || size === 0) return true;
    const maxBytes = this.settings.maxQueuedBytes ?? 0;
    return size + records <= this.settings.maxQueuedRecords && (maxBytes === 0 || this.bytes + this.heldBytes + bytes <= maxBytes);
  }

  /**
   * Holds room for a request while it is processed, so that requests admitted together cannot
   * overfill the queue; undefined when there is none. The holder releases it right before it
   * offers its batches (or when it is refused).
   */
  reserve(records: number, bytes: number): { release(): void } | undefined {
    if (!this.hasRoomFor(records, bytes)) return undefined;
    this.heldRecords += records;
    this.heldBytes += bytes;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.heldRecords -= records;
        this.heldBytes -= bytes;
      },
    };
  }

  /**
   * Takes ownership of an encoded batch; the caller checked hasRoomFor first. Without a
   * persistent queue the batch is queued before this returns; with one, the promise resolves
   * once it is in the log (and rejects with a PipelineError when it cannot be written).
   */
  offer(batch: EncodedBatch): Promise<void> {
    const wal = this.ctx.wal;
    if (!wal) {
      this.add(batch);
      return Promise.resolve();
    }
    return this.offerPersistent(wal, batch);
  }

  private async offerPersistent(wal: WriteAheadLog, batch: EncodedBatch): Promise<void> {
    this.reservedRecords += batch.records;
    this.reservedBytes += batch.bytes.length;
    let id: number;
    try {
      id = await wal.append(batch);
    } finally {
      this.reservedRecords -= batch.records;
      this.reservedBytes -= batch.bytes.length;
    }
    this.add({ ...batch, walIds: [id] });
  }

  private add(batch: TrackedBatch): void {
    this.batcher.add(batch);
    if (this.settings.fullPolicy === 'drop_oldest') this.dropOldestWhileFull();
    this.updateGauge();
  }

  private overfull(): boolean {
    const maxBytes = this.settings.maxQueuedBytes ?? 0;
    return this.size > this.settings.maxQueuedRecords || (maxBytes > 0 && this.bytes > maxBytes);
  }

  /** drop_oldest policy: makes room by dropping the oldest queued batches (counted, and done in the log). */
  private dropOldestWhileFull(): void {
    while (this.overfull()) {
      if (this.queue.length === 0) {
        if (this.batcher.size === 0) return;
        this.batcher.flushAll();
      }
      const oldest = this.queue.shift();
      if (!oldest) return;
      this.queuedRecords -= oldest.records;
      this.queuedBytes -= oldest.bytes.length;
      this.drop('queue_full_drop_oldest', oldest.records);
      this.finish(oldest);
      this.log.warn({ records: oldest.records }, 'queue full: oldest batch dropped (OLP_QUEUE_FULL_POLICY=drop_oldest)');
    }
  }

  /** The batch is delivered or dropped for good: its log entries are done. */
  private finish(batch: TrackedBatch): void {
    if (batch.walIds) this.ctx.wal?.done(batch.walIds);
  }

  /** Moves partial batches into the sending queue. */
  flush(): void {
    this.batcher.flushAll();
  }

  private enqueue(batch: TrackedBatch): void {
    this.queue.push(batch);
    this.queuedRecords += batch.records;
    this.queuedBytes += batch.bytes.length;
    this.updateGauge();
    this.idle.shift()?.();
  }

  /**
   * Flushes, then sends what is queued until the queue is empty or `deadline` (epoch ms)
   * passes; what is still unsent then is counted as dropped with reason `shutdown`.
   */
  async shutdown(deadline: number): Promise<void> {
    if (this.ctx.wal) return this.shutdownPersistent(this.ctx.wal, deadline);
    this.flush();
    this.draining = true;
    for (const wake of this.idle.splice(0)) wake();
    const all = Promise.all(this.consumers);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), Math.max(0, deadline - Date.now()));
    });
    const outcome = await Promise.race([all.then(() => 'drained' as const), expired]);
    clearTimeout(timer);
    if (outcome === 'expired') {
      this.hardStop.abort();
      const left = this.queuedRecords + this.sendingRecords;
      if (left > 0) {
        this.drop('shutdown', left);
        this.log.warn({ records: left }, 'shutdown deadline reached; unsent records dropped');
      }
      this.queue.length = 0;
      this.queuedRecords = 0;
      this.queuedBytes = 0;
      this.updateGauge();
    }
    await this.transport.close();
  }

  /**
   * Persistent queue: stops taking batches at once and waits (until `deadline`) for the sends
   * under way; everything unsent stays in the log for the next start, so nothing is dropped.
   */
  private async shutdownPersistent(wal: WriteAheadLog, deadline: number): Promise<void> {
    this.draining = true;
    this.hardStop.abort();
    for (const wake of this.idle.splice(0)) wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.consumers),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
    this.flush(); // Clears the batch timers; the records are in the log.
    await wal.close();
    this.log.info({ entries: wal.liveEntries, records: this.queuedRecords }, 'persistent queue left for the next start');
    await this.transport.close();
  }

  private next(): Promise<TrackedBatch | undefined> {
    if (this.hardStop.signal.aborted) return Promise.resolve(undefined);
    const item = this.queue.shift();
    if (item) {
      this.queuedRecords -= item.records;
      this.queuedBytes -= item.bytes.length;
      this.updateGauge();
      return Promise.resolve(item);
    }
    if (this.draining || this.hardStop.signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => this.idle.push(() => resolve(this.next())));
  }

  private async consumeLoop(): Promise<void> {
    for (;;) {
      const batch = await this.next();
      if (!batch || this.hardStop.signal.aborted) return;
      this.sendingRecords += batch.records;
      this.sendingBytes += batch.bytes.length;
      this.updateGauge();
      try {
        await this.deliver(batch);
      } finally {
        this.sendingRecords -= batch.records;
        this.sendingBytes -= batch.bytes.length;
        this.updateGauge();
      }
    }
  }

  /** Retry stage: tries until delivered, permanently failed, out of time, or hard-stopped. */
  private async deliver(batch: TrackedBatch): Promise<void> {
    // Any outcome other than a hard stop is final: delivered, or dropped and counted.
    if (await this.attempt(batch)) this.finish(batch);
  }

  /** Resolves true when the batch is delivered or dropped for good, false on a hard stop. */
  private async attempt(batch: TrackedBatch): Promise<boolean> {
    const { retry, timeoutMs } = this.settings;
    const started = Date.now();
    this.ctx.metrics.exporterBatchSize.observe({ exporter: this.name }, batch.records);
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.transport.send(batch, timeoutMs);
        // A forwarded metrics batch counts metrics, its downstream rejects data points: never below zero.
        this.ctx.metrics.exporterSent.inc({ exporter: this.name }, Math.max(0, batch.records - result.rejected));
        const now = Date.now();
        for (const t of batch.receivedAt ?? []) this.ctx.metrics.endToEndLatency.observe({ exporter: this.name }, (now - t) / 1000);
        if (result.rejected > 0) {
          this.drop('downstream_rejected', Math.min(result.rejected, batch.records));
          this.log.warn({ rejected: result.rejected, message: result.message }, 'downstream rejected part of a batch (partial success); not retried');
        } else if (result.message) {
          this.log.info({ message: result.message }, 'downstream sent a warning with a successful export');
        }
        return true;
      } catch (e) {
        const err = e instanceof ExportError ? e : new ExportError((e as Error).message, false, 'UNKNOWN');
        this.ctx.metrics.exporterSendFailed.inc({ exporter: this.name, code: err.code });
        if (this.hardStop.signal.aborted) return false; // counted by shutdown(), or left in the log
        if (!err.retryable || !retry.enabled) {
          this.drop('export_failed', batch.records);
          this.log.error({ code: err.code, err: err.message, records: batch.records }, 'export failed permanently; batch dropped');
          return true;
        }
        const delay = backoffDelay(retry, attempt, this.random(), err.retryAfterMs);
        if (retry.maxElapsedMs > 0 && Date.now() - started + delay > retry.maxElapsedMs) {
          this.drop('retries_exhausted', batch.records);
          this.log.error({ code: err.code, err: err.message, records: batch.records, attempts: attempt + 1 }, 'export retries exhausted; batch dropped');
          return true;
        }
        this.log.warn({ code: err.code, err: err.message, retryInMs: delay, attempt: attempt + 1 }, 'export failed; will retry');
        if (!(await this.sleep(delay))) return false; // hard stop: counted by shutdown(), or left in the log
      }
    }
  }

  /** Resolves true after ms, or false as soon as the hard stop fires. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.hardStop.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        clearTimeout(t);
        resolve(false);
      };
      const t = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private drop(reason: string, records: number): void {
    this.ctx.metrics.dropped.inc({ component: this.component, reason }, records);
  }

  private updateGauge(): void {
    this.ctx.metrics.exporterQueueSize.set({ exporter: this.name }, this.size);
    this.ctx.metrics.queueBytes.set({ exporter: this.name }, this.bytes);
  }
}
