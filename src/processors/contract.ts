/**
 * The processor contract, modelled on the Collector's consumer.Logs and Vector's transforms:
 * a factory validates its options once (declared as config Options) and creates a processor;
 * a processor is a synchronous, pure transform of one batch through the record API
 * (src/records/types.ts). It may change records, drop them (each with a reason), or add new
 * ones. It does no I/O and keeps no timers: the chain runner times it, counts records in and
 * out, counts drops by reason, and — when it throws — puts the batch back as it was before it.
 * A processor that emits on its own schedule (at window ends) declares `flushIntervalMs`; the
 * runner then calls `flush` on that interval and at shutdown.
 */
import type { Logger } from 'pino';
import type { OptionShape, OptionValues } from '../config/options';
import type { LogBatch } from '../records/types';

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface ProcessorContext {
  readonly logger: Logger;
  readonly clock: Clock;
  /** Environment the service runs in (for processors that read Downward-API style values). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * The service's own resource attributes (those the `resource` processor resolves from
   * OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME, K8S_* and OLP_RESOURCE_ATTRIBUTES), for the
   * resource of records a processor creates itself. Absent outside a service.
   */
  readonly resource?: readonly (readonly [string, string])[];
  /** Exporter names in OLP_EXPORTERS order (what `route` may send to). Absent outside a service. */
  readonly exporters?: readonly string[];
  /** Processor names in chain order (lets a processor check what runs before it). */
  readonly chain?: readonly string[];
}

export interface Processor {
  /** Transforms the batch: reads and changes its records, drops some (`record.drop(reason)`), adds some. */
  process(batch: LogBatch): void;
  /** State the runner persists for the processor (periodically and at shutdown) and restores at start. */
  readonly state?: PersistentState;
  /**
   * Cumulative counts the processor keeps while transforming (e.g. matches per detector). The
   * runner exports them as olp_processor_events_total{processor, event}; the processor only counts.
   */
  readonly counts?: ReadonlyMap<string, number>;
  /**
   * Per-dimension counts of the last complete window (dimension → value → count), for windowed
   * processors. The runner exports them as olp_processor_window_records{processor, dimension, value}.
   */
  readonly windowCounts?: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /**
   * True for a processor that thins the incoming stream (sampling, rate limiting,
   * deduplication): records another processor emitted on its own (window summaries) skip it,
   * being the service's own accounting rather than traffic.
   */
  readonly thins?: boolean;
  /**
   * The `limit` most frequent templates the processor keeps (classify), for GET /api/templates.
   * Called on request only: a processor keeps their figures in its own structures.
   */
  templates?(limit: number): TemplateSummary[];
  /** How often the runner calls `flush` (milliseconds). */
  readonly flushIntervalMs?: number;
  /**
   * Called by the runner every `flushIntervalMs` with the clock's time, and once with
   * `final` true at shutdown. Records added to `out` are emitted: they pass through the
   * processors after this one and on to the exporters.
   */
  flush?(now: number, final: boolean, out: LogBatch): void;
}

/**
 * A processor's durable state. The processor only converts to and from bytes; the runner owns
 * the file, the timer, checksums and atomic replacement.
 */
export interface PersistentState {
  /** File the state is kept in. */
  readonly path: string;
  /** How often to save while running; 0 saves only at shutdown. */
  readonly intervalMs: number;
  snapshot(): Uint8Array;
  /** Loads a snapshot; throws when the content is not valid (the runner logs it and starts empty). */
  restore(data: Uint8Array): void;
}

export interface ProcessorFactory<S extends OptionShape = OptionShape> {
  /** Name used in OLP_PROCESSORS, and the OLP_<NAME>_* option prefix. */
  readonly name: string;
  /** One line for --help and README. */
  readonly summary: string;
  readonly options: S;
  /**
   * False when the processor's state must be one instance for the whole service (windows,
   * rate limits, deduplication, persisted state): the chain then runs on one thread. Default true.
   */
  readonly parallel?: boolean | ((options: OptionValues<S>) => boolean);
  /** Called once at start-up with validated, frozen options. Throws for invalid combinations. */
  create(options: OptionValues<S>, ctx: ProcessorContext): Processor;
}

/** Thrown by `create` for an invalid option value or combination; start-up reports it naming the env var. */
export class OptionError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
    this.name = 'OptionError';
  }
}

/** Helps TypeScript infer the option types of a factory literal. */
export function defineProcessor<S extends OptionShape>(factory: ProcessorFactory<S>): ProcessorFactory<S> {
  return factory;
}

/** Severity buckets of template summaries: severity_number 0, 1–4, 5–8, … 21–24. */
export const SEVERITY_BUCKETS = ['unspecified', 'trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export type SeverityMix = Readonly<Record<(typeof SEVERITY_BUCKETS)[number], number>>;

/** A template as the admin API reports it. */
export interface TemplateSummary {
  readonly id: string;
  readonly text: string;
  readonly count: number;
  /** Milliseconds since the epoch; 0 when not seen since the start (restored from a snapshot). */
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly severities: SeverityMix;
  /** The first record's text as the processor saw it (redacted when `redact` runs before it). */
  readonly example: string;
}

/** One processor's templates, as one chain (a thread) reports them. */
export interface ProcessorTemplates {
  readonly processor: string;
  readonly templates: readonly TemplateSummary[];
}
