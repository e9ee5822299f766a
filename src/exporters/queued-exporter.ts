/**
 * The exporter stack, as in the Collector's exporterhelper: batching → bounded queue →
 * N consumers → retry (exponential backoff with jitter) → per-attempt timeout → transport.
 * Records are held encoded: merging batches is a byte concatenation, never a re-encode.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../telemetry/metrics';
import { ExportError } from '../errors';
import { backoffDelay, type RetryPolicy } from './retry';
import type { EncodedBatch, Transport } from './transport';
import { Batcher } from './batcher';

export interface ExporterSettings {
  readonly maxQueuedRecords: number;
  readonly consumers: number;
  readonly batchMaxRecords: number;
  readonly batchMaxDelayMs: number;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
}

export interface ExporterContext {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly random?: () => number;
}

export class QueuedExporter {
  private readonly batcher: Batcher;
  private readonly queue: EncodedBatch[] = [];
  private queuedRecords = 0;
  private inFlight = new Set<EncodedBatch>();
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

  start(): void {
    for (let i = 0; i < this.settings.consumers; i++) this.consumers.push(this.consumeLoop());
  }

  /** Records waiting (batching + queue), not counting those being sent. */
  get size(): number {
    return this.batcher.size + this.queuedRecords;
  }

  hasRoomFor(records: number): boolean {
    return this.size + records <= this.settings.maxQueuedRecords;
  }

  /** Takes ownership of an encoded batch; the caller checked hasRoomFor first. */
  offer(batch: EncodedBatch): void {
    this.batcher.add(batch);
    this.updateGauge();
  }

  /** Moves partial batches into the sending queue. */
  flush(): void {
    this.batcher.flushAll();
  }

  private enqueue(batch: EncodedBatch): void {
    this.queue.push(batch);
    this.queuedRecords += batch.records;
    this.updateGauge();
    this.idle.shift()?.();
  }

  /**
   * Flushes, then sends what is queued until the queue is empty or `deadline` (epoch ms)
   * passes; what is still unsent then is counted as dropped with reason `shutdown`.
   */
  async shutdown(deadline: number): Promise<void> {
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
      const left = this.queuedRecords + [...this.inFlight].reduce((n, b) => n + b.records, 0);
      if (left > 0) {
        this.drop('shutdown', left);
        this.log.warn({ records: left }, 'shutdown deadline reached; unsent records dropped');
      }
      this.queue.length = 0;
      this.queuedRecords = 0;
      this.updateGauge();
    }
    await this.transport.close();
  }

  private next(): Promise<EncodedBatch | undefined> {
    const item = this.queue.shift();
    if (item) {
      this.queuedRecords -= item.records;
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
      this.inFlight.add(batch);
      try {
        await this.deliver(batch);
      } finally {
        this.inFlight.delete(batch);
      }
    }
  }

  /** Retry stage: tries until delivered, permanently failed, out of time, or hard-stopped. */
  private async deliver(batch: EncodedBatch): Promise<void> {
    const { retry, timeoutMs } = this.settings;
    const started = Date.now();
    this.ctx.metrics.exporterBatchSize.observe({ exporter: this.name }, batch.records);
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.transport.send(batch, timeoutMs);
        this.ctx.metrics.exporterSent.inc({ exporter: this.name }, batch.records - result.rejected);
        const now = Date.now();
        for (const t of batch.receivedAt ?? []) this.ctx.metrics.endToEndLatency.observe({ exporter: this.name }, (now - t) / 1000);
        if (result.rejected > 0) {
          this.drop('downstream_rejected', result.rejected);
          this.log.warn({ rejected: result.rejected, message: result.message }, 'downstream rejected part of a batch (partial success); not retried');
        } else if (result.message) {
          this.log.info({ message: result.message }, 'downstream sent a warning with a successful export');
        }
        return;
      } catch (e) {
        const err = e instanceof ExportError ? e : new ExportError((e as Error).message, false, 'UNKNOWN');
        this.ctx.metrics.exporterSendFailed.inc({ exporter: this.name, code: err.code });
        if (this.hardStop.signal.aborted) return; // counted by shutdown()
        if (!err.retryable || !retry.enabled) {
          this.drop('export_failed', batch.records);
          this.log.error({ code: err.code, err: err.message, records: batch.records }, 'export failed permanently; batch dropped');
          return;
        }
        const delay = backoffDelay(retry, attempt, this.random(), err.retryAfterMs);
        if (retry.maxElapsedMs > 0 && Date.now() - started + delay > retry.maxElapsedMs) {
          this.drop('retries_exhausted', batch.records);
          this.log.error({ code: err.code, err: err.message, records: batch.records, attempts: attempt + 1 }, 'export retries exhausted; batch dropped');
          return;
        }
        this.log.warn({ code: err.code, err: err.message, retryInMs: delay, attempt: attempt + 1 }, 'export failed; will retry');
        if (!(await this.sleep(delay))) return; // hard stop: counted by shutdown()
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
  }
}
