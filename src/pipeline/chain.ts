/**
 * Runs the configured processors over a batch, in order. Owns what processors may not do:
 * timing, counting records in and out, counting drops by reason, and containing a processor
 * that throws: the batch goes on exactly as it was before that processor (the record model
 * undoes the processor's changes, drops and additions), whether it is built in or custom.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../telemetry/metrics';
import type { ProcessorTemplates } from '../processors/contract';
import type { Condition } from '../conditions';
import type { Processor } from '../processors/contract';
import { BatchView, RecordBatch, type RecordImpl } from '../records/batch';
import type { TapPoints } from './tap';

export interface ChainStage {
  readonly name: string;
  readonly processor: Processor;
  /** OLP_<NAME>_WHERE: the processor only sees records matching it; the others pass through. */
  readonly where?: Condition;
}

interface BoundStage {
  readonly name: string;
  readonly processor: Processor;
  readonly where: Condition | undefined;
  readonly dropped: (reason: string, count: number) => void;
  readonly incoming: { inc(n: number): void };
  readonly outgoing: { inc(n: number): void };
  readonly errors: { inc(): void };
  readonly seconds: { observe(v: number): void };
}

export class ProcessingChain {
  private readonly stages: readonly BoundStage[];
  /** Last value of each processor count already added to the metric. */
  private readonly reported = new Map<string, number>();
  /** Label sets of olp_processor_window_records last set, per stage. */
  private readonly windowLabels = new Map<string, { processor: string; dimension: string; value: string }[]>();
  /** Where taps look at the records (tap.ts); its `wanted` is undefined while no tap is attached. */
  private taps: TapPoints | undefined;

  constructor(
    stages: readonly ChainStage[],
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    // Bind label children once: label lookups per batch are measurable on the hot path.
    this.stages = stages.map((s) => {
      const component = `processor/${s.name}`;
      return {
        name: s.name,
        processor: s.processor,
        where: s.where,
        dropped: (reason: string, count: number) => metrics.dropped.inc({ component, reason }, count),
        incoming: metrics.processorIncoming.labels(s.name),
        outgoing: metrics.processorOutgoing.labels(s.name),
        errors: metrics.processorErrors.labels(s.name),
        seconds: metrics.processorSeconds.labels(s.name),
      };
    });
  }

  /** Copies processors' own cumulative counts into olp_processor_events_total, as deltas. */
  private publishCounts(stage: BoundStage): void {
    const counts = stage.processor.counts;
    if (!counts) return;
    for (const [event, total] of counts) {
      const key = `${stage.name}\u0000${event}`;
      const delta = total - (this.reported.get(key) ?? 0);
      if (delta > 0) {
        this.metrics.processorEvents.inc({ processor: stage.name, event }, delta);
        this.reported.set(key, total);
      }
    }
  }

  get length(): number {
    return this.stages.length;
  }

  /** The templates of the stages that keep some (classify), `limit` per stage. */
  templates(limit: number): ProcessorTemplates[] {
    return this.stages.flatMap((s) => (s.processor.templates ? [{ processor: s.name, templates: s.processor.templates(limit) }] : []));
  }

  /** Lets `taps` look at the records between stages (points 0 … length). */
  attachTaps(taps: TapPoints): void {
    this.taps = taps;
  }

  /** Whether a tap is attached (then even an empty chain gets a record batch to look at). */
  get tapped(): boolean {
    return this.taps?.wanted !== undefined;
  }

  /** Runs every stage over the batch (changed in place). */
  run(batch: RecordBatch): void {
    if (this.taps?.wanted?.[0]) this.taps.offer(0, batch);
    this.runFrom(0, batch);
  }

  /** Stages that emit on their own schedule: index and flush interval. */
  get flushing(): readonly { readonly index: number; readonly name: string; readonly intervalMs: number }[] {
    return this.stages.flatMap((s, index) => (s.processor.flush && s.processor.flushIntervalMs ? [{ index, name: s.name, intervalMs: s.processor.flushIntervalMs }] : []));
  }

