/**
 * Runs the configured processors over a batch, in order. Owns what processors may not do:
 * timing, counting records in and out, recording drops, and containing a processor that throws.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../telemetry/metrics';
import { countRecords, type LogsData } from '../otlp/model';
import type { DropSink, Processor } from './processor';

export interface ChainStage {
  readonly name: string;
  readonly processor: Processor;
}

interface BoundStage {
  readonly name: string;
  readonly processor: Processor;
  readonly drops: DropSink;
  readonly incoming: { inc(n: number): void };
  readonly outgoing: { inc(n: number): void };
  readonly errors: { inc(): void };
  readonly seconds: { observe(v: number): void };
}

export class ProcessingChain {
  private readonly stages: readonly BoundStage[];
  /** Last value of each processor count already added to the metric. */
  private readonly reported = new Map<string, number>();

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
        drops: { drop: (reason: string, count: number) => metrics.dropped.inc({ component, reason }, count) },
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

  /** Returns the processed batch; `records` is the count entering the chain. */
  run(batch: LogsData, records: number): LogsData {
    let current = batch;
    let n = records;
    for (const stage of this.stages) {
      stage.incoming.inc(n);
      const start = process.hrtime.bigint();
      try {
        current = stage.processor.process(current, stage.drops);
      } catch (err) {
        // A processor bug must not cost the batch: pass it on as it stands.
        stage.errors.inc();
        this.logger.error({ err, processor: stage.name }, 'processor threw; batch passed on unchanged by it');
      }
      stage.seconds.observe(Number(process.hrtime.bigint() - start) / 1e9);
      n = countRecords(current);
      stage.outgoing.inc(n);
      this.publishCounts(stage);
    }
    return current;
  }
}
