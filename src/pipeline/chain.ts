/**
 * Runs the configured processors over a batch, in order. Owns what processors may not do:
 * timing, counting records in and out, recording drops, and containing a processor that throws.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../telemetry/metrics';
import type { ProcessorTemplates } from '../processors/contract';
import { countRecords, type LogRecord, type LogsData, type ResourceLogs, type ScopeLogs } from '../otlp/model';
import type { Condition } from '../conditions';
import type { DropSink, Processor } from '../processors/contract';

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
  /** Label sets of olp_processor_window_records last set, per stage. */
  private readonly windowLabels = new Map<string, { processor: string; dimension: string; value: string }[]>();

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

  /** The templates of the stages that keep some (classify), `limit` per stage. */
  templates(limit: number): ProcessorTemplates[] {
    return this.stages.flatMap((s) => (s.processor.templates ? [{ processor: s.name, templates: s.processor.templates(limit) }] : []));
  }

  /** Returns the processed batch; `records` is the count entering the chain. */
  run(batch: LogsData, records: number): LogsData {
    return this.runFrom(0, batch, records);
  }

  /** Stages that emit on their own schedule: index and flush interval. */
  get flushing(): readonly { readonly index: number; readonly name: string; readonly intervalMs: number }[] {
    return this.stages.flatMap((s, index) => (s.processor.flush && s.processor.flushIntervalMs ? [{ index, name: s.name, intervalMs: s.processor.flushIntervalMs }] : []));
  }

  /**
   * Asks stage `index` to flush (window ends; `final` at shutdown) and runs what it emits
   * through the stages after it. Returns the records to export, or undefined.
   */
  flush(index: number, now: number, final: boolean): LogsData | undefined {
    const stage = this.stages[index]!;
    let emitted: LogsData | undefined;
    try {
      emitted = stage.processor.flush?.(now, final, stage.drops);
    } catch (err) {
      stage.errors.inc();
      this.logger.error({ err, processor: stage.name }, 'processor flush threw; nothing emitted');
    }
    this.publishCounts(stage);
    this.publishWindow(stage);
    if (!emitted) return undefined;
    const n = countRecords(emitted);
    if (n === 0) return undefined;
    stage.outgoing.inc(n);
    return this.runFrom(index + 1, emitted, n, true);
  }

  /** Every flushing stage, in chain order, at shutdown; the output is one batch. */
  flushAll(now: number): LogsData | undefined {
    const out: LogsData = { resourceLogs: [] };
    for (const { index } of this.flushing) {
      const emitted = this.flush(index, now, true);
      if (emitted) out.resourceLogs.push(...emitted.resourceLogs);
    }
    return out.resourceLogs.length > 0 ? out : undefined;
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
  private runFrom(from: number, batch: LogsData, records: number, emitted = false): LogsData {
    let current = batch;
    let n = records;
    for (let i = from; i < this.stages.length; i++) {
      const stage = this.stages[i]!;
      if (emitted && stage.processor.thins) continue;
      stage.incoming.inc(n);
      const start = process.hrtime.bigint();
      try {
        current = stage.where ? processWhere(stage.processor, stage.where, current, stage.drops) : stage.processor.process(current, stage.drops);
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

/**
 * Runs `processor` on the records matching `where` only. The processor gets a sub-batch of new
 * ResourceLogs/ScopeLogs wrappers (sharing resource and scope objects) holding the matching
 * records; afterwards, in each original scope, non-matching records keep their positions, matching
 * records the processor removed are gone, and records it added follow the kept ones. Records are
 * told apart by identity (processors change records in place). Scopes and resources emptied by
 * the processor are removed; records in scopes or resources the processor created are appended.
 */
export function processWhere(processor: Processor, where: Condition, batch: LogsData, drops: DropSink): LogsData {
  where.reset();
  const matched = new Set<LogRecord>();
  const subToOrigSl = new Map<ScopeLogs, ScopeLogs>();
  const subToOrigRl = new Map<ResourceLogs, ResourceLogs>();
  const sub: LogsData = { resourceLogs: [] };
  for (const rl of batch.resourceLogs) {
    let subRl: ResourceLogs | undefined;
    for (const sl of rl.scopeLogs) {
      let picked: LogRecord[] | undefined;
      for (const rec of sl.logRecords) {
        if (!where.matches(rec, rl.resource, sl.scope)) continue;
        (picked ??= []).push(rec);
        matched.add(rec);
      }
      if (!picked) continue;
      if (!subRl) {
        subRl = { resource: rl.resource, scopeLogs: [], schemaUrl: rl.schemaUrl };
        sub.resourceLogs.push(subRl);
        subToOrigRl.set(subRl, rl);
      }
      const subSl: ScopeLogs = { scope: sl.scope, logRecords: picked, schemaUrl: sl.schemaUrl };
      subRl.scopeLogs.push(subSl);
      subToOrigSl.set(subSl, sl);
    }
  }
  if (matched.size === 0) return batch;

  const out = processor.process(sub, drops);

  const survivors = new Set<LogRecord>();
  const added = new Map<ScopeLogs, LogRecord[]>();
  const extraResources: ResourceLogs[] = [];
  for (const outRl of out.resourceLogs) {
    const origRl = subToOrigRl.get(outRl);
    const extraScopes: ScopeLogs[] = [];
    for (const outSl of outRl.scopeLogs) {
      const origSl = subToOrigSl.get(outSl);
      const fresh: LogRecord[] = [];
      for (const rec of outSl.logRecords) {
        if (matched.has(rec)) survivors.add(rec);
        else fresh.push(rec);
      }
      if (fresh.length === 0) continue;
      if (origSl) {
        const list = added.get(origSl);
        if (list) list.push(...fresh);
        else added.set(origSl, fresh);
      } else {
        extraScopes.push({ scope: outSl.scope, logRecords: fresh, schemaUrl: outSl.schemaUrl });
      }
    }
    if (extraScopes.length === 0) continue;
    if (origRl) origRl.scopeLogs.push(...extraScopes);
    else extraResources.push({ resource: outRl.resource, scopeLogs: extraScopes, schemaUrl: outRl.schemaUrl });
  }

  const touchedRl = new Set<ResourceLogs>(subToOrigRl.values());
  const touchedSl = new Set<ScopeLogs>(subToOrigSl.values());
  const resourceLogs: ResourceLogs[] = [];
  for (const rl of batch.resourceLogs) {
    if (!touchedRl.has(rl)) {
      resourceLogs.push(rl);
      continue;
    }
    const scopeLogs: ScopeLogs[] = [];
    for (const sl of rl.scopeLogs) {
      const more = added.get(sl);
      let records = sl.logRecords;
      if (records.some((r) => matched.has(r) && !survivors.has(r))) records = records.filter((r) => !matched.has(r) || survivors.has(r));
      if (more) records = records === sl.logRecords ? records.concat(more) : (records.push(...more), records);
      sl.logRecords = records;
      // Scopes emptied here are removed; scopes that were empty before are left as they were.
      if (records.length > 0 || !touchedSl.has(sl)) scopeLogs.push(sl);
    }
    rl.scopeLogs = scopeLogs;
    if (scopeLogs.length > 0) resourceLogs.push(rl);
  }
  batch.resourceLogs = resourceLogs.concat(extraResources);
  return batch;
}