  /**
   * Asks stage `index` to flush (window ends; `final` at shutdown) and runs what it emits
   * through the stages after it. Returns the records to export, or undefined.
   */
  flush(index: number, now: number, final: boolean): RecordBatch | undefined {
    const stage = this.stages[index]!;
    const out = new RecordBatch();
    out.begin();
    try {
      stage.processor.flush?.(now, final, out);
      out.commit();
    } catch (err) {
      out.rollback();
      stage.errors.inc();
      this.logger.error({ err, processor: stage.name }, 'processor flush threw; nothing emitted');
    }
    this.publishCounts(stage);
    this.publishWindow(stage);
    if (out.size === 0) return undefined;
    stage.outgoing.inc(out.size);
    if (this.taps?.wanted?.[index + 1]) this.taps.offer(index + 1, out);
    this.runFrom(index + 1, out, true);
    return out.size > 0 ? out : undefined;
  }

  /** Every flushing stage, in chain order, at shutdown. */
  flushAll(now: number): RecordBatch[] {
    const out: RecordBatch[] = [];
    for (const { index } of this.flushing) {
      const emitted = this.flush(index, now, true);
      if (emitted) out.push(emitted);
    }
    return out;
  }

  /** Replaces the stage's series of olp_processor_window_records with its last window. */
  private publishWindow(stage: BoundStage): void {
    const window = stage.processor.windowCounts;
    if (!window) return;
    const previous = this.windowLabels.get(stage.name) ?? [];
    const current: { processor: string; dimension: string; value: string }[] = [];
    for (const [dimension, values] of window) {
      for (const [value, count] of values) {
        const labels = { processor: stage.name, dimension, value };
        this.metrics.processorWindowRecords.set(labels, count);
        current.push(labels);
      }
    }
    const kept = new Set(current.map((l) => `${l.dimension}\u0000${l.value}`));
    for (const l of previous) if (!kept.has(`${l.dimension}\u0000${l.value}`)) this.metrics.processorWindowRecords.remove(l);
    this.windowLabels.set(stage.name, current);
  }

  /** `emitted`: the batch is records a processor emitted (they skip processors that thin the stream). */
  private runFrom(from: number, batch: RecordBatch, emitted = false): void {
    // One lookup per stage when taps are attached, none otherwise.
    const tapped = this.taps?.wanted;
    for (let i = from; i < this.stages.length; i++) {
      const stage = this.stages[i]!;
      if (emitted && stage.processor.thins) {
        if (tapped !== undefined && tapped[i + 1] === 1) this.taps!.offer(i + 1, batch);
        continue;
      }
      stage.incoming.inc(batch.size);
      const start = process.hrtime.bigint();
      batch.begin();
      try {
        if (stage.where) processWhere(stage.processor, stage.where, batch);
        else stage.processor.process(batch);
        batch.commit();
      } catch (err) {
        // A processor bug must not cost the batch: it goes on as it was before the processor.
        batch.rollback();
        stage.errors.inc();
        this.logger.error({ err, processor: stage.name }, 'processor threw; batch passed on as it was before it');
      }
      stage.seconds.observe(Number(process.hrtime.bigint() - start) / 1e9);
      const drops = batch.takeDrops();
      if (drops) for (const [reason, n] of drops) stage.dropped(reason, n);
      stage.outgoing.inc(batch.size);
      this.publishCounts(stage);
      if (tapped !== undefined && tapped[i + 1] === 1) this.taps!.offer(i + 1, batch);
    }
  }
}

/**
 * Runs `processor` on the records matching `where` only: it sees them as a batch of their own;
 * what it changes or drops changes the records in place, and what it adds joins the batch (after
 * the records of the scope it names, or in a group of its own).
 */
export function processWhere(processor: Processor, where: Condition, batch: RecordBatch): void {
  where.reset();
  let matched: RecordImpl[] | undefined;
  const all = batch.records();
  for (let i = 0; i < all.length; i++) {
    const rec = all[i]!;
    if (where.matches(rec)) (matched ??= []).push(rec);
  }
  if (matched) processor.process(new BatchView(batch, matched));
}
